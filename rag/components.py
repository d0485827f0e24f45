"""The one place where settings choose the components: store, embedder, retriever, generator, answerer."""
from __future__ import annotations

import threading
from functools import cached_property

from rag.settings import Settings


class Components:
    """Lazily built components for one Settings: `hoidap --help` loads no model."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()

    @cached_property
    def store(self):
        from ingest.store import Store

        return Store(self.settings.home, self.settings.chroma_url, self.settings.database_url)

    @cached_property
    def embedder(self):
        from ingest.embed import make_embedder

        return make_embedder(self.settings.embedder)

    def collection(self, name: str | None = None, create: bool = True):
        return self.store.collection(name or self.settings.collection, self.embedder.model_id, create=create)

    def retriever(self, collection: str | None = None, mode: str | None = None, settings: Settings | None = None,
                  create: bool = True):
        """`settings`: one request's settings (the store, embedder and reranker stay the shared ones)."""
        from rag.retrieve import Retriever

        s = settings or self.settings
        return Retriever(self.collection(collection or s.collection, create=create), self.embedder,
                         mode or s.retriever, s.top_k, s.dense_weight, s.fusion, s.candidates, reranker=self.reranker,
                         sentence_weight=s.sentence_weight)

    @cached_property
    def reranker(self):
        from rag.retrieve.rerank import make_reranker

        return make_reranker(self.settings.reranker)

    def llm(self, kind: str | None = None, settings: Settings | None = None):
        s = settings or self.settings
        kind = kind or s.llm
        # one generator per configuration: a request naming another OpenAI URL gets its own client
        key = {"openai": (kind, s.openai_base_url, s.openai_model, s.openai_api_key),
               "ollama": (kind, s.ollama_url, s.ollama_model)}.get(kind, (kind,))
        with self._lock:
            cache = self.__dict__.setdefault("_llms", {})
            if key not in cache:
                cache[key] = self._make_llm(kind, s)
            return cache[key]

    def _make_llm(self, kind: str, s: Settings):
        if kind == "none":
            return None
        if kind == "openai":
            from rag.generate import openai_compatible

            return openai_compatible(s.openai_base_url, s.openai_model, s.openai_api_key, s.llm_timeout,
                                     s.max_tokens, s.llm_ctx)
        if kind == "ollama":
            from rag.generate import ollama

            return ollama(s.ollama_url, s.ollama_model, s.llm_timeout, s.max_tokens, s.llm_ctx)
        from rag.generate import LocalLLM
        from rag.generate.models import ensure_model

        path = s.llm_model_path or ensure_model(s.home / "models")
        return LocalLLM(model_path=str(path), threads=s.llm_threads, n_ctx=s.llm_ctx, max_tokens=s.max_tokens,
                        name="qwen2.5-coder-1.5b-instruct-q4_k_m")

    def answerer(self, collection: str | None = None, llm: str | None = None, mode: str | None = None,
                 settings: Settings | None = None, create: bool = True):
        from rag.answer import Answerer

        s = settings or self.settings
        return Answerer(self.retriever(collection, mode, s, create), self.llm(llm, s), context_passages=s.context_passages,
                        max_tokens=s.max_tokens, answerable_threshold=s.answerable_threshold,
                        answer_style=s.answer_style)
