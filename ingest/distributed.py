"""Ingest on a Ray cluster (`hoidap ingest PATH --ray ADDRESS`, `--ray auto`; docs/deploy.md).

The work that costs (load, OCR, normalize, chunk, embed, lexical terms) runs as one Ray task per file on any
node; the writes stay with ONE writer, this process, in the crash-safe order of `ingest.store`
(`replace_document`).  A task writes nothing, so a task whose worker dies is simply run again by Ray
(`max_retries`) and its file is written once, when a result comes back: a dead worker loses nothing and
duplicates nothing.  The file's bytes travel in Ray's object store, so workers need no shared file system.
"""
from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from pathlib import Path
from typing import Callable

from ingest.load import LoadError, read_bytes
from ingest.pipeline import (INDEX_VERSION, Summary, _Prepared, document_meta, document_title,
                             embed_chunks, files_to_ingest, finish,
                             lexical_terms, read_document, store_document)
from ingest.store import Collection, doc_id_for
from ingest.telemetry import INGEST_FILES, span

TASK_RETRIES = 3  # a file's task is run again this many times when its worker dies
_embedders: dict = {}  # per worker process: the embedder is loaded once, not per file


def prepare_file(name: str, data: bytes, embedder_name: str, chunk_tokens: int, overlap: int, max_bytes: int):
    """On a worker: one file's document, chunks, vectors and lexical terms (or its error), ready to write."""
    from ingest.embed import make_embedder

    emb = _embedders.get(embedder_name)
    if emb is None:
        emb = _embedders[embedder_name] = make_embedder(embedder_name, threads=1)
    with tempfile.TemporaryDirectory(prefix="hoidap-ray-") as tmp:
        path = Path(tmp) / Path(name).name  # the loader takes the type and the title's fallback from the name
        path.write_bytes(data)
        try:
            with span("ingest.file", file=name):
                doc, chunks = read_document(path, max_bytes, emb.count_tokens, chunk_tokens, overlap)
        except LoadError as e:
            return {"error": str(e)}
        except Exception as e:  # a parser bug on odd input fails this file only
            return {"error": f"cannot read: {type(e).__name__}: {e}"[:300]}
    meta = document_meta(doc)
    with span("ingest.embed", chunks=len(chunks)):
        vecs, svecs = embed_chunks(emb, [(doc.text, c) for c in chunks])
    return {"title": document_title(doc), "text": doc.text, "chunks": chunks, "meta": meta,
            "vecs": vecs, "svecs": svecs, "lex": [lexical_terms(c, meta) for c in chunks], "warnings": doc.warnings}


def connect(address: str) -> None:
    """Join the cluster at `address` ("auto": the one `ray start` made on this machine, else a new local one).
    Workers import this checkout's code first (a local cluster runs the same files as the driver)."""
    import ray

    if ray.is_initialized():
        return
    env = {"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}}
    kw = dict(runtime_env=env, logging_level=logging.ERROR, log_to_driver=False)
    try:
        ray.init(address=address, **kw)
    except ConnectionError:
        if address != "auto":
            raise
        ray.init(include_dashboard=False, **kw)


def ingest_on_ray(paths: list[Path], coll: Collection, embedder_name: str, address: str, *, chunk_tokens: int = 160,
                  overlap: int = 1, max_bytes: int = 25_000_000, include=None, exclude=None, prune: bool = False,
                  progress: Callable[[int, int, str], None] | None = None, in_flight: int | None = None) -> Summary:
    """As `ingest_paths`, with the files prepared on the cluster; `progress(done, total, name)` as results come."""
    import ray

    t0 = time.time()
    connect(address)
    task = ray.remote(max_retries=TASK_RETRIES, retry_exceptions=False)(prepare_file)
    s = Summary()
    files, pending = files_to_ingest(paths, coll, include, exclude, s)
    in_flight = in_flight or max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))  # bounded: bytes and vectors
    running: dict = {}

    def submit(path: Path) -> None:
        """Read a file (here: bytes are read only as tasks are started) and start its task unless unchanged."""
        source = str(path.resolve()) if path.exists() else str(path.absolute())
        doc_id = doc_id_for(source)
        try:
            data = read_bytes(path, max_bytes)
        except LoadError as e:
            s.failed.append({"path": source, "error": str(e)})
            return
        sha = hashlib.sha256(data).hexdigest()
        state = coll.doc_state(doc_id)
        if state == (sha, "ok") and doc_id not in pending and coll.index_version(doc_id) >= INDEX_VERSION:
            s.unchanged.append(source)
            return
        ref = task.remote(path.name, data, embedder_name, chunk_tokens, overlap, max_bytes)
        running[ref] = _Prepared(doc_id, source, "", sha, len(data), "", [], state is not None)

    queue = list(files)
    while queue or running:
        while queue and len(running) < in_flight:
            submit(queue.pop(0))
        if not running:
            continue
        ready, _ = ray.wait(list(running), num_returns=1)
        d = running.pop(ready[0])
        try:
            r = ray.get(ready[0])
        except ray.exceptions.RayError as e:  # every retry failed (e.g. the node is gone): this file only
            r = {"error": f"worker failed: {type(e).__name__}"}
        if "error" in r:
            INGEST_FILES.labels("failed").inc()
            s.failed.append({"path": d.source, "error": r["error"]})
        else:
            d.title, d.text, d.chunks, d.meta = r["title"], r["text"], r["chunks"], r["meta"]
            s.warnings += [{"path": d.source, "warning": w} for w in r["warnings"]]
            store_document(coll, d, r["vecs"], r["lex"], r["svecs"], s)
        if progress:
            progress(len(files) - len(queue) - len(running), len(files), Path(d.source).name)
    if progress:
        progress(len(files), len(files), "")
    return finish(coll, s, prune, t0)
