"""The database of documents, chunks, sentence vectors and conversations: SQLite in the data directory (the
default) or PostgreSQL (`database_url` / HOIDAP_DATABASE_URL, several `hoidap serve` replicas share it).

Both are used through one small interface, the subset of `sqlite3.Connection` the store and the conversations
use: `execute`, `executemany`, `with db:` (one transaction), plus `data_version()` (changes another process
committed) and `snapshot()` (one consistent read).  The SQL is written once, in the dialect both engines
share (`?` placeholders, `INSERT ... ON CONFLICT ... DO UPDATE`); the PostgreSQL side turns `?` into psycopg's
`%s`.  Why not SQLAlchemy: it would mean writing every query anew, for two engines that already accept the
same SQL text; psycopg 3 (with its pool) is the maintained driver underneath either way.

PostgreSQL's schema is versioned (table `schema_version`): each migration in MIGRATIONS runs once, under an
advisory lock, so replicas started together do not race.
"""
from __future__ import annotations

import re
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

# PostgreSQL schema, one entry per version: never edit a released entry, add the next one
MIGRATIONS = [
    """
    CREATE TABLE collections (
      name TEXT PRIMARY KEY, chroma_name TEXT NOT NULL, embed_model TEXT NOT NULL, created DOUBLE PRECISION,
      generation BIGINT DEFAULT 0);
    CREATE TABLE documents (
      collection TEXT, doc_id TEXT, source TEXT, title TEXT, sha256 TEXT, size BIGINT, n_chunks INTEGER,
      status TEXT, text TEXT, updated DOUBLE PRECISION, meta TEXT DEFAULT '{}', PRIMARY KEY (collection, doc_id));
    CREATE TABLE chunks (
      collection TEXT, chunk_id TEXT, doc_id TEXT, idx INTEGER, start INTEGER, "end" INTEGER, page INTEGER,
      heading TEXT, text TEXT, exact BYTEA, folded BYTEA, label TEXT DEFAULT '', marks TEXT DEFAULT '[]',
      ocr INTEGER DEFAULT 0, PRIMARY KEY (collection, chunk_id));
    CREATE INDEX chunks_doc ON chunks (collection, doc_id);
    CREATE TABLE sentences (
      collection TEXT, chunk_id TEXT, start INTEGER, vec BYTEA, PRIMARY KEY (collection, chunk_id, start));
    CREATE TABLE conversations (
      id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, collection TEXT NOT NULL,
      created DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL);
    CREATE INDEX conversations_owner ON conversations (owner);
    CREATE TABLE turns (
      conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE, i INTEGER NOT NULL,
      payload TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, PRIMARY KEY (conversation, i));
    CREATE TABLE preferences (owner TEXT PRIMARY KEY, settings TEXT NOT NULL, updated DOUBLE PRECISION NOT NULL);
    """,
]
_LOCK_ID = 0x686F6964  # "hoid": the advisory lock migrations hold


class DatabaseError(Exception):
    """The database cannot be used; the message names it."""


class SqliteDatabase:
    """A SQLite file, shared by the threads of one process (one connection, as before)."""

    kind = "sqlite"

    def __init__(self, path: Path, timeout: float = 60):
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, timeout=timeout)
        self.conn.execute("PRAGMA journal_mode=WAL")

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows):
        return self.conn.executemany(sql, rows)

    def executescript(self, sql: str) -> None:
        self.conn.executescript(sql)

    def commit(self) -> None:
        self.conn.commit()

    def __enter__(self):
        return self.conn.__enter__()

    def __exit__(self, *exc):
        return self.conn.__exit__(*exc)

    def data_version(self):
        """Changes when ANOTHER connection commits (own writes are followed in memory)."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    @contextmanager
    def snapshot(self):
        """One read transaction: every query inside sees the same committed state."""
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.commit()

    def table_columns(self, table: str) -> set[str]:
        return {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}

    def describe(self) -> str:
        return f"SQLite {self.path}"


class _Rows:
    """A finished statement's rows (the connection went back to the pool): iterate or fetch."""

    def __init__(self, rows: list):
        self._rows, self._i = rows, 0

    def __iter__(self):
        return iter(self._rows[self._i:])

    def fetchone(self):
        if self._i >= len(self._rows):
            return None
        self._i += 1
        return self._rows[self._i - 1]

    def fetchall(self):
        out, self._i = self._rows[self._i:], len(self._rows)
        return out


