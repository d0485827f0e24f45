"""The HTTP API, served with the web chat by `hoidap serve` (docs/api.md).

- `POST /v1/chat/completions`: OpenAI-compatible (streamed or not); `model` = `hoidap` (the default
  collection) or `hoidap:<collection>`; the answer keeps its `[n]` markers and the whole answer payload
  (citations with offsets, `refused`, ...) rides in the extra field `hoidap` that OpenAI clients ignore.
- `GET /v1/models`: one model per collection.
- `/v1/collections...`: collections, documents (multipart upload as a background job, list, delete,
  re-index, a span of a source), `/v1/jobs/{id}`.

Routes are thin: every operation is `rag.service.Service`'s.  Errors are OpenAI-shaped:
`{"error": {"message", "type", "code"}}` with 401/403/404/413/422.
"""
from __future__ import annotations

import ipaddress
import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Iterator, Literal

import anyio
from fastapi import APIRouter, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field

from ingest.telemetry import instrument
from rag.conversation_state import STANDALONE_MARK
from rag.doors.guard import Guard
from rag.service import AnswerStream, NotFound, QuestionTooLong, Service
from rag.settings import SettingsError
from rag.service.uploads import UploadError, UploadTooLarge, check_content, check_upload, collection_dir

MODEL = "hoidap"
MAX_UPLOAD_FILES = 20
MAX_JSON_BYTES = 1_000_000  # any request but an upload: a question is at most max_question_chars
KEEPALIVE_S = 1.0  # a streamed answer sends an SSE comment this often while it works: a client that left is noticed


# -- serving policy: host, login, API keys ---------------------------------------------------------

def parse_auth(auth: str | None) -> tuple[str, str] | None:
    if not auth:
        return None
    user, sep, pw = auth.partition(":")
    if not sep or not user or not pw:
        raise ValueError("auth must be 'user:pass' (both non-empty)")
    return user, pw


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_serving(host: str, auth: str | None, api_keys: list[str] | None = None) -> tuple[str, str] | None:
    """The login to require; refuse a non-loopback host with neither a login nor an API key (everyone on the
    network could read the documents)."""
    creds = parse_auth(auth)
    if creds is None and not api_keys and not is_loopback(host):
        raise ValueError(
            f"refusing to serve on {host} without a login: anyone who can reach this address could read your "
            f"documents. Pass --auth user:pass (or set auth = \"user:pass\" in the settings file) and/or "
            f"--api-key KEY (HOIDAP_API_KEYS), or serve on 127.0.0.1.")
    return creds


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _error(status: int, message: str, code: str) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status_code=status)


# -- request and response shapes ---------------------------------------------------------------------

class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: the text ones
            return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's request; sampling fields (temperature, ...) are accepted and ignored: answers are grounded."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    hoidap: dict[str, Any] = Field(default_factory=dict, description="per-request settings, e.g. "
                                   '{"retriever": "bm25", "top_k": 3, "answer_style": "quote"}')


class ConversationRequest(BaseModel):
    collection: str | None = Field(None, description="default: the default collection")
    title: str = ""


class RenameRequest(BaseModel):
    title: str = Field(min_length=1, max_length=200)


class MessageRequest(BaseModel):
    content: str = Field(min_length=1)
    hoidap: dict[str, Any] = Field(default_factory=dict, description="per-request settings")


class CollectionRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100)


