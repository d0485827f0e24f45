"""Conversations kept in the data directory (SQLite): listed, resumed, renamed, deleted, exported with citations;
beside them, each login's own chat settings (its changes to the server's defaults).

Each conversation belongs to an owner (the login's user name; "" without logins) and holds its turns as
answer payloads (docs/api.md), so an export carries every citation with its offsets.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

from rag.errors import NotFound

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, collection TEXT NOT NULL,
  created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
  conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE, i INTEGER NOT NULL,
  payload TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (conversation, i));
CREATE TABLE IF NOT EXISTS preferences (owner TEXT PRIMARY KEY, settings TEXT NOT NULL, updated REAL NOT NULL);
"""
TITLE_MAX = 80


class Conversations:
    def __init__(self, home: Path, database_url: str | None = None):
        """In DATA_DIR/conversations.db, or in PostgreSQL beside the documents (`database_url`): then every
        replica serving that database continues any conversation."""
        from ingest.db import SqliteDatabase, postgres

        if database_url:
            self.db = postgres(database_url)
        else:
            Path(home).mkdir(parents=True, exist_ok=True)
            self.db = SqliteDatabase(Path(home) / "conversations.db", timeout=30)
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)
        self.lock = threading.Lock()

    def create(self, owner: str, collection: str, title: str = "") -> dict:
        cid, now = uuid.uuid4().hex[:12], time.time()
        with self.lock, self.db:
            self.db.execute("INSERT INTO conversations (id, owner, title, collection, created, updated) "
                            "VALUES (?,?,?,?,?,?)",
                            (cid, owner, title.strip()[:TITLE_MAX], collection, now, now))
        return self._row(owner, cid)

    def list(self, owner: str) -> list[dict]:
        rows = self.db.execute(
            "SELECT c.id, c.title, c.collection, c.created, c.updated, COUNT(t.i) FROM conversations c "
            "LEFT JOIN turns t ON t.conversation = c.id WHERE c.owner = ? GROUP BY c.id ORDER BY c.updated DESC",
            (owner,)).fetchall()
        return [dict(zip(("id", "title", "collection", "created", "updated", "turns"), r)) for r in rows]

    def _row(self, owner: str, cid: str) -> dict:
        row = next((c for c in self.list(owner) if c["id"] == cid), None)
        if row is None:
            raise NotFound(f"no conversation '{cid}'")
        return row

    def get(self, owner: str, cid: str) -> dict:
        """The conversation with its turns (answer payloads, oldest first)."""
        conv = self._row(owner, cid)
        turns = self.db.execute("SELECT payload FROM turns WHERE conversation = ? ORDER BY i", (cid,)).fetchall()
        return {**conv, "turns": [json.loads(t[0]) for t in turns]}

    def history(self, owner: str, cid: str) -> list[tuple[str, str]]:
        return [(t["question"], t["answer"]) for t in self.get(owner, cid)["turns"]]

    def add_turn(self, owner: str, cid: str, payload: dict) -> None:
        """Append an answer; a conversation without a title takes its first question."""
        conv = self._row(owner, cid)
        now = time.time()
        with self.lock, self.db:
            self.db.execute("INSERT INTO turns (conversation, i, payload, created) "
                            "VALUES (?, (SELECT COUNT(*) FROM turns WHERE conversation = ?), ?, ?)",
                            (cid, cid, json.dumps(payload, ensure_ascii=False), now))
            title = conv["title"] or " ".join(payload["question"].split())[:TITLE_MAX]
            self.db.execute("UPDATE conversations SET updated = ?, title = ? WHERE id = ?", (now, title, cid))

    def rename(self, owner: str, cid: str, title: str) -> dict:
        title = " ".join((title or "").split())[:TITLE_MAX]
        if not title:
            raise ValueError("a conversation title cannot be empty")
        self._row(owner, cid)
        with self.lock, self.db:
            self.db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, cid))
        return self._row(owner, cid)

    def delete(self, owner: str, cid: str) -> None:
        self._row(owner, cid)
        with self.lock, self.db:
            self.db.execute("DELETE FROM conversations WHERE id = ?", (cid,))

    def export(self, owner: str, cid: str, fmt: str = "md") -> str:
        """Markdown (questions, answers with [n], the cited passages with file and offsets) or JSON."""
        conv = self.get(owner, cid)
        if fmt == "json":
            return json.dumps(conv, ensure_ascii=False, indent=1)
        if fmt != "md":
            raise ValueError(f"unknown export format '{fmt}' (md or json)")
        out = [f"# {conv['title'] or 'Cuộc trò chuyện'}", "", f"Bộ tài liệu: {conv['collection']}", ""]
        for t in conv["turns"]:
            out += [f"**Hỏi:** {t['question']}", "", f"**Đáp:** {t['answer']}", ""]
            for c in t["citations"]:
                where = Path(c["source"]).name + (f", trang {c['page']}" if c.get("page") else "")
                label = f" — {c['label']}" if c.get("label") else ""
                out.append(f"> [{c['n']}] {where}{label} [{c['start']}:{c['end']}]: {' '.join(c['text'].split())}")
            out.append("")
        return "\n".join(out)

    def preferences(self, owner: str) -> dict:
        """The owner's own settings changes ({} when none were saved)."""
        row = self.db.execute("SELECT settings FROM preferences WHERE owner = ?", (owner,)).fetchone()
        return json.loads(row[0]) if row else {}

    def set_preferences(self, owner: str, changes: dict) -> None:
        with self.lock, self.db:
            self.db.execute("INSERT INTO preferences (owner, settings, updated) VALUES (?, ?, ?) ON CONFLICT (owner) "
                            "DO UPDATE SET settings = excluded.settings, updated = excluded.updated",
                            (owner, json.dumps(changes, ensure_ascii=False), time.time()))
