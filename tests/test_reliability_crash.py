"""Issue 8: kill -9 the ingest at random points; a re-run leaves every document exactly once and the
lexical (SQLite/BM25) and vector (Chroma) indexes in agreement.  Also: files vanishing mid-run,
zero-width characters, and the Chroma server stopped mid-ingest and mid-query."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path


from conftest import HOIDAP, ROOT, cli_json, run_cli
from test_ingest_lifecycle import free_port, ids_agree, sentence_chunks, start_chroma, stop

CRASH_DOCS = 120
TRIALS = int(os.environ.get("HOIDAP_CRASH_TRIALS", "8"))  # more with HOIDAP_CRASH_TRIALS=50


def make_corpus(d: Path, n: int, version: int = 0) -> None:
    d.mkdir(exist_ok=True)
    for i in range(n):
        (d / f"doc{i:03d}.txt").write_text(
            f"Văn bản số {i} phiên bản {version}. Tỉnh {i % 63} có {i * 7} hộ dân trồng chè.", encoding="utf-8")


def state(home: Path) -> dict:
    db = sqlite3.connect(home / "hoidap.db")
    docs = db.execute("SELECT source, status, n_chunks FROM documents").fetchall()
    n_chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    db.close()
    return {"docs": docs, "chunks": n_chunks}


def committed(home: Path) -> int:
    """Documents an ingest has committed so far, read from its SQLite file by another connection."""
    try:
        db = sqlite3.connect(f"file:{home / 'hoidap.db'}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT COUNT(*) FROM documents WHERE status='ok'").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # not created yet (or its tables not yet)
        return 0


def wait_mid_run(p: subprocess.Popen, home: Path, timeout: float = 240) -> int:
    """Wait until the running ingest has committed its first documents; fail if it ends first or hangs."""
    deadline = time.monotonic() + timeout
    while (n := committed(home)) == 0:
        assert p.poll() is None, f"the ingest ended (exit {p.returncode}) before committing anything"
        assert time.monotonic() < deadline, f"no document committed within {timeout:.0f} s"
        time.sleep(0.02)
    assert p.poll() is None, "the ingest finished before the test could act mid-run"
    return n


def test_kill9_at_random_points_then_rerun(tmp_path):
    rng = random.Random(8)
    corpus = tmp_path / "corpus"
    make_corpus(corpus, CRASH_DOCS)
    clean = tmp_path / "clean"
    t = time.time()
    cli_json("ingest", str(corpus), home=clean)

    clean_dt = time.time() - t
    home = tmp_path / "data"
    env = dict(os.environ, HOIDAP_HOME=str(home))
    killed = trial = 0
    max_delay = max(1.5, min(clean_dt, 6.0))
    # trials go on until TRIALS runs were killed mid-run (bounded): a run that finished before its kill
    # does not count, and shortens the delays drawn after it
    while killed < TRIALS and trial < 3 * TRIALS:
        trial += 1
        # every trial changes documents, so each run has work to be killed in (adds and replacements)
        for i in rng.sample(range(CRASH_DOCS), 30):
            (corpus / f"doc{i:03d}.txt").write_text(
                f"Văn bản số {i} phiên bản {trial}. Tỉnh {i % 63} có {i * 7} hộ dân trồng chè.", encoding="utf-8")
        t0 = time.time()
        p = subprocess.Popen([*HOIDAP, "ingest", str(corpus)], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        delay = rng.uniform(0.5, max_delay)
        while p.poll() is None and time.time() - t0 < delay:
            time.sleep(0.05)
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            killed += 1
        else:
            max_delay = max(0.6, 0.9 * (time.time() - t0))
        p.wait()
    s = cli_json("ingest", str(corpus), home=home)
    assert s["failed"] == []
    cli_json("ingest", str(corpus), home=tmp_path / "clean2")  # a clean ingest of the final corpus
    got, ref = state(home), state(tmp_path / "clean2")
    sources = [d[0] for d in got["docs"]]
    assert len(sources) == len(set(sources)) == CRASH_DOCS  # every document exactly once
    assert all(d[1] == "ok" for d in got["docs"])
    assert sorted(got["docs"]) == sorted(ref["docs"]) and got["chunks"] == ref["chunks"]
    chroma_ids, sql_ids = ids_agree(home, [])
    assert chroma_ids == sql_ids and len(sql_ids) == ref["chunks"]
    assert sum(sentence_chunks(home).values()) == sum(sentence_chunks(tmp_path / "clean2").values())
    assert killed >= TRIALS, f"only {killed} of {trial} runs were still running when killed"
    print(f"crash trials: {trial}, killed mid-run: {killed}, docs {CRASH_DOCS}, chunks {got['chunks']}")


def test_file_vanishing_mid_run_is_named_and_rest_indexed(tmp_path):
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 120)
    home = tmp_path / "data"
    env = dict(os.environ, HOIDAP_HOME=str(home))
    p = subprocess.Popen([*HOIDAP, "ingest", str(corpus), "--json"], env=env, cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    # files are read in order and committed 64 chunks (here 64 files) at a time: at the first commit the
    # reader is at file 64, so the last 40 are not read yet
    wait_mid_run(p, home)
    gone = sorted(corpus.iterdir())[-40:]
    for f in gone:
        f.unlink()
    out, _ = p.communicate(timeout=300)
    import json

    s = json.loads(out.strip().splitlines()[-1])
    assert p.returncode == 0
    failed = {Path(f["path"]).name for f in s["failed"]}
    assert len(s["added"]) + len(failed) == 120
    assert all("not found" in f["error"] for f in s["failed"])
    assert failed == {f.name for f in gone}, "every vanished file is named, no other"
    assert {Path(x).name for x in s["added"]} | failed == {f"doc{i:03d}.txt" for i in range(120)}


def test_zero_width_and_control_characters_searchable_with_exact_offsets(tmp_path):
    text = "Thu\u200bỷ điện Ho\u200dà Bình\u00ad khởi công\u0007 năm 1979.\ufeff Nhà máy có tám tổ máy."
    f = tmp_path / "zw.txt"
    f.write_text(text, encoding="utf-8")
    home = tmp_path / "data"
    cli_json("ingest", str(f), home=home)
    a = cli_json("ask", "thủy điện hòa bình khởi công năm nào", "--llm", "none", "--retriever", "bm25", home=home)
    assert "1979" in a["answer"]
    for c in a["citations"]:
        assert text[c["start"]:c["end"]] == c["text"]


def test_chroma_server_stopped_mid_ingest_and_mid_query(tmp_path):
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 150)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    srv = start_chroma(tmp_path / "srv", port)
    home = tmp_path / "data"
    try:
        env = dict(os.environ, HOIDAP_HOME=str(home))
        p = subprocess.Popen([*HOIDAP, "ingest", str(corpus), "--chroma-url", url], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        done = wait_mid_run(p, home)  # the first documents are in: stop the server under the rest
        stop(srv)
        out, err = p.communicate(timeout=300)
        assert p.returncode != 0
        assert f"Chroma server at {url}" in err, err
        assert done <= committed(home) < 150, "stopped mid-ingest: what was stored is kept, the rest is not"
        q = run_cli("ask", "hộ dân trồng chè", "--llm", "none", "--chroma-url", url, home=home, check=False)
        assert q.returncode != 0 and f"Chroma server at {url}" in q.stderr, q.stderr
        srv = start_chroma(tmp_path / "srv", port)
        s = cli_json("ingest", str(corpus), "--chroma-url", url, home=home)
        assert s["failed"] == []
        docs = cli_json("docs", "list", "--chroma-url", url, home=home)
        assert len(docs) == 150 and all(d["status"] == "ok" for d in docs)
        chroma_ids, sql_ids = ids_agree(home, ["--chroma-url", url])
        assert chroma_ids == sql_ids and len(sql_ids) == 150
        a = cli_json("ask", "Văn bản số 42", "--llm", "none", "--retriever", "bm25", "--chroma-url", url, home=home)
        assert not a["refused"]
    finally:
        stop(srv)
