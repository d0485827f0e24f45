"""The lexical index (BM25 segments, memory-mapped) at 1k / 10k / 100k / 1M chunks: build, save, open, query, memory.

    .venv/bin/python bench/lexical_scale.py [--sizes 1000,10000,100000,1000000] [--work /tmp/hoidap-lex]

Rows are the real term arrays of XQuAD-vi and ViMedAQA chunks (`ingest.lexical.encode` of 160-token
chunks), repeated with 10 % of each row's terms replaced at random so copies are not identical. Each size is
built and saved in one subprocess (its peak RSS is the build's), then opened (memory-mapped) and queried with
real questions in another (its peak RSS is what a server holding the index pays).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from eval.data import public_path  # noqa: E402


def _rss() -> dict:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM", "RssAnon", "RssFile")):
            out[line.split(":")[0]] = int(line.split()[1]) // 1024
    return out


def _base_rows() -> list[tuple[np.ndarray, np.ndarray]]:
    from eval.sets import load_set
    from ingest.chunk import chunk_document
    from ingest.lexical import encode
    from ingest.normalize import normalize

    texts = list(load_set(public_path("xquad-vi")).contexts.values())
    texts += list(load_set(public_path("vimedaqa")).contexts.values())[:400]
    rows = []
    for t in texts:
        for c in chunk_document(normalize(t), lambda s: len(s) // 4, 160):
            rows.append(encode(c.text))
    return rows


def build(work: Path, size: int) -> None:
    from ingest.lexical import N_BUCKETS, BM25

    base = _base_rows()
    rng = np.random.default_rng(size)

    def rows():
        for i in range(size):
            ex, fo = base[i % len(base)]
            if i >= len(base):
                ex, fo = ex.copy(), fo.copy()
                k = max(1, len(ex) // 10)
                ex[rng.integers(0, len(ex), k)] = rng.integers(0, N_BUCKETS, k)
                fo[rng.integers(0, len(fo), k)] = rng.integers(0, N_BUCKETS, k)
            yield f"c{i}", ex, fo

    t = time.perf_counter()
    b = BM25.from_rows(rows(), path=work / f"lex-{size}")  # as the store builds: segment by segment to disk
    out = {"build_s": round(time.perf_counter() - t, 1),
           "segments": len(b.segments), "build_peak_rss_mb": _rss()["VmHWM"],
           "disk_mb": round(sum(f.stat().st_size for f in (work / f"lex-{size}").iterdir()) / 1e6)}
    print("RESULT " + json.dumps(out), flush=True)


def query(work: Path, size: int) -> None:
    from eval.sets import load_set
    from ingest.lexical import BM25

    qs = [it.question for it in load_set(public_path("vimedaqa")).items[:100]]
    r0 = _rss()
    t = time.perf_counter()
    b = BM25.load(work / f"lex-{size}")
    t_open = time.perf_counter() - t
    times = []
    for q in qs:
        t = time.perf_counter()
        b.search(q, 50)
        b.idf_mass(q)
        times.append(time.perf_counter() - t)
    r = _rss()
    out = {"open_s": round(t_open, 3), "query_p50_ms": round(1000 * float(np.percentile(times, 50)), 1),
           "query_p95_ms": round(1000 * float(np.percentile(times, 95)), 1),
           "anon_added_mb": r["RssAnon"] - r0["RssAnon"], "file_pages_mb": r["RssFile"] - r0["RssFile"],
           "peak_rss_mb": r["VmHWM"]}
    print("RESULT " + json.dumps(out), flush=True)


def _run(step: str, work: Path, size: int) -> dict:
    p = subprocess.run([sys.executable, __file__, step, "--work", str(work), "--sizes", str(size)],
                       capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
    if p.returncode or not line:
        raise SystemExit(f"{step} {size} failed:\n{p.stderr[-2000:]}")
    return json.loads(line[0][7:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", nargs="?", default="all", choices=["all", "build", "query"])
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    ap.add_argument("--work", type=Path, default=Path("/tmp/hoidap-lex"))
    ap.add_argument("--plot", default=str(ROOT / "docs/lexical_scaling.png"))
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in a.sizes.split(",")]
    if a.step != "all":
        (build if a.step == "build" else query)(a.work, sizes[0])
        return
    res = {}
    for size in sizes:
        res[size] = _run("build", a.work, size) | _run("query", a.work, size)
        print(size, json.dumps(res[size]), flush=True)
    print("| chunks | build s | build peak RSS MB | disk MB | open s | query p50 / p95 ms | heap added MB | "
          "mapped file pages resident MB |")
    print("|---|---|---|---|---|---|---|---|")
    for size, r in res.items():
        print(f"| {size:,} | {r['build_s']} | {r['build_peak_rss_mb']} | {r['disk_mb']} | {r['open_s']} | "
              f"{r['query_p50_ms']} / {r['query_p95_ms']} | {r['anon_added_mb']} | {r['file_pages_mb']} |")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    xs = list(res)
    ax.plot(xs, [res[s]["query_p95_ms"] for s in xs], "o-", label="query p95 ms")
    ax.plot(xs, [res[s]["anon_added_mb"] for s in xs], "s-", label="heap added by open+queries MB")
    ax.plot(xs, [res[s]["build_peak_rss_mb"] for s in xs], "^-", label="build peak RSS MB")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks")
    ax.legend(fontsize=8)
    ax.set_title("BM25 segments, memory-mapped")
    fig.tight_layout()
    fig.savefig(a.plot, dpi=110)


if __name__ == "__main__":
    main()
