"""Generators as llama-index LLMs: the bundled model on xllamacpp, and any OpenAI-compatible endpoint."""
from __future__ import annotations

import json
import os
import queue
import threading
from contextlib import contextmanager
from typing import Any, Sequence

from llama_index.core.base.llms.types import (ChatMessage, ChatResponse, ChatResponseGen, CompletionResponse,
                                               CompletionResponseGen, LLMMetadata)
from llama_index.core.llms.custom import CustomLLM
from pydantic import PrivateAttr

from rag.errors import GeneratorError  # noqa: F401 (re-exported: rag.generate.GeneratorError)


def _msgs(messages: Sequence[ChatMessage]) -> list[dict]:
    return [{"role": m.role.value, "content": m.content or ""} for m in messages]


class _StreamingLLM(CustomLLM):
    """Shared llama-index plumbing: subclasses implement `_stream(messages, max_tokens)`."""

    max_tokens: int = 192
    name: str = "llm"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name=self.name, is_chat_model=True, num_output=self.max_tokens)

    def _stream(self, messages: list[dict], max_tokens: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def stream_chat(self, messages: Sequence[ChatMessage], **kw: Any) -> ChatResponseGen:
        def gen():
            text = ""
            for delta in self._stream(_msgs(messages), kw.get("max_tokens", self.max_tokens)):
                text += delta
                yield ChatResponse(message=ChatMessage(role="assistant", content=text), delta=delta)
        return gen()

    def chat(self, messages: Sequence[ChatMessage], **kw: Any) -> ChatResponse:
        last = None
        for last in self.stream_chat(messages, **kw):
            pass
        return last or ChatResponse(message=ChatMessage(role="assistant", content=""))

    def stream_complete(self, prompt: str, formatted: bool = False, **kw: Any) -> CompletionResponseGen:
        def gen():
            text = ""
            for r in self.stream_chat([ChatMessage(role="user", content=prompt)], **kw):
                text += r.delta or ""
                yield CompletionResponse(text=text, delta=r.delta)
        return gen()

    def complete(self, prompt: str, formatted: bool = False, **kw: Any) -> CompletionResponse:
        r = self.chat([ChatMessage(role="user", content=prompt)], **kw)
        return CompletionResponse(text=r.message.content or "")


class LocalLLM(_StreamingLLM):
    """The bundled GGUF run in-process by xllamacpp (temperature 0)."""

    model_path: str
    threads: int = 2
    n_ctx: int = 4096
    _server: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)
    #: text pieces the model produced in its last run, read by a test that a closed stream stopped it
    last_run_pieces: int = 0

    def _ensure(self):
        if self._server is None:
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                import xllamacpp as x
            except ImportError:
                raise GeneratorError("the local generator needs the xllamacpp package (pip install xllamacpp)") from None
            p = x.CommonParams()
            p.model.path = self.model_path
            p.n_ctx = self.n_ctx
            p.n_parallel = 1
            p.cpuparams.n_threads = self.threads
            p.cpuparams_batch.n_threads = self.threads
            p.verbosity = -1
            p.cache_prompt = True
            try:
                self._server = x.Server(p)
            except Exception as e:
                raise GeneratorError(f"the local model {self.model_path} failed to load: {e}") from None
        return self._server

    def _stream(self, messages: list[dict], max_tokens: int):
        srv = self._ensure()
        q: queue.Queue = queue.Queue()
        req = {"messages": messages, "max_tokens": max_tokens, "temperature": 0.0, "stream": True,
               "cache_prompt": True}
        stopped = threading.Event()
        self.last_run_pieces = 0

        def cb(chunk) -> bool:  # True asks llama.cpp to stop generating
            if isinstance(chunk, str):
                chunk = json.loads(chunk)
            if "error" in chunk:
                q.put(GeneratorError(f"local model error: {chunk['error']}"))
                return True
            for ch in chunk.get("choices", []):
                d = (ch.get("delta") or {}).get("content")
                if d:
                    self.last_run_pieces += 1
                    q.put(d)
            return stopped.is_set()

        def run():
            try:
                with self._lock:
                    srv.handle_chat_completions(req, cb)
            except Exception as e:  # pragma: no cover - surfaced to the caller
                q.put(GeneratorError(f"local model failed: {e}"))
            finally:
                q.put(None)

        threading.Thread(target=run, daemon=True).start()
        try:
            while (item := q.get()) is not None:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:  # the reader stopped (an answer cancelled, a client gone): so does the model, at its next token
            stopped.set()


