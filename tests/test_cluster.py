"""Beyond one machine (docs/deploy.md): PostgreSQL started here (initdb/pg_ctl), a Chroma server, two `hoidap serve`
replicas on two ports over them, a real OTLP/HTTP receiver for their traces, and their Prometheus /metrics."""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from conftest import HOIDAP, ROOT, SEED, free_port
from services import Postgres, RayHead
from test_ingest_lifecycle import start_chroma, stop

pytestmark = pytest.mark.server
UPLOADED = ("Thông báo số 77/TB-UBND. Từ ngày 12/3/2026, bến phà Cát Lái tạm ngừng hoạt động để sửa chữa cầu tàu. "
            "Người dân đi lại bằng cầu Phú Mỹ trong thời gian này.")


class OtlpReceiver:
    """An OTLP/HTTP trace receiver on 127.0.0.1 keeping the span names it is sent."""

    def __init__(self):
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        spans = self.spans = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                req = ExportTraceServiceRequest()
                req.ParseFromString(self.rfile.read(int(self.headers["content-length"])))
                spans.extend(s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def names(self) -> set[str]:
        return {s.name for s in self.spans}


def start_replica(home: Path, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    p = subprocess.Popen([*HOIDAP, "serve", "--llm", "none", "--port", str(port)], cwd=ROOT,
                         env={**os.environ, "HOIDAP_HOME": str(home), **env},
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        try:
            if httpx.get(url + "/v1/models", timeout=2).status_code == 200:
                return p, url
        except httpx.TransportError:
            time.sleep(0.3)
    p.kill()
    raise AssertionError(f"replica on {url} did not start: {p.stderr.read()[-2000:]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """PostgreSQL + a Chroma server + an OTLP receiver; the seed article ingested by the CLI; replicas A and B."""
    tmp = tmp_path_factory.mktemp("cluster")
    pg = Postgres()
    chroma_port = free_port()
    chroma = otlp = None
    replicas = []
    try:
        chroma = start_chroma(tmp / "chroma", chroma_port)
        otlp = OtlpReceiver()
        shared = {"HOIDAP_DATABASE_URL": pg.url, "HOIDAP_CHROMA_URL": f"http://127.0.0.1:{chroma_port}"}
        subprocess.run([*HOIDAP, "ingest", str(SEED)], cwd=ROOT, check=True, capture_output=True, timeout=300,
                       env={**os.environ, "HOIDAP_HOME": str(tmp / "ingest-home"), **shared})
        replicas.append(start_replica(tmp / "a", {**shared, "HOIDAP_OTLP_ENDPOINT": otlp.url}))
        replicas.append(start_replica(tmp / "b", shared))
        yield {"a": replicas[0][1], "b": replicas[1][1], "pg": pg, "otlp": otlp, "tmp": tmp, "env": shared}
    finally:
        for p, _ in replicas:
            p.terminate()
            p.wait(20)
        if otlp:
            otlp.server.shutdown()
        if chroma:
            stop(chroma)
        pg.stop()


def ask(url: str, question: str) -> dict:
    r = httpx.post(url + "/v1/chat/completions", timeout=120,
                   json={"model": "hoidap", "messages": [{"role": "user", "content": question}]})
    assert r.status_code == 200, r.text
    return r.json()["hoidap"]


def test_replicas_answer_alike_and_one_answers_what_the_other_was_sent(cluster):
    a, b = cluster["a"], cluster["b"]
    q = "Nghị quyết 11 về vùng trung du và miền núi phía Bắc do ai chỉ đạo?"
    on_a, on_b = ask(a, q), ask(b, q)
    assert on_a["answer"] == on_b["answer"] and not on_a["refused"]
    assert [c["start"] for c in on_a["citations"]] == [c["start"] for c in on_b["citations"]]

    job = httpx.post(a + "/v1/collections/default/documents", timeout=60,
                     files={"files": ("pha-cat-lai.txt", UPLOADED.encode(), "text/plain")}).json()
    deadline = time.time() + 120
    while job["state"] not in ("done", "failed") and time.time() < deadline:
        time.sleep(0.2)
        job = httpx.get(f"{a}/v1/jobs/{job['id']}", timeout=10).json()
    assert job["state"] == "done", job
    t0 = time.time()
    got = ask(b, "Bến phà Cát Lái tạm ngừng hoạt động từ ngày nào?")  # replica B, never sent the file
    assert time.time() - t0 < 10
    assert not got["refused"] and "12/3/2026" in got["answer"]
    assert got["citations"][0]["source"].endswith("pha-cat-lai.txt")
    assert {d["title"] or d["source"] for d in httpx.get(b + "/v1/collections/default/documents").json()} >= {
        d["title"] or d["source"] for d in httpx.get(a + "/v1/collections/default/documents").json()}


def test_a_conversation_goes_on_on_the_other_replica(cluster):
    a, b = cluster["a"], cluster["b"]
    conv = httpx.post(a + "/v1/conversations", json={"title": ""}).json()
    first = httpx.post(f"{a}/v1/conversations/{conv['id']}/messages", timeout=120,
                       json={"content": "Nghị quyết số 11-NQ/TW ban hành ngày nào?"}).json()
    second = httpx.post(f"{b}/v1/conversations/{conv['id']}/messages", timeout=120,
                        json={"content": "Nghị quyết đó về phương hướng gì?"})
    assert second.status_code == 200, second.text
    turns = httpx.get(f"{a}/v1/conversations/{conv['id']}").json()["turns"]
    assert [t["question"] for t in turns] == ["Nghị quyết số 11-NQ/TW ban hành ngày nào?", "Nghị quyết đó về phương hướng gì?"]
    assert turns[0]["answer"] == first["answer"]
    titles = [c["title"] for c in httpx.get(b + "/v1/conversations").json() if c["id"] == conv["id"]]
    assert titles == ["Nghị quyết số 11-NQ/TW ban hành ngày nào?"]


def test_metrics_and_traces(cluster):
    a = cluster["a"]
    ask(a, "Tổng Bí thư yêu cầu các cấp ủy Đảng làm gì?")
    text = httpx.get(a + "/metrics").text
    assert 'hoidap_requests_total{method="POST",route="/v1/chat/completions",status="200"}' in text
    assert 'hoidap_request_seconds_bucket{le="0.5",method="POST",route="/v1/chat/completions"}' in text
    assert 'hoidap_stage_seconds_count{stage="retrieve"}' in text
    assert "hoidap_ingest_queue 0.0" in text
    deadline = time.time() + 15  # the exporter sends a batch every 0.5 s
    want = {"hoidap.answer", "hoidap.retrieve", "hoidap.rank", "hoidap.ingest.file", "hoidap.ingest.embed",
            "hoidap.ingest.store"}
    while not want <= cluster["otlp"].names() and time.time() < deadline:
        time.sleep(0.2)
    assert want <= cluster["otlp"].names()


def test_postgres_schema_is_versioned_and_a_wrong_url_is_named(cluster, tmp_path):
    from ingest.db import MIGRATIONS, PostgresDatabase
    from ingest.store import Store, StoreError

    db = PostgresDatabase(cluster["pg"].url)  # a second open: migrations already applied, nothing re-run
    try:
        assert db.execute("SELECT MAX(version), COUNT(*) FROM schema_version").fetchone() == (len(MIGRATIONS), len(MIGRATIONS))
    finally:
        db.close()
    dead = f"postgresql://hoidap:secret@127.0.0.1:{free_port()}/hoidap"
    with pytest.raises(StoreError) as e:
        Store(tmp_path, database_url=dead)
    assert "PostgreSQL at postgresql://hoidap:***@127.0.0.1" in str(e.value) and "secret" not in str(e.value)
    assert not (tmp_path / "hoidap.db").exists()


@pytest.fixture(scope="module")
def ray_head():
    head = RayHead(num_cpus=2)
    try:
        yield head.address
    finally:
        head.stop()


def _task_workers() -> list[int]:
    """Ray worker processes running a file's task now (Ray titles them after the task)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes().startswith(b"ray::prepare_file"):
                pids.append(int(proc.name))
        except OSError:
            pass
    return pids


def test_ingest_on_ray_survives_a_killed_worker(cluster, ray_head, tmp_path):
    import signal

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(8):
        (docs / f"tb-{i}.txt").write_text(f"Thông báo số {i + 1}/TB. Kho lưu trữ số {i + 1} mở cửa từ {7 + i} giờ sáng. "
                                          f"Người nộp hồ sơ mang theo giấy tờ tùy thân.", encoding="utf-8")
    env = {**os.environ, "HOIDAP_HOME": str(tmp_path / "h"), **cluster["env"]}
    p = subprocess.Popen([*HOIDAP, "ingest", str(docs), "--ray", ray_head, "-c", "ray", "--json"], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed, deadline = [], time.time() + 90
    while not killed and p.poll() is None and time.time() < deadline:
        for pid in _task_workers()[:1]:
            os.kill(pid, signal.SIGKILL)  # a worker dies mid-task (loading the embedder or embedding)
            killed.append(pid)
        time.sleep(0.05)
    out, err = p.communicate(timeout=240)
    assert killed, "no task was seen running"
    assert p.returncode == 0, err[-2000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert len(summary["added"]) == 8 and summary["failed"] == []
    from ingest.db import PostgresDatabase

    db = PostgresDatabase(cluster["pg"].url)
    try:
        rows = [r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE collection = 'ray'")]
        assert db.execute("SELECT COUNT(*) FROM documents WHERE collection = 'ray' AND status = 'ok'").fetchone()[0] == 8
    finally:
        db.close()
    import chromadb

    host, port = cluster["env"]["HOIDAP_CHROMA_URL"].rsplit(":", 1)
    client = chromadb.HttpClient(host="127.0.0.1", port=int(port))
    from ingest.store import chroma_name

    ids = client.get_collection(chroma_name("ray")).get(include=[])["ids"]
    assert sorted(ids) == sorted(rows) and len(set(rows)) == len(rows) == summary["chunks"]
