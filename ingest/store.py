"""The index of one data directory: Chroma (vectors) + SQLite (documents, chunks) + BM25, kept in step.

Crash safety: a document is first marked `pending` in SQLite, then its vectors are replaced in
Chroma, then its chunk rows (and their sentence vectors) are replaced and it is marked `ok` in one SQLite
transaction.  Chunk ids carry the chunk's content hash, so a vector whose row is not committed is never
returned: dense hits are joined against committed rows.  A re-run redoes every `pending` document.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.db import DatabaseError, SqliteDatabase, postgres
from ingest.lexical import BM25

SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
  name TEXT PRIMARY KEY, chroma_name TEXT NOT NULL, embed_model TEXT NOT NULL, created REAL);
CREATE TABLE IF NOT EXISTS documents (
  collection TEXT, doc_id TEXT, source TEXT, title TEXT, sha256 TEXT, size INTEGER, n_chunks INTEGER,
  status TEXT, text TEXT, updated REAL, PRIMARY KEY (collection, doc_id));
CREATE TABLE IF NOT EXISTS chunks (
  collection TEXT, chunk_id TEXT, doc_id TEXT, idx INTEGER, start INTEGER, "end" INTEGER, page INTEGER,
  heading TEXT, text TEXT, exact BLOB, folded BLOB, PRIMARY KEY (collection, chunk_id));
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (collection, doc_id);
CREATE TABLE IF NOT EXISTS sentences (
  collection TEXT, chunk_id TEXT, start INTEGER, vec BLOB, PRIMARY KEY (collection, chunk_id, start));
"""
# a chunk's sentences' vectors (late chunking, ingest.late_chunking): float16, read for a query's top chunks only
SENTENCE_DTYPE = np.float16
# columns added after the first release: (table, column, type); added to an older data directory on open
ADDED_COLUMNS = [("collections", "generation", "INTEGER DEFAULT 0"),
                 ("documents", "meta", "TEXT DEFAULT '{}'"), ("chunks", "label", "TEXT DEFAULT ''"),
                 ("chunks", "marks", "TEXT DEFAULT '[]'"), ("chunks", "ocr", "INTEGER DEFAULT 0")]


class StoreError(Exception):
    """The vector store (embedded or server) cannot be used; the message names it."""


class EmbeddingMismatch(StoreError):
    pass


@dataclass
class ChunkRow:
    chunk_id: str
    doc_id: str
    idx: int
    start: int
    end: int
    page: int | None
    heading: str
    text: str  # normalized text
    source: str = ""
    title: str = ""
    label: str = ""
    marks: str = "[]"  # JSON [[offset, label], ...]
    ocr: int = 0
    meta: str = "{}"  # the document's metadata (JSON): number, type, page_starts, ocr_pages


