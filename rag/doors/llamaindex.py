"""hoidap inside a llama-index application (README "Use it from llama-index").

`HoidapRetriever` is hoidap's hybrid retriever (dense + BM25, fused) as a llama-index `BaseRetriever`: nodes
carry the document, page, article label and the offsets into the source text.  `HoidapQueryEngine` answers
with hoidap's pipeline (refusal, verified citations) and returns the cited passages as `source_nodes`.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.components import Components
from rag.retrieve import Retriever
from rag.service import Service, answer_payload
from rag.settings import load_settings

# what a node's metadata leaves out: the text is the node's, the rest is scoring detail
_NOT_METADATA = ("text", "norm", "score", "dense", "bm25", "marks", "n", "sentence_vecs", "page_starts", "ocr_pages")


def _node(item, score: float) -> NodeWithScore:
    """An Evidence or a Citation as a node: metadata doc_id, source, title, page, label, start, end, ..."""
    meta = {k: v for k, v in asdict(item).items() if k not in _NOT_METADATA}
    node_id = getattr(item, "chunk_id", None) or f"{item.doc_id}:{item.start}:{item.end}"
    return NodeWithScore(node=TextNode(id_=node_id, text=item.text, metadata=meta), score=score)


class HoidapRetriever(BaseRetriever):
    """hoidap's retriever in llama-index: `retrieve(question)` gives NodeWithScore (text == source[start:end])."""

    def __init__(self, retriever: Retriever, top_k: int | None = None, **kw: Any):
        self._r, self._top_k = retriever, top_k
        super().__init__(**kw)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [_node(h, h.score) for h in self._r.retrieve(query_bundle.query_str, self._top_k)]


class HoidapQueryEngine(CustomQueryEngine):
    """hoidap's answer (with `[n]` markers, or the refusal) as a llama-index Response; `source_nodes` are the
    cited passages in `[n]` order, `metadata` the whole answer payload (docs/api.md)."""

    service: Any
    collection: str | None = None

    def custom_query(self, query_str: str) -> Response:
        a = self.service.ask(query_str, collection=self.collection, create=False)
        return Response(response=a.answer, source_nodes=[_node(c, c.score) for c in a.citations],
                        metadata=answer_payload(a))


def _components(home: str | Path | None, **settings: Any) -> Components:
    return Components(load_settings(home=home, **settings))


def hoidap_retriever(home: str | Path | None = None, collection: str | None = None, **settings: Any) -> HoidapRetriever:
    """The retriever over a hoidap data directory (settings as in hoidap.toml: retriever, top_k, ...)."""
    comp = _components(home, collection=collection, **settings)
    return HoidapRetriever(comp.retriever(create=False))


def hoidap_query_engine(home: str | Path | None = None, collection: str | None = None, **settings: Any) -> HoidapQueryEngine:
    """A query engine answering with hoidap's pipeline (llm = local | openai | ollama | none)."""
    comp = _components(home, collection=collection, **settings)
    return HoidapQueryEngine(service=Service(comp), collection=collection)