def split_messages(messages: list[Message]) -> tuple[str, list[tuple[str, str]]]:
    """The last user message is the question; earlier user→assistant turns are the chat history."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user" or not turns[-1].text().strip():
        raise ApiError(422, "the last message must be a non-empty user message (the question)", "no_question")
    history, pending = [], None
    for m in turns[:-1]:
        if m.role == "user":
            pending = m.text()
        elif pending is not None:
            history.append((pending, m.text()))
            pending = None
    return turns[-1].text().strip(), history


def content_of(p: dict) -> str:
    """The message content: a follow-up's answer opens with the question it was read as ("» …"), as in every
    door; `hoidap.answer` is the answer alone.  Sent back in `messages`, that line tells the next request what
    this turn was about."""
    if p["understood"].get("resolved"):
        return f"{STANDALONE_MARK}{p['standalone_question']}\n\n{p['answer']}"
    return p["answer"]


def completion(p: dict, model: str, cid: str) -> dict:
    return {"id": cid, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content_of(p)},
                         "finish_reason": "stop"}],
            "usage": None,  # not counted: the answer is composed from the documents, not sampled token by token
            "hoidap": p}


def _chunk(cid: str, model: str, delta: dict, finish: str | None = None, **extra) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


# -- the app --------------------------------------------------------------------------------------------

def create_app(svc: Service) -> FastAPI:
    """The API routes for one Service; `guarded` puts the key and size checks in front of it (and the chat)."""
    app = FastAPIOffline(title="hoidap API", version="1", description=__doc__,
                         openapi_tags=[{"name": "openai", "description": "OpenAI-compatible"},
                                       {"name": "documents", "description": "collections, documents, jobs"}])
    if svc.settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=svc.settings.cors_origins, allow_methods=["*"],
                           allow_headers=["*"])
    _handlers(app)
    app.include_router(openai_router(svc))
    app.include_router(documents_router(svc))
    app.include_router(conversations_router(svc))
    instrument(app)
    return app


def guarded(app, svc: Service, *, host: str = "127.0.0.1", auth: str | None = None) -> Guard:
    """The served app behind rag.doors.guard: a key is required when keys are configured, and on a non-loopback host
    (where the chat's login, `auth` or the settings', is accepted too); sizes are checked before the body."""
    s = svc.settings
    return Guard(app, keys=s.api_keys, login=parse_auth(auth if auth is not None else s.auth),
                 required=bool(s.api_keys) or not is_loopback(host), loopback=is_loopback(host),
                 allowed_origins=s.cors_origins, json_limit=MAX_JSON_BYTES,
                 upload_limit=int(MAX_UPLOAD_FILES * s.upload_max_mb * 1e6 + 1e6))


# exception -> (status, code): every error a person can act on, OpenAI-shaped (UploadTooLarge before its base)
ERRORS = [(NotFound, 404, "not_found"), (UploadTooLarge, 413, "file_too_large"), (UploadError, 422, "invalid_file"),
          (QuestionTooLong, 413, "question_too_long"),
          (SettingsError, 422, "invalid_settings"), (ValueError, 422, "invalid_value")]


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_, e: ApiError):
        return _error(e.status, e.message, e.code)

    for exc, status, code in ERRORS:
        async def handler(_, e, status=status, code=code):
            return _error(status, str(e), code)
        app.add_exception_handler(exc, handler)

    @app.exception_handler(RequestValidationError)
    async def invalid(_, e: RequestValidationError):
        msgs = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        return _error(422, f"invalid request: {msgs}", "invalid_request")


def collection_of(svc: Service, model: str) -> str:
    """`hoidap` is the default collection; `hoidap:<name>` a collection that must exist."""
    name, sep, coll = model.partition(":")
    if name == MODEL and not sep:
        return svc.settings.collection
    if name == MODEL and coll in svc.collection_names():
        return coll
    known = ", ".join([MODEL, *(f"{MODEL}:{c}" for c in svc.collection_names())])
    raise ApiError(404, f"model '{model}' does not exist: use one of {known} (GET /v1/models)", "model_not_found")


def openai_router(svc: Service) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["openai"])

    @r.get("/models")
    def models() -> dict:
        return {"object": "list", "data": [_model(i) for i in _model_ids(svc)]}

    @r.get("/models/{model_id}")
    def model(model_id: str) -> dict:
        collection_of(svc, model_id)  # 404 naming the models when unknown
        return _model(model_id)

    @r.post("/chat/completions")
    def chat_completions(req: ChatRequest, request: Request):
        collection = collection_of(svc, req.model)
        question, history = split_messages(req.messages)
        settings = svc.options(**req.hoidap)
        svc.check_question(question, settings)
        cid = "chatcmpl-" + uuid.uuid4().hex[:24]
        kw = dict(collection=collection, history=history, settings=settings)
        pieces = svc.ask_stream(question, idle=KEEPALIVE_S, **kw)
        if not req.stream:
            answer = anyio.from_thread.run(_answer_unless_gone, pieces, request)
            if answer is None:  # nobody is left to read a response
                return JSONResponse({"error": {"message": "client closed the request"}}, status_code=499)
            return completion(svc.shown(answer), req.model, cid)
        # Starlette cancels a stream whose client left without resuming it: the background task (run after
        # the response, finished or cancelled) closes the answer, which stops the generator at its next token
        return StreamingResponse(_sse(svc, pieces, req.model, cid, request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"}, background=BackgroundTask(pieces.close))

    return r


def _model_ids(svc: Service) -> list[str]:
    return [MODEL] + [f"{MODEL}:{c}" for c in svc.collection_names()]


def _model(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": "hoidap"}


async def _answer_unless_gone(pieces: AnswerStream, request: Request):
    """The verified answer, or None when the client left before it was ready: a watcher waits for the client's
    disconnect and closes `pieces`, which stops the generator at its next token."""

    async def watch():
        while (await request.receive())["type"] != "http.disconnect":
            pass
        pieces.close()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(watch)
        try:
            while (piece := await anyio.to_thread.run_sync(next, pieces, None)) is not None:
                if not isinstance(piece, str):
                    return piece
            return None  # closed: the client left
        finally:
            tasks.cancel_scope.cancel()
            pieces.close()


async def _sse(svc: Service, pieces: Iterator, model: str, cid: str, request: Request) -> AsyncIterator[str]:
    """OpenAI's chunks carrying only the verified answer: a generated draft can lose sentences in verification
    and a stream cannot take text back, so while the answer is worked out only SSE comments go out, then the
    answer, then its payload. Between pieces (at least every KEEPALIVE_S) the client is checked: when it has
    left, closing `pieces` stops the generator at its next token."""
    yield _chunk(cid, model, {"role": "assistant", "content": ""})
    try:
        while (piece := await anyio.to_thread.run_sync(next, pieces, None)) is not None:
            if await request.is_disconnected():
                return
            if isinstance(piece, str):
                yield ": working\n\n"
                continue
            p = svc.shown(piece)
            yield _chunk(cid, model, {"content": content_of(p)})
            yield _chunk(cid, model, {}, "stop", hoidap=p)
    except Exception as e:  # the headers are sent: the error goes in the stream, as OpenAI's does
        yield f"data: {json.dumps({'error': {'message': str(e), 'type': 'server_error'}}, ensure_ascii=False)}\n\n"
    finally:
        pieces.close()
    yield "data: [DONE]\n\n"


def documents_router(svc: Service) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["documents"])

    @r.get("/collections")
    def list_collections() -> list[dict]:
        return svc.collections()

    @r.post("/collections", status_code=201)
    def create_collection(req: CollectionRequest) -> dict:
        return svc.create_collection(req.name)

    @r.delete("/collections/{name}")
    def delete_collection(name: str) -> dict:
        svc.delete_collection(name)
        return {"deleted": name}

    @r.get("/collections/{name}/documents")
    def list_documents(name: str) -> list[dict]:
        _existing(svc, name)
        return [{**d, "source": svc.public_source(d["source"])} for d in svc.documents(name)]

    @r.post("/collections/{name}/documents", status_code=202)
    def upload(name: str, files: list[UploadFile] = File(..., description="one or more files")) -> dict:
        """Stores the files (the whole request refused at once, naming the file, if one is too large, of an
        unsupported type or not what its extension says) and indexes them in the background: poll
        `GET /v1/jobs/{id}` until `state` is `done` or `failed` (a file that cannot be read is not kept)."""
        collection_dir(svc.settings.home, name)  # an invalid name is refused before anything is stored
        with tempfile.TemporaryDirectory(prefix="hoidap-upload-") as tmp:
            pairs = []
            for i, f in enumerate(files):
                path = Path(tmp) / str(i)
                with open(path, "wb") as out:
                    shutil.copyfileobj(f.file, out)
                try:
                    clean = check_upload(f.filename or "", path.stat().st_size, svc.settings.upload_max_mb)
                    check_content(path, Path(clean).suffix.lower())
                except UploadError as e:
                    raise type(e)(f"{f.filename}: {e}") from None
                pairs.append((path, f.filename or ""))
            return svc.start_upload(pairs, name).as_dict()

    @r.delete("/collections/{name}/documents/{doc_id}")
    def delete_document(name: str, doc_id: str) -> dict:
        _existing(svc, name)
        d = svc.delete_document(name, doc_id)
        return {"deleted": {**d, "source": svc.public_source(d["source"])}}

    @r.get("/collections/{name}/documents/{doc_id}/text")
    def source_span(name: str, doc_id: str, start: int = 0, end: int | None = None) -> dict:
        """A span of the document's text: a citation's `start`/`end` give exactly its `text`."""
        _existing(svc, name)
        span = svc.source_span(name, doc_id, start, end)
        return {**span, "source": svc.public_source(span["source"])}

    @r.post("/collections/{name}/reindex", status_code=202)
    def reindex(name: str) -> dict:
        return svc.start_reindex(name).as_dict()

    @r.get("/jobs/{job_id}")
    def job(job_id: str) -> dict:
        return svc.job(job_id).as_dict()

    return r


def _existing(svc: Service, name: str) -> None:
    if name not in svc.collection_names():
        raise NotFound(f"no collection named '{name}' (GET /v1/collections lists them)")


def conversations_router(svc: Service) -> APIRouter:
    """Stored conversations (the API's own; the chat's are per login)."""
    r = APIRouter(prefix="/v1/conversations", tags=["conversations"])
    owner = ""
    store = lambda: svc.conversations  # noqa: E731 - opened on first use

    @r.get("")
    def list_conversations() -> list[dict]:
        return store().list(owner)

    @r.post("", status_code=201)
    def create(req: ConversationRequest) -> dict:
        name = req.collection or svc.settings.collection
        if req.collection:
            _existing(svc, name)
        return store().create(owner, name, req.title)

    @r.get("/{cid}")
    def get(cid: str) -> dict:
        return store().get(owner, cid)

    @r.patch("/{cid}")
    def rename(cid: str, req: RenameRequest) -> dict:
        return store().rename(owner, cid, req.title)

    @r.delete("/{cid}")
    def delete(cid: str) -> dict:
        store().delete(owner, cid)
        return {"deleted": cid}

    @r.post("/{cid}/messages")
    def ask(cid: str, req: MessageRequest) -> dict:
        """Ask within the conversation (earlier turns are the history); returns the answer payload."""
        return svc.shown(svc.chat(req.content, cid, owner, settings=svc.options(**req.hoidap)))

    @r.get("/{cid}/export")
    def export(cid: str, format: Literal["md", "json"] = "md"):
        from fastapi.responses import PlainTextResponse

        media = "text/markdown; charset=utf-8" if format == "md" else "application/json"
        return PlainTextResponse(store().export(owner, cid, format), media_type=media,
                                 headers={"Content-Disposition": f'attachment; filename="{cid}.{format}"'})

    return r
