"""Every operation a user can do, in one place: the CLI, the web chat and the HTTP API are thin layers over it.

Settings are per request: `Service.settings` holds the defaults (the settings file, env, flags) and
`Service.options(**changes)` gives a validated copy for one request or one chat session; nothing shared is
mutated by a request.  An answer leaves the service as `answer_payload(answer)`, the one answer schema
(docs/api.md), built from the dataclasses so new citation fields flow through.
"""
from __future__ import annotations

import gc
import queue
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ingest.formats import SUPPORTED as UPLOAD_FORMATS  # noqa: F401 (for the doors: what an upload may be)
from ingest.store import StoreError  # noqa: F401 (for the doors)
from ingest.telemetry import INGEST_QUEUE, setup_tracing  # noqa: F401 (for the doors)
from rag.errors import NotFound
from rag.settings import Settings, SettingsError
from rag.service.uploads import UploadError, check_collection_name, collection_dir, store_upload

# settings a request or a chat session may change for itself: how the answer is shaped, within the bounds
# rag.settings validates. Everything else (the generator, endpoints, keys, models, the store) is the
# operator's: a request naming it is refused, so no client can make the server call a URL or load a model
PER_REQUEST = ("retriever", "top_k", "answer_style", "dense_weight", "fusion", "context_passages")


def _answer_of(turn) -> str:
    return turn.get("answer", "") if isinstance(turn, dict) else turn[1]


class AnswerStream:
    """Service.ask_stream's iterator. `close()` may come from another thread while a piece is awaited (a server
    whose client left): it sets the stop the generator checks at every token, which a generator's own close()
    cannot do while it runs."""

    def __init__(self, pieces: Iterator, stop: threading.Event):
        self._pieces, self._stop = pieces, stop

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._pieces)

    def close(self) -> None:
        self._stop.set()
        try:
            self._pieces.close()
        except ValueError:  # running in another thread: it ends when the answer's work stops
            pass


class QuestionTooLong(ValueError):
    """A question over max_question_chars: refused before any work (HTTP 413)."""


def _next(q: queue.Queue, idle: float | None):
    try:
        return q.get(timeout=idle)
    except queue.Empty:
        return ""


def answer_payload(a) -> dict:
    """The one answer schema (docs/api.md): the Answer dataclass as JSON-able data."""
    d = asdict(a)
    d["timings"] = {k: v for k, v in d["timings"].items() if k != "generated"}
    return d


@dataclass
class Job:
    """A background ingest (upload or re-index) whose progress a client can poll."""

    kind: str
    collection: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: str = "queued"  # queued | running | done | failed
    done: int = 0
    total: int = 0
    current: str = ""
    rejected: list[dict] = field(default_factory=list)  # uploads refused before indexing: {name, error}
    summary: dict | None = None
    error: str = ""
    created: float = field(default_factory=time.time)

    def as_dict(self) -> dict:
        return asdict(self)


Progress = Callable[[int, int, str], None]


