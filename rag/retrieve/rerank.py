"""Optional reranking of retrieved chunks: a sentence-transformers CrossEncoder the user provides.

None ships offline for Vietnamese, so the default is no reranker (`reranker` unset in settings);
`reranker = "cross-encoder:<local model path or name>"` turns it on.
"""
from __future__ import annotations

from typing import Protocol


class Reranker(Protocol):
    def score(self, query: str, texts: list[str]) -> list[float]: ...


class CrossEncoderReranker:
    def __init__(self, model: str):
        from sentence_transformers import CrossEncoder

        self._m = CrossEncoder(model, device="cpu")
        self.model_id = model

    def score(self, query: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        return [float(x) for x in self._m.predict([(query, t) for t in texts], show_progress_bar=False)]


def make_reranker(spec: str | None) -> Reranker | None:
    if not spec:
        return None
    if spec.startswith("cross-encoder:"):
        return CrossEncoderReranker(spec.split(":", 1)[1])
    raise ValueError(f"unknown reranker '{spec}' (use 'cross-encoder:<model path or name>')")