def doc_id_for(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()[:12]


def chroma_name(name: str) -> str:
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", name).strip("-._")[:40] or "c"
    return f"hd-{slug}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


class Store:
    """All collections of one data directory."""

    def __init__(self, home: Path, chroma_url: str | None = None, database_url: str | None = None):
        """`database_url`: postgresql://... to keep the rows in PostgreSQL (shared by replicas); the data
        directory then holds only this machine's copy of the lexical index (and embedded Chroma, if used)."""
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.chroma_url = chroma_url
        if database_url:
            try:
                self.db = postgres(database_url)
            except DatabaseError as e:
                raise StoreError(str(e)) from None
        else:
            self.db = SqliteDatabase(self.home / "hoidap.db")
            self.db.executescript(SCHEMA)
            for table, column, kind in ADDED_COLUMNS:
                if column not in self.db.table_columns(table):
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            self.db.commit()
        self.lock = threading.RLock()
        self._client = None
        self._collections: dict[str, Collection] = {}
        self._seen_version = self.db.data_version()

    def sync(self) -> None:
        """Follow another process's writes (`hoidap ingest` beside `hoidap serve`): when another connection has
        committed to SQLite since the last look, the embedded Chroma client is opened anew, since the one open
        here keeps serving the vectors it had loaded (measured: a running server's dense search missed all 30
        documents a CLI ingest had added).  A Chroma server needs nothing: every query asks it."""
        with self.lock:
            version = self.db.data_version()
            if version == self._seen_version:
                return
            self._seen_version = version
            if self.chroma_url or self._client is None:
                return
            from chromadb.api.client import SharedSystemClient

            SharedSystemClient.clear_system_cache()  # a new PersistentClient would get the cached one
            self._client = None
            for c in self._collections.values():
                c._chroma = None

    @property
    def client(self):
        with self.lock:  # concurrent first requests of a server must not open Chroma twice
            return self._open_client()

    def _open_client(self):
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            cs = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            try:
                if self.chroma_url:
                    m = re.match(r"^(https?)://([^:/]+)(?::(\d+))?", self.chroma_url)
                    if not m:
                        raise StoreError(f"invalid Chroma URL '{self.chroma_url}' (expected http://HOST:PORT)")
                    self._client = chromadb.HttpClient(
                        host=m.group(2), port=int(m.group(3) or 8000), ssl=m.group(1) == "https", settings=cs
                    )
                    self._client.heartbeat()
                else:
                    self._client = chromadb.PersistentClient(str(self.home / "chroma"), settings=cs)
            except StoreError:
                raise
            except Exception as e:
                where = f"Chroma server at {self.chroma_url}" if self.chroma_url else f"Chroma in {self.home / 'chroma'}"
                raise StoreError(f"{where} is unreachable: {_short(e)}") from None
        return self._client

    def collection(self, name: str, embed_model: str, create: bool = True) -> "Collection":
        with self.lock:
            row = self.db.execute("SELECT chroma_name, embed_model FROM collections WHERE name=?", (name,)).fetchone()
            if row is None:
                if not create:
                    raise StoreError(f"no collection named '{name}' (see `hoidap collections list`)")
                # the first generation is unique, so a saved lexical index of a deleted collection of the same
                # name (on another replica, which did not delete its copy) is never taken for this one's
                with self.db:
                    self.db.execute(
                        "INSERT INTO collections (name, chroma_name, embed_model, created, generation) "
                        "VALUES (?,?,?,?,?)", (name, chroma_name(name), embed_model, time.time(), time.time_ns() // 1000))
                row = (chroma_name(name), embed_model)
            if row[1] != embed_model:
                raise EmbeddingMismatch(
                    f"collection '{name}' was embedded with {row[1]}, but the current embedder is {embed_model}: "
                    f"re-ingest with --reembed, or use another collection (vectors of two models are never mixed)"
                )
            if name not in self._collections:
                self._collections[name] = Collection(self, name, row[0], embed_model)
            return self._collections[name]

    def collections(self) -> list[dict]:
        rows = self.db.execute(
            "SELECT c.name, c.embed_model, COUNT(d.doc_id), CAST(COALESCE(SUM(d.n_chunks), 0) AS INTEGER) FROM collections c "
            "LEFT JOIN documents d ON d.collection=c.name AND d.status='ok' GROUP BY c.name ORDER BY c.name"
        ).fetchall()
        return [{"name": r[0], "embed_model": r[1], "documents": r[2], "chunks": r[3]} for r in rows]

    def _drop_vectors(self, name: str) -> bool:
        """Delete a collection's Chroma collection; False when the collection is unknown."""
        row = self.db.execute("SELECT chroma_name FROM collections WHERE name=?", (name,)).fetchone()
        if row is None:
            return False
        try:
            self.client.delete_collection(row[0])
        except StoreError:
            raise
        except Exception:
            pass  # already gone in Chroma
        return True

    def delete_collection(self, name: str) -> bool:
        with self.lock:
            if not self._drop_vectors(name):
                return False
            with self.db:
                for t in ("sentences", "chunks", "documents", "collections"):
                    self.db.execute(f"DELETE FROM {t} WHERE {'name' if t == 'collections' else 'collection'}=?", (name,))
            # a collection made again under this name starts at generation 0: its old saved index must go
            shutil.rmtree(self.home / "lexical" / chroma_name(name), ignore_errors=True)
            self._collections.pop(name, None)
            return True

    def reembed_collection(self, name: str, embed_model: str) -> None:
        """Drop the vectors of a collection so its documents are embedded again with another model.

        The document list is kept: every document is marked `pending`, and the next ingest re-reads and
        re-embeds each of them from its file (the files named on the command line and all the others).
        """
        with self.lock:
            if not self._drop_vectors(name):
                return
            with self.db:
                self.db.execute("DELETE FROM sentences WHERE collection=?", (name,))
                self.db.execute("DELETE FROM chunks WHERE collection=?", (name,))
                self.db.execute("UPDATE documents SET status='pending', sha256='' WHERE collection=?", (name,))
                self.db.execute("UPDATE collections SET generation = generation + 1 WHERE name=?", (name,))
                self.db.execute("UPDATE collections SET embed_model=? WHERE name=?", (embed_model, name))
            self._collections.pop(name, None)


def _short(e: Exception) -> str:
    s = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return s[:200]


class Collection:
    def __init__(self, store: Store, name: str, chroma: str, embed_model: str):
        self.store, self.name, self.chroma_name, self.embed_model = store, name, chroma, embed_model
        self.db, self.lock = store.db, store.lock
        self._chroma = None
        self._bm25: BM25 | None = None
        self._bm25_version = -1

    # -- Chroma -------------------------------------------------------------------------------
    @property
    def chroma(self):
        with self.lock:
            return self._open_chroma()

    def _open_chroma(self):
        if self._chroma is None:
            try:
                self._chroma = self.store.client.get_or_create_collection(
                    self.chroma_name,
                    metadata={"hnsw:space": "cosine", "hoidap_name": self.name, "embed_model": self.embed_model},
                    embedding_function=None,
                )
            except StoreError:
                raise
            except Exception as e:
                raise StoreError(f"Chroma collection '{self.name}' cannot be opened: {_short(e)}") from None
        return self._chroma

    def _chroma_call(self, what: str, fn, *a, **kw):
        try:
            return fn(*a, **kw)
        except Exception as e:
            self._chroma = None  # reconnect next time (a restarted server)
            where = f"Chroma server at {self.store.chroma_url}" if self.store.chroma_url else "Chroma"
            raise StoreError(f"{where} failed during {what}: {_short(e)}") from None

    # -- documents ----------------------------------------------------------------------------
    def doc_state(self, doc_id: str) -> tuple[str, str] | None:
        r = self.db.execute(
            "SELECT sha256, status FROM documents WHERE collection=? AND doc_id=?", (self.name, doc_id)
        ).fetchone()
        return (r[0], r[1]) if r else None

    def index_version(self, doc_id: str) -> int:
        """The index format a document was written with (1: before labels and document numbers)."""
        r = self.db.execute("SELECT meta FROM documents WHERE collection=? AND doc_id=?", (self.name, doc_id)).fetchone()
        return int(json.loads(r[0] or "{}").get("index_version", 1)) if r else 0

    def replace_document(self, doc_id: str, source: str, title: str, sha256: str, size: int, text: str,
                         chunks: list, vectors: np.ndarray, lexical: list[tuple[np.ndarray, np.ndarray]],
                         meta: dict | None = None, ocr_pages: frozenset = frozenset(),
                         sentences: list | None = None) -> None:
        """Replace every chunk of one document (crash-safe order, see module doc).  `sentences`: per chunk, its
        sentences' (document offset, vector), written in the same transaction as the chunks."""
        ids = [f"{doc_id}-{c.idx}-{c.hash[:8]}" for c in chunks]
        with self.lock:
            with self.db:
                self.db.execute(
                    "INSERT INTO documents (collection, doc_id, source, title, sha256, size, n_chunks, status, text, "
                    "updated) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(collection, doc_id) DO UPDATE "
                    "SET status='pending'",
                    (self.name, doc_id, source, title, sha256, size, len(chunks), "pending", "", time.time()),
                )
            self._chroma_call("delete", self.chroma.delete, where={"doc_id": doc_id})
            batch = max(1, min(5000, self.store.client.get_max_batch_size()))
            for i in range(0, len(ids), batch):
                sl = slice(i, i + batch)
                self._chroma_call(
                    "add", self.chroma.upsert, ids=ids[sl], embeddings=vectors[sl],
                    documents=[c.text for c in chunks[sl]],
                    metadatas=[{"doc_id": doc_id, "idx": c.idx, "start": c.start, "end": c.end} for c in chunks[sl]],
                )
            old = [r[0] for r in self.db.execute(
                "SELECT chunk_id FROM chunks WHERE collection=? AND doc_id=?", (self.name, doc_id))]
            with self.db:
                self._delete_sentences(doc_id)
                if sentences is not None:
                    self._insert_sentences(zip(ids, sentences))
                self.db.execute("DELETE FROM chunks WHERE collection=? AND doc_id=?", (self.name, doc_id))
                self.db.executemany(
                    'INSERT INTO chunks (collection, chunk_id, doc_id, idx, start, "end", page, heading, text, exact, '
                    "folded, label, marks, ocr) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(self.name, cid, doc_id, c.idx, c.start, c.end, c.page, c.heading, c.text,
                      lx[0].tobytes(), lx[1].tobytes(), c.label, json.dumps(c.marks, ensure_ascii=False),
                      int(c.page in ocr_pages)) for cid, c, lx in zip(ids, chunks, lexical)],
                )
                self.db.execute(
                    "UPDATE documents SET source=?, title=?, sha256=?, size=?, n_chunks=?, status='ok', text=?, "
                    "updated=?, meta=? WHERE collection=? AND doc_id=?",
                    (source, title, sha256, size, len(chunks), text, time.time(),
                     json.dumps(meta or {}, ensure_ascii=False), self.name, doc_id),
                )
                self._bump_generation()
            if self._bm25 is not None:
                for cid in old:
                    self._bm25.remove(cid)
                for cid, lx in zip(ids, lexical):
                    self._bm25.add(cid, *lx)

    def delete_document(self, doc_id: str) -> bool:
        with self.lock:
            if self.doc_state(doc_id) is None:
                return False
            with self.db:
                self.db.execute("UPDATE documents SET status='pending' WHERE collection=? AND doc_id=?", (self.name, doc_id))
            self._chroma_call("delete", self.chroma.delete, where={"doc_id": doc_id})
            old = [r[0] for r in self.db.execute(
                "SELECT chunk_id FROM chunks WHERE collection=? AND doc_id=?", (self.name, doc_id))]
            with self.db:
                self._delete_sentences(doc_id)
                self.db.execute("DELETE FROM chunks WHERE collection=? AND doc_id=?", (self.name, doc_id))
                self.db.execute("DELETE FROM documents WHERE collection=? AND doc_id=?", (self.name, doc_id))
                self._bump_generation()
            if self._bm25 is not None:
                for cid in old:
                    self._bm25.remove(cid)
            return True

    def _delete_sentences(self, doc_id: str) -> None:
        self.db.execute("DELETE FROM sentences WHERE collection=? AND chunk_id IN "
                        "(SELECT chunk_id FROM chunks WHERE collection=? AND doc_id=?)", (self.name, self.name, doc_id))

    def _insert_sentences(self, rows) -> None:
        self.db.executemany(
            "INSERT INTO sentences (collection, chunk_id, start, vec) VALUES (?,?,?,?) "
            "ON CONFLICT (collection, chunk_id, start) DO UPDATE SET vec = excluded.vec",
            [(self.name, cid, int(start), np.asarray(v, SENTENCE_DTYPE).tobytes())
             for cid, sents in rows for start, v in sents])

    def sentence_vectors(self, chunk_ids: list[str]) -> dict[str, dict[int, np.ndarray]]:
        """The stored sentence vectors of these chunks: chunk id -> {sentence's document offset: vector}."""
        out: dict[str, dict[int, np.ndarray]] = {}
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i:i + 500]
            for cid, start, vec in self.db.execute(
                    f"SELECT chunk_id, start, vec FROM sentences WHERE collection=? AND chunk_id IN "
                    f"({','.join('?' * len(part))})", (self.name, *part)):
                out.setdefault(cid, {})[start] = np.frombuffer(vec, SENTENCE_DTYPE).astype(np.float32)
        return out

    def chunks_without_sentences(self) -> list[str]:
        """Chunks of committed documents stored before sentence vectors were (an older data directory)."""
        return [r[0] for r in self.db.execute(
            "SELECT c.chunk_id FROM chunks c JOIN documents d ON d.collection=c.collection AND d.doc_id=c.doc_id "
            "WHERE c.collection=? AND d.status='ok' AND NOT EXISTS (SELECT 1 FROM sentences s WHERE "
            "s.collection=c.collection AND s.chunk_id=c.chunk_id) ORDER BY c.doc_id, c.idx", (self.name,))]

    def add_sentence_vectors(self, rows: list[tuple[str, list[tuple[int, np.ndarray]]]]) -> None:
        """Store sentence vectors for chunks already stored (`hoidap collections upgrade`); one transaction."""
        with self.lock, self.db:
            self._insert_sentences(rows)

    def documents(self) -> list[dict]:
        rows = self.db.execute(
            "SELECT doc_id, source, title, n_chunks, status, size, updated, meta FROM documents WHERE collection=? "
            "ORDER BY source", (self.name,)).fetchall()
        keys = ("doc_id", "source", "title", "chunks", "status", "size", "updated")
        out = []
        for r in rows:
            meta = json.loads(r[7] or "{}")
            out.append({**dict(zip(keys, r)), "number": meta.get("number", ""), "doc_type": meta.get("doc_type", ""),
                        "pages": len(meta.get("page_starts", [])) or None, "ocr_pages": meta.get("ocr_pages", []),
                        "number_confidence": meta.get("number_confidence"),
                        "title_confidence": meta.get("title_confidence")})
        return out

    def document_chunks(self, doc_id: str) -> list[dict]:
        """A document's chunks in order, with where each sits: page, legal label, heading, offsets."""
        rows = self.db.execute(
            'SELECT idx, page, label, heading, start, "end", ocr, text FROM chunks WHERE collection=? AND doc_id=? '
            "ORDER BY idx", (self.name, doc_id)).fetchall()
        keys = ("idx", "page", "label", "heading", "start", "end", "ocr", "text")
        return [{**dict(zip(keys, r)), "ocr": bool(r[6])} for r in rows]

    def find_documents(self, ref: str) -> list[str]:
        """Doc ids matching an id, a source path, or a file name."""
        rows = self.db.execute(
            "SELECT doc_id FROM documents WHERE collection=? AND (doc_id=? OR source=? OR source LIKE ?)",
            (self.name, ref, ref, "%/" + ref)).fetchall()
        if not rows and Path(ref).exists():
            rows = self.db.execute("SELECT doc_id FROM documents WHERE collection=? AND source=?",
                                   (self.name, str(Path(ref).resolve()))).fetchall()
        return [r[0] for r in rows]

    def document_meta(self, doc_id: str) -> dict:
        """The document's metadata: number, type, page_starts (PDF), ocr_pages."""
        r = self.db.execute("SELECT meta FROM documents WHERE collection=? AND doc_id=?", (self.name, doc_id)).fetchone()
        return json.loads(r[0] or "{}") if r else {}

    def document_text(self, doc_id: str) -> str | None:
        r = self.db.execute("SELECT text FROM documents WHERE collection=? AND doc_id=? AND status='ok'",
                            (self.name, doc_id)).fetchone()
        return r[0] if r else None

    def document_slice(self, doc_id: str, start: int, end: int) -> str:
        r = self.db.execute("SELECT substr(text, CAST(? AS INTEGER), CAST(? AS INTEGER)) FROM documents WHERE collection=? AND doc_id=?",
                            (start + 1, end - start, self.name, doc_id)).fetchone()
        return r[0] if r else ""

    def count_chunks(self) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM chunks c JOIN documents d ON d.collection=c.collection AND d.doc_id=c.doc_id "
            "WHERE c.collection=? AND d.status='ok'", (self.name,)).fetchone()[0]

    def chunks(self, chunk_ids: list[str]) -> dict[str, ChunkRow]:
        out: dict[str, ChunkRow] = {}
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i:i + 500]
            q = ",".join("?" * len(part))
            for r in self.db.execute(
                f'SELECT c.chunk_id, c.doc_id, c.idx, c.start, c."end", c.page, c.heading, c.text, d.source, d.title, '
                f"c.label, c.marks, c.ocr, d.meta "
                f"FROM chunks c JOIN documents d ON d.collection=c.collection AND d.doc_id=c.doc_id "
                f"WHERE c.collection=? AND d.status='ok' AND c.chunk_id IN ({q})", (self.name, *part)):
                out[r[0]] = ChunkRow(*r)
        return out

    # -- search -------------------------------------------------------------------------------
    # -- the lexical index ----------------------------------------------------------------------
    # Built segments are saved under DATA_DIR/lexical/<collection>/g<generation> and memory-mapped: the
    # generation counts committed chunk changes, so a saved index is used only while it matches SQLite.
    def _bump_generation(self) -> None:
        self.db.execute("UPDATE collections SET generation = generation + 1 WHERE name=?", (self.name,))

    def _lexical_dir(self) -> Path:
        return self.store.home / "lexical" / self.chroma_name

    def _lexical_rows(self):
        """Every committed chunk's term arrays, streamed (a cursor, not a list)."""
        cur = self.store.db.execute(
            "SELECT c.chunk_id, c.exact, c.folded FROM chunks c JOIN documents d ON "
            "d.collection=c.collection AND d.doc_id=c.doc_id WHERE c.collection=? AND d.status='ok'", (self.name,))
        for cid, ex, fo in cur:
            yield cid, np.frombuffer(ex, dtype=np.int32), np.frombuffer(fo, dtype=np.int32)

    def _generation(self) -> int:
        r = self.db.execute("SELECT generation FROM collections WHERE name=?", (self.name,)).fetchone()
        return int(r[0] or 0) if r else 0

    def _open_lexical(self) -> BM25:
        """The saved index of the current generation, memory-mapped; else built from SQLite and saved."""
        with self.db.snapshot():  # the generation and the rows it counts
            gen = self._generation()
            path = self._lexical_dir() / f"g{gen}"
            if (path / "segments.json").exists():
                try:
                    return BM25.load(path, loader=self._lexical_rows)
                except (OSError, ValueError, KeyError):
                    pass  # a damaged save: rebuild it
            tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
            try:  # written segment by segment as it is built, then moved into place
                b = BM25.from_rows(self._lexical_rows(), loader=self._lexical_rows, path=tmp)
                self._publish_lexical(tmp, path)
            except OSError:  # disk full or read-only: build in memory
                shutil.rmtree(tmp, ignore_errors=True)
                b = BM25.from_rows(self._lexical_rows(), loader=self._lexical_rows)
        return b

    @staticmethod
    def _publish_lexical(tmp: Path, path: Path) -> None:
        if path.exists():  # another process saved the same generation first
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.replace(tmp, path)  # open mappings follow the files, not the name
        for old in path.parent.iterdir():  # earlier generations (a reader's mapping outlives the files)
            if old.name != path.name and ".tmp" not in old.name:
                shutil.rmtree(old, ignore_errors=True)

    def save_lexical(self) -> None:
        """Build and save the lexical index now (end of an ingest), so `serve` maps it instead of building."""
        with self.lock:
            if not (self._lexical_dir() / f"g{self._generation()}" / "segments.json").exists():
                self._bm25 = self._open_lexical()
                self._bm25_version = self.db.data_version()

    @property
    def bm25(self) -> BM25:
        with self.lock:
            # PRAGMA data_version changes when ANOTHER connection commits (e.g. `hoidap ingest` run beside
            # `hoidap serve`): the index is then reopened from the saved or committed rows
            version = self.db.data_version()
            if self._bm25 is not None and version != self._bm25_version:
                self._bm25 = None
            if self._bm25 is None or self._bm25.stale:
                self._bm25_version = version
                self._bm25 = self._open_lexical()
            return self._bm25

    def dense_search(self, vector: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the nearest chunks."""
        self.store.sync()
        n = self._chroma_call("count", self.chroma.count)
        if n == 0:
            return []
        res = self._chroma_call("query", self.chroma.query, query_embeddings=[vector.tolist()],
                                n_results=min(limit, n), include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]

    def lexical_search(self, query: str, limit: int) -> list[tuple[str, float]]:
        with self.lock:
            return self.bm25.search(query, limit)

    def lexical_unaccented(self, query: str) -> bool:
        """Is the question searched as typed without diacritics (wholly or in part)? See BM25.unaccented."""
        with self.lock:
            return self.bm25.unaccented(query)

    def lexical_idf_mass(self, query: str) -> float:
        with self.lock:
            return self.bm25.idf_mass(query)

    def pending_documents(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT doc_id FROM documents WHERE collection=? AND status='pending'", (self.name,))]