class _Guarded:
    """A llama-index LLM whose failures become GeneratorError (the answerer then falls back as for any
    generator): subclasses name them in `_failures`."""

    def stream_chat(self, messages: Sequence[ChatMessage], **kw: Any) -> ChatResponseGen:
        with self._failures():
            inner = super().stream_chat(messages, **kw)

        def gen():
            with self._failures():
                yield from inner
        return gen()

    def complete(self, prompt: str, formatted: bool = False, **kw: Any) -> CompletionResponse:
        with self._failures():
            return super().complete(prompt, formatted, **kw)


def openai_compatible(base_url: str, model: str, api_key: str = "", timeout: float = 60.0, max_tokens: int = 192,
                      context_window: int = 4096, max_retries: int = 1):
    """Any /v1/chat/completions endpoint (Ollama, vLLM, llama.cpp's server, OpenAI) through llama-index's
    OpenAI-like integration: streaming, timeouts and retries are the library's; it talks to `base_url` only
    (no tokenizer download: token counts are not needed)."""
    from llama_index.llms.openai_like import OpenAILike

    class OpenAICompatibleLLM(_Guarded, OpenAILike):
        """Failures (down, slow, HTTP errors, a malformed stream) become GeneratorError naming the server."""

        def _get_model_kwargs(self, **kw: Any) -> dict:
            out = super()._get_model_kwargs(**kw)
            if "max_tokens" in kw:  # a call's own limit (the library keeps the instance's)
                out["max_tokens"] = kw["max_tokens"]
            return out

        @contextmanager
        def _failures(self):
            import openai

            where = f"generator at {self.api_base}"
            try:
                yield
            except openai.APITimeoutError:
                raise GeneratorError(f"{where} timed out after {self.timeout:.0f} s") from None
            except openai.APIConnectionError as e:
                raise GeneratorError(f"{where} is unreachable: {type(e.__cause__ or e).__name__}") from None
            except openai.APIStatusError as e:
                raise GeneratorError(f"{where} answered HTTP {e.status_code}: {str(e.message)[:200]}") from None
            except (openai.OpenAIError, ValueError, KeyError, TypeError, AttributeError) as e:
                raise GeneratorError(f"{where} sent a malformed answer: {type(e).__name__}") from None

    return OpenAICompatibleLLM(model=model, api_base=base_url, api_key=api_key or "unused", timeout=timeout,
                               max_retries=max_retries, max_tokens=max_tokens, temperature=0.0,
                               is_chat_model=True, context_window=context_window)


def ollama(base_url: str, model: str, timeout: float = 60.0, max_tokens: int = 192, context_window: int = 4096):
    """A model served by Ollama through llama-index's Ollama integration (llama-index-llms-ollama)."""
    try:
        from llama_index.llms.ollama import Ollama
    except ImportError:
        raise GeneratorError("llm = \"ollama\" needs the llama-index-llms-ollama package "
                             "(pip install llama-index-llms-ollama)") from None

    class OllamaLLM(_Guarded, Ollama):
        @contextmanager
        def _failures(self):
            try:
                yield
            except Exception as e:  # httpx and ollama errors alike: the answer falls back, naming the server
                raise GeneratorError(f"Ollama at {self.base_url} failed: {type(e).__name__}: {str(e)[:150]}") from None

    return OllamaLLM(model=model, base_url=base_url, request_timeout=timeout, temperature=0.0,
                     context_window=context_window, additional_kwargs={"num_predict": max_tokens})