def _pg_sql(sql: str) -> str:
    # the SQL here has no '?' or '%' inside literals: both are placeholders or LIKE patterns passed as values
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresDatabase:
    """A PostgreSQL database through a psycopg connection pool.  A statement outside `with db:` runs on a
    pooled connection in autocommit; `with db:` (and `snapshot()`) keeps one connection for this thread until
    the transaction ends, as sqlite3's shared connection would."""

    kind = "postgres"

    def __init__(self, url: str, max_size: int = 8):
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise DatabaseError("database_url is set but psycopg is not installed: pip install -e \".[cluster]\"") from None
        self.url = url
        self._psycopg = psycopg
        self._local = threading.local()
        try:
            psycopg.connect(url, connect_timeout=10).close()  # fail at once with the server's reason
            self.pool = ConnectionPool(url, min_size=1, max_size=max_size, kwargs={"autocommit": True},
                                       open=True, timeout=30, name="hoidap")
            self.pool.wait(timeout=15)
        except Exception as e:
            raise DatabaseError(f"PostgreSQL at {self.describe()} is unreachable: {_first_line(e)}") from None
        self.migrate()

    def describe(self) -> str:
        return re.sub(r"//([^:@/]+):[^@/]*@", r"//\1:***@", self.url)  # never the password

    # -- statements ---------------------------------------------------------------------------------
    def _tx(self):
        return getattr(self._local, "conn", None)

    def execute(self, sql: str, params=()):
        conn = self._tx()
        if conn is not None:
            return conn.execute(_pg_sql(sql), params)
        with self.pool.connection() as conn:
            cur = conn.execute(_pg_sql(sql), params)
            return _Rows(cur.fetchall() if cur.description else [])

    def executemany(self, sql: str, rows):
        rows = list(rows)
        conn = self._tx()
        if conn is not None:
            with conn.cursor() as cur:
                cur.executemany(_pg_sql(sql), rows)
            return
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(_pg_sql(sql), rows)

    def commit(self) -> None:
        """Nothing to do: statements outside `with db:` are committed as they run."""

    # -- transactions -------------------------------------------------------------------------------
    @contextmanager
    def _transaction(self, isolation: str = ""):
        if self._tx() is not None:  # nested: part of the enclosing transaction
            yield self
            return
        with self.pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    if isolation:
                        conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
                    yield self
            finally:
                self._local.conn = None

    def __enter__(self):
        cm = self._transaction()
        self._local.__dict__.setdefault("open", []).append(cm)  # per thread: `with db:` may nest
        return cm.__enter__()

    def __exit__(self, *exc):
        return self._local.open.pop().__exit__(*exc)

    def snapshot(self):
        return self._transaction("REPEATABLE READ")

    def data_version(self):
        """Changes with every committed change of chunks (each collection's generation) and of the collection
        list; own writes included."""
        return tuple(self.execute(
            "SELECT COALESCE(SUM(generation), 0), COUNT(*), COALESCE(MAX(created), 0) FROM collections").fetchone())

    # -- schema -------------------------------------------------------------------------------------
    def migrate(self) -> int:
        """Bring the schema to the last version; returns it."""
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied "
                         "DOUBLE PRECISION NOT NULL DEFAULT EXTRACT(EPOCH FROM now()))")
            have = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            for version, ddl in enumerate(MIGRATIONS[have:], start=have + 1):
                conn.execute(ddl)
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        return len(MIGRATIONS)

    def table_columns(self, table: str) -> set[str]:
        return {r[0] for r in self.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", (table,))}

    def close(self) -> None:
        self.pool.close()


def _first_line(e: Exception) -> str:
    s = str(e).strip()
    return (s.splitlines()[0] if s else type(e).__name__)[:200]


_shared: dict[str, PostgresDatabase] = {}
_shared_lock = threading.Lock()


def postgres(url: str) -> PostgresDatabase:
    """One pool per URL and process (the store and the conversations share it)."""
    with _shared_lock:
        if url not in _shared:
            _shared[url] = PostgresDatabase(url)
        return _shared[url]