class Service:
    def __init__(self, comp):
        self.comp = comp
        self._ingest_lock = threading.Lock()  # one ingest or delete at a time
        self._jobs: dict[str, Job] = {}

    # -- settings ----------------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.comp.settings

    def options(self, **changes) -> Settings:
        """One request's settings: the defaults with `changes` (None = keep), validated; SettingsError if not."""
        unknown = sorted(set(changes) - set(PER_REQUEST))
        if unknown:
            raise SettingsError(f"invalid settings: {', '.join(unknown)} cannot be changed per request (the "
                                f"server operator's settings; allowed per request: {', '.join(PER_REQUEST)})")
        return self.settings.with_changes(**changes)

    def user_changes(self, owner: str, kept: dict | None = None) -> dict:
        """One chat user's settings changes: a login's are kept with its conversations, an anonymous browser's
        come from that browser (`kept`). Changes that are no longer valid are dropped (the defaults apply)."""
        changes = self.conversations.preferences(owner) if owner else dict(kept or {})
        try:
            self.options(**changes)
        except SettingsError:
            return {}
        return changes

    def save_user_settings(self, owner: str, **changes) -> dict:
        """Validate one user's settings (SettingsError if invalid) and return what differs from the defaults,
        kept with the login's data when there is a login. The shared defaults are never changed."""
        new = self.options(**changes)
        diff = {k: getattr(new, k) for k in changes if getattr(new, k) != getattr(self.settings, k)}
        if owner:
            self.conversations.set_preferences(owner, diff)
        return diff

    def user_settings(self, changes: dict) -> Settings:
        """The settings one user's answers use: the defaults with the user's valid changes."""
        try:
            return self.options(**changes)
        except SettingsError:
            return self.settings

    # -- answering ---------------------------------------------------------------------------------
    def check_question(self, question: str, settings: Settings | None = None) -> None:
        """QuestionTooLong before any work for a question over max_question_chars."""
        limit = (settings or self.settings).max_question_chars
        if len(question) > limit:
            raise QuestionTooLong(f"the question has {len(question)} characters; at most {limit} are read "
                                  "(max_question_chars)")

    def ask(self, question: str, *, collection: str | None = None, history: Sequence[tuple[str, str]] = (),
            settings: Settings | None = None, on_token: Callable[[str], None] | None = None,
            create: bool = True, state=None):
        """One answer; `history` is the chat so far, oldest first: answer payloads (the web chat's and stored
        conversations' turns) or (question, answer) pairs (the API's messages).  A follow-up is resolved against
        the conversation's state (rag.conversation_state), rebuilt from them.
        `create=False`: an unknown collection is NotFound instead of a new empty one.  `state`: a conversation kept
        live by its caller (`hoidap chat`), used instead of one rebuilt from `history`, and given this turn."""
        from llama_index.core.base.llms.types import ChatMessage

        from rag.conversation_state import ConversationState

        s = settings or self.settings
        self.check_question(question, s)
        # a client's (question, answer) pairs are bounded; stored turns (dicts) were bounded when asked
        history = [t if isinstance(t, dict) else (t[0][: s.max_question_chars], t[1][: 4 * s.max_question_chars])
                   for t in history]
        name = collection or s.collection
        if not create and name not in self.collection_names():
            raise NotFound(f"no collection named '{name}' (collections: {', '.join(self.collection_names()) or 'none'})")
        turns = list(history)
        state = state if state is not None else ConversationState.from_turns(turns)
        msgs = [ChatMessage(role=r, content=c) for q, a in zip(state.asked[-3:], [_answer_of(t) for t in turns][-3:])
                for r, c in (("user", q), ("assistant", a))]
        answerer = self.comp.answerer(collection=name, settings=s)
        return answerer.ask(question, history=msgs or None, on_token=on_token, state=state)

    def ask_stream(self, question: str, idle: float | None = None, **kw) -> "AnswerStream":
        """The answer's text as it comes (strings, coalesced), then the Answer itself; with `idle`, an empty
        string after each `idle` seconds without text (a server can then notice a client that left).
        Closing the stream (from any thread, even while it waits for text) stops the work: the generator stops
        at its next token."""
        stop = threading.Event()
        return AnswerStream(self._answer_pieces(question, idle, stop, **kw), stop)

    def _answer_pieces(self, question: str, idle: float | None, stop: threading.Event, **kw) -> Iterator:
        from rag.answer import Cancelled, cancel_event

        q: queue.Queue = queue.Queue()
        end = object()
        box: dict = {}

        def work():
            cancel_event.set(stop)
            try:
                box["answer"] = self.ask(question, on_token=q.put, **kw)
            except Cancelled:
                # the generator's HTTP stream sits in a reference cycle (openai's Stream and its iterator), so
                # it would close its connection only at the next cyclic collection: collect now, and the
                # backend stops generating for nobody
                gc.collect()
            except BaseException as e:  # re-raised in the caller's thread
                box["error"] = e
            finally:
                q.put(end)

        threading.Thread(target=work, daemon=True, name="hoidap-answer").start()
        try:
            while (item := _next(q, idle)) is not end:
                parts = [item]
                while not q.empty():  # a slow reader gets what piled up as one piece
                    nxt = q.get_nowait()
                    if nxt is end:
                        q.put(end)
                        break
                    parts.append(nxt)
                yield "".join(parts)
        finally:
            stop.set()
        if "error" in box:
            raise box["error"]
        if "answer" in box:  # else cancelled: the stream just ends
            yield box["answer"]

    def shown(self, a) -> dict:
        """The answer payload as the chat and the API show it: sources relative to the uploads folder or the
        server's working directory, never the server's absolute paths (the CLI shows what the user gave)."""
        p = answer_payload(a)
        for key in ("citations", "passages", "more"):
            for c in p.get(key) or []:
                c["source"] = self.public_source(c["source"])
        return p

    def public_source(self, source: str) -> str:
        path = Path(source)
        uploads = Path(self.settings.home).resolve() / "uploads"
        if uploads in path.parents:
            return path.relative_to(uploads).as_posix().split("/", 1)[-1]  # past the collection's folder
        if Path.cwd().resolve() in path.parents:
            return path.relative_to(Path.cwd().resolve()).as_posix()
        return "/".join(path.parts[-2:])

    # -- conversations (kept in the data directory) -------------------------------------------------
    @cached_property
    def conversations(self):
        from rag.service.conversations import Conversations

        return Conversations(self.settings.home, self.settings.database_url)

    def chat(self, question: str, conversation: str, owner: str = "", **kw):
        """Ask within a stored conversation (its turns are the history); the answer is added to it."""
        conv = self.conversations.get(owner, conversation)
        a = self.ask(question, collection=conv["collection"], history=conv["turns"], **kw)
        self.conversations.add_turn(owner, conversation, self.shown(a))
        return a

    # -- collections -------------------------------------------------------------------------------
    def collections(self) -> list[dict]:
        return self.comp.store.collections()

    def collection_names(self) -> list[str]:
        return [c["name"] for c in self.collections()]

    def create_collection(self, name: str) -> dict:
        name = check_collection_name((name or "").strip())
        self.comp.collection(name, create=True)
        return next(c for c in self.collections() if c["name"] == name)

    def delete_collection(self, name: str) -> None:
        with self._ingest_lock:
            if not self.comp.store.delete_collection(name):
                raise NotFound(f"no collection named '{name}'")

    def _collection(self, name: str | None, create: bool = False):

        try:
            return self.comp.collection(name or self.settings.collection, create=create)
        except StoreError as e:
            if "no collection named" in str(e):
                raise NotFound(str(e)) from None
            raise

    # -- documents ---------------------------------------------------------------------------------
    def documents(self, collection: str | None = None) -> list[dict]:
        """The documents of a collection ([] for a collection that does not exist yet: listing creates none)."""
        try:
            return self._collection(collection).documents()
        except NotFound:
            return []

    def document(self, collection: str | None, doc_id: str) -> dict:
        d = next((d for d in self.documents(collection) if d["doc_id"] == doc_id), None)
        if d is None:
            raise NotFound(f"no document '{doc_id}' in collection '{collection or self.settings.collection}'")
        return d

    def find_documents(self, collection: str | None, ref: str) -> list[str]:
        """Doc ids matching an id, a source path or a file name."""
        try:
            return self._collection(collection).find_documents(ref)
        except NotFound:
            return []

    def document_detail(self, collection: str | None, doc_id: str) -> dict:
        """A document's metadata and its chunks with their labels and pages: what was read from it."""
        d = dict(self.document(collection, doc_id))
        d["chunk_list"] = self._collection(collection).document_chunks(doc_id)
        return d

    def delete_document(self, collection: str | None, doc_id: str) -> dict:
        """Delete a document; the copy kept from an upload goes too, so re-indexing does not bring it back."""
        d = self.document(collection, doc_id)
        with self._ingest_lock:
            self._collection(collection).delete_document(doc_id)
        uploads = Path(self.settings.home).resolve() / "uploads"
        p = Path(d["source"])
        if uploads in p.parents and p.is_file():
            p.unlink()
        return d

    def source_span(self, collection: str | None, doc_id: str, start: int = 0, end: int | None = None) -> dict:
        """A span of a document's text (a cited passage: `text == document[start:end]`)."""
        d = self.document(collection, doc_id)
        text = self._collection(collection).document_text(doc_id) or ""
        end = len(text) if end is None else end
        if not 0 <= start <= end <= len(text):
            raise ValueError(f"span [{start}:{end}] is outside the document ({len(text)} characters)")
        return {"doc_id": doc_id, "source": d["source"], "title": d["title"], "start": start, "end": end,
                "length": len(text), "text": text[start:end]}

    def store_uploads(self, files: Sequence[tuple[str | Path, str]], collection: str | None) -> tuple[list[Path], list[dict]]:
        """Copy uploaded files (temporary path, original name) into the data directory, checked for size and
        type (the limits shared by the chat and the API); refused ones are returned with the reason."""
        dest = collection_dir(self.settings.home, collection or self.settings.collection)
        ok, rejected = [], []
        for src, name in files:
            try:
                ok.append(store_upload(src, name, dest, self.settings.upload_max_mb))
            except UploadError as e:
                rejected.append({"name": name, "error": str(e)})
            except OSError as e:
                rejected.append({"name": name, "error": f"không lưu được ({e.strerror})"})
        return ok, rejected

    def ingest(self, paths: Sequence[Path], collection: str | None, progress: Progress | None = None, *,
               max_mb: float | None = None, include: list[str] | None = None, exclude: list[str] | None = None,
               prune: bool = False, chunk_tokens: int | None = None, page_progress: Callable | None = None,
               ray: str | None = None, reembed: bool = False):
        """Index files and folders into a collection (created if new); returns ingest.pipeline.Summary.

        Every door ingests here.  A file over `max_mb` (default max_file_mb; uploads: upload_max_mb, checked
        already on receipt) is refused by name; `include`/`exclude` globs filter what is found (the CLI passes its
        flags, else the settings'; uploads are files the user chose and are not filtered).  `ray`: the address of
        a Ray cluster to load and embed on (ingest.distributed); `reembed`: drop the collection's vectors first
        (a new embedder)."""
        from ingest.pipeline import ingest_paths

        s = self.settings
        name = collection or s.collection
        kw = dict(chunk_tokens=chunk_tokens or s.chunk_tokens, overlap=s.chunk_overlap,
                  max_bytes=int((max_mb or s.max_file_mb) * 1e6), include=include or None, exclude=exclude or None,
                  prune=prune, progress=progress)
        with self._ingest_lock:
            if reembed:
                self.comp.store.reembed_collection(name, self.comp.embedder.model_id)
            coll = self._collection(name, create=True)
            if ray:
                from ingest.distributed import ingest_on_ray

                return ingest_on_ray(list(paths), coll, s.embedder, ray, **kw)
            return ingest_paths(list(paths), coll, self.comp.embedder, page_progress=page_progress, **kw)

    def reindex(self, collection: str | None, progress: Progress | None = None):
        """Read every document of a collection again (changed files are re-indexed).  Whichever door added a
        document, it is read again under the larger of the two size limits: nothing indexed is refused now."""
        s = self.settings
        paths = [Path(d["source"]) for d in self._collection(collection).documents()]
        return self.ingest(paths, collection, progress, max_mb=max(s.max_file_mb, s.upload_max_mb)) if paths else None

    def add_sentence_vectors(self, collection: str | None, progress: Callable[[int, int], None] | None = None
                             ) -> tuple[int, int]:
        """A collection made before sentence vectors, given them without re-embedding its chunks: (chunks done,
        chunks still without: this embedder cannot make them)."""
        from ingest.pipeline import add_sentence_vectors

        with self._ingest_lock:
            coll = self._collection(collection)
            done = add_sentence_vectors(coll, self.comp.embedder, progress)
            return done, len(coll.chunks_without_sentences())

    # -- background jobs ---------------------------------------------------------------------------
    def start_upload(self, files: Sequence[tuple[str | Path, str]], collection: str | None) -> Job:
        """Store the uploads now (refusals are known at once), index them in the background."""
        name = collection or self.settings.collection
        stored, rejected = self.store_uploads(files, name)
        job = Job("upload", name, rejected=rejected, total=len(stored))
        return self._start(job, lambda progress: self.ingest_uploads(stored, name, progress) if stored else None)

    def ingest_uploads(self, stored: list[Path], collection: str | None, progress: Progress | None = None):
        """Index stored uploads; a file that could not be read is removed from uploads/ (nothing would show or
        delete it); UploadError naming them when none could be read."""
        summary = self.ingest(stored, collection, progress, max_mb=self.settings.upload_max_mb)
        failed = {f["path"] for f in summary.failed}
        for p in stored:
            if str(p) in failed:
                p.unlink(missing_ok=True)
        if failed and not (summary.added or summary.updated or summary.unchanged):
            raise UploadError("; ".join(f"{Path(f['path']).name}: {f['error']}" for f in summary.failed))
        return summary

    def start_reindex(self, collection: str | None) -> Job:
        name = collection or self.settings.collection
        self._collection(name)  # NotFound now, not in the job
        return self._start(Job("reindex", name), lambda progress: self.reindex(name, progress))

    def job(self, job_id: str) -> Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise NotFound(f"no job '{job_id}' (jobs are kept until the server restarts)") from None

    def _start(self, job: Job, run: Callable[[Progress], object]) -> Job:
        self._jobs[job.id] = job

        def progress(i: int, n: int, name: str) -> None:
            job.done, job.total, job.current = i, n, Path(name).name if name else ""

        def work():
            job.state = "running"
            INGEST_QUEUE.inc()
            try:
                summary = run(progress)
                job.summary = summary.as_dict() if summary is not None else None
                job.state = "done"
            except Exception as e:  # reported through the job, never lost in a thread
                job.error, job.state = f"{type(e).__name__}: {e}", "failed"
            finally:
                INGEST_QUEUE.dec()

        threading.Thread(target=work, daemon=True, name=f"hoidap-job-{job.id}").start()
        return job
