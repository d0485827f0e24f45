"""The HTTP API as programs use it: the official `openai` client, `curl`, and `gradio_client`, against the
chat server (`--llm none`, real embedder and Chroma) on 127.0.0.1, and `hoidap serve` bound to 0.0.0.0 with an
API key in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import time

import httpx
import openai
import pytest

from conftest import HOIDAP, QUESTION, ROOT, SEED, free_port, run_cli, served_app

REFUSAL = "Không tìm thấy thông tin này trong tài liệu."
UNANSWERABLE = "Hội nghị có bao nhiêu đại biểu tham dự?"
SEED_TEXT = SEED.read_text(encoding="utf-8")
KEY = "khoa-bi-mat-123"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("api"), [SEED]) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server["url"] + "v1", api_key="unused-on-loopback", max_retries=0)


def _ask(client, content: str, model: str = "hoidap", history: list[dict] | None = None):
    return client.chat.completions.create(model=model, messages=[*(history or []), {"role": "user", "content": content}])


def _check_citations(payload: dict, texts: dict[str, str]) -> None:
    """Every citation's text is exactly its source file's text at [start:end]."""
    assert payload["citations"]
    for c in payload["citations"]:
        assert texts[os.path.basename(c["source"])][c["start"]:c["end"]] == c["text"], c


def test_openai_client_gets_a_cited_answer(client):
    r = _ask(client, QUESTION)
    text = r.choices[0].message.content
    assert "15-4" in text and "[1]" in text, text
    p = r.model_extra["hoidap"]
    assert p["refused"] is False and p["answer"] == text
    _check_citations(p, {SEED.name: SEED_TEXT})
    assert {"n", "doc_id", "source", "title", "text", "start", "end", "page"} <= set(p["citations"][0])


def test_openai_client_streams_the_same_answer(client):
    chunks = list(client.chat.completions.create(model="hoidap", stream=True,
                                                  messages=[{"role": "user", "content": QUESTION}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "15-4" in text and "[1]" in text, text
    assert chunks[-1].choices[0].finish_reason == "stop"
    p = chunks[-1].model_extra["hoidap"]
    assert p["answer"] == text
    _check_citations(p, {SEED.name: SEED_TEXT})


@pytest.mark.parametrize("stream", [False, True])
def test_refusal_is_a_normal_answer_with_a_flag(client, stream):
    if stream:
        chunks = list(client.chat.completions.create(model="hoidap", stream=True,
                                                      messages=[{"role": "user", "content": UNANSWERABLE}]))
        text, p = "".join(c.choices[0].delta.content or "" for c in chunks), chunks[-1].model_extra["hoidap"]
    else:
        r = _ask(client, UNANSWERABLE)
        text, p = r.choices[0].message.content, r.model_extra["hoidap"]
    assert text == REFUSAL and p["refused"] is True and p["citations"] == []
    assert p["passages"], "the closest passages still come with a refusal"


def test_follow_up_uses_the_previous_turn(client):
    first = _ask(client, "Nghị quyết 11-NQ/TW được ban hành ngày nào?")
    history = [{"role": "user", "content": "Nghị quyết 11-NQ/TW được ban hành ngày nào?"},
               {"role": "assistant", "content": first.choices[0].message.content}]
    r = _ask(client, "Còn Nghị quyết 37 thì sao?", history=history)
    p = r.model_extra["hoidap"]
    assert p["standalone_question"] == "Nghị quyết 37 được ban hành ngày nào?"
    content = r.choices[0].message.content
    assert content.startswith("» Nghị quyết 37 được ban hành ngày nào?\n\n") and "01/7/2004" in content


def test_follow_ups_are_resolved_from_the_messages_alone(client):
    """Stateless messages: the conversation is rebuilt from them (an assistant message's "» …" line says what its
    turn was read as), and a follow-up with its own predicate is not mixed with the previous question."""
    history = [{"role": "user", "content": "Hội nghị quán triệt Nghị quyết 11-NQ/TW được tổ chức khi nào?"},
               {"role": "assistant", "content": "Hội nghị được tổ chức sáng 15-4 [1]."}]
    r = _ask(client, "Còn Nghị quyết 37 thì ban hành ngày nào?", history=history)
    p = r.model_extra["hoidap"]
    assert p["standalone_question"] == "Nghị quyết 37 ban hành ngày nào?"
    assert "01/7/2004" in p["answer"] and "15-4" not in p["answer"]  # not the previous turn's answer
    history += [{"role": "user", "content": "Còn Nghị quyết 37 thì ban hành ngày nào?"},
                {"role": "assistant", "content": r.choices[0].message.content}]
    chunks = list(client.chat.completions.create(model="hoidap", stream=True, messages=[
        *history, {"role": "user", "content": "văn bản đó về vấn đề gì?"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    p = chunks[-1].model_extra["hoidap"]
    assert p["standalone_question"] == "Nghị quyết 37 về vấn đề gì?"
    assert text.startswith("» Nghị quyết 37 về vấn đề gì?\n\n") and text.endswith(p["answer"])


def test_unknown_collection_is_404_naming_the_models(client):
    with pytest.raises(openai.NotFoundError) as e:
        _ask(client, QUESTION, model="hoidap:khong-co")
    assert "hoidap:khong-co" in str(e.value) and "GET /v1/models" in str(e.value)


def test_openapi_schema_is_served_and_cors_is_off(server):
    schema = httpx.get(server["url"] + "openapi.json").json()
    assert {"/v1/chat/completions", "/v1/models", "/v1/collections/{name}/documents"} <= set(schema["paths"])
    r = httpx.options(server["url"] + "v1/models", headers={"Origin": "http://evil.example",
                                                            "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers


def test_gradio_client_and_openai_client_get_one_payload(server, client):
    from gradio_client import Client

    g = Client(server["url"], verbose=False).predict(QUESTION, api_name="/ask")
    o = _ask(client, QUESTION).model_extra["hoidap"]
    drop = lambda p: {k: v for k, v in p.items() if k != "timings"}  # noqa: E731
    assert drop(g) == drop(o)


# -- the REST document flow with curl --------------------------------------------------------------------

def _curl(*args: str, key: str | None = None) -> tuple[int, dict | list]:
    auth = ["-H", f"Authorization: Bearer {key}"] if key else []
    p = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", *auth, *args], capture_output=True, text=True,
                       timeout=120, check=True)
    body, _, code = p.stdout.rpartition("\n")
    return int(code), json.loads(body) if body else {}


def _wait_job(base: str, job: dict, key: str | None = None) -> dict:
    deadline = time.monotonic() + 120
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        _, job = _curl(f"{base}v1/jobs/{job['id']}", key=key)
    return job


def _chat(base: str, model: str, question: str, key: str | None = None) -> dict:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": question}]}, ensure_ascii=False)
    code, r = _curl("-H", "Content-Type: application/json", "-d", body, f"{base}v1/chat/completions", key=key)
    assert code == 200, r
    return r


def test_curl_upload_ask_delete_then_refused(server, tmp_path):
    base = server["url"]
    cau = tmp_path / "cau-long-bien.txt"
    cau.write_text("Cầu Long Biên bắc qua sông Hồng ở Hà Nội.\nCầu Long Biên do công ty Daydé & Pillé "
                   "thi công và được khánh thành năm 1902.\n", encoding="utf-8")
    ho = tmp_path / "ho-guom.md"
    ho.write_text("# Hồ Gươm\n\nHồ Gươm nằm ở trung tâm Hà Nội. Tháp Rùa đứng giữa hồ.\n", encoding="utf-8")
    code, job = _curl("-F", f"files=@{cau}", "-F", f"files=@{ho}", f"{base}v1/collections/cau-duong/documents")
    assert code == 202 and job["state"] in ("queued", "running", "done"), job
    job = _wait_job(base, job)
    assert job["state"] == "done" and len(job["summary"]["added"]) == 2, job
    _, models = _curl(f"{base}v1/models")
    assert "hoidap:cau-duong" in [m["id"] for m in models["data"]]

    q = "Cầu Long Biên do công ty nào thi công?"
    r = _chat(base, "hoidap:cau-duong", q)
    p = r["hoidap"]
    assert not p["refused"] and "Daydé & Pillé" in r["choices"][0]["message"]["content"], r
    c = p["citations"][0]
    _, span = _curl(f"{base}v1/collections/cau-duong/documents/{c['doc_id']}/text?start={c['start']}&end={c['end']}")
    assert span["text"] == c["text"] == cau.read_text(encoding="utf-8")[c["start"]:c["end"]]
    assert _chat(base, "hoidap", q)["hoidap"]["refused"], "the default collection does not hold it"

    _, docs = _curl(f"{base}v1/collections/cau-duong/documents")
    assert sorted(os.path.basename(d["source"]) for d in docs) == ["cau-long-bien.txt", "ho-guom.md"]
    code, gone = _curl("-X", "DELETE", f"{base}v1/collections/cau-duong/documents/{c['doc_id']}")
    assert code == 200 and gone["deleted"]["doc_id"] == c["doc_id"]
    assert _chat(base, "hoidap:cau-duong", q)["hoidap"]["refused"]
    code, err = _curl("-X", "DELETE", f"{base}v1/collections/cau-duong/documents/{c['doc_id']}")
    assert code == 404 and c["doc_id"] in err["error"]["message"]


# -- hoidap serve on a non-loopback bind ------------------------------------------------------------------

@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    """`hoidap serve --host 0.0.0.0 --api-key KEY` over the seed article, reached through 127.0.0.1."""
    home = tmp_path_factory.mktemp("open") / "data"
    run_cli("ingest", str(SEED), home=home)
    port = free_port()
    env = dict(os.environ, HOIDAP_HOME=str(home), HOIDAP_CONFIG=str(home / "none.toml"), HOIDAP_UPLOAD_MAX_MB="0.05")
    p = subprocess.Popen([*HOIDAP, "serve", "--host", "0.0.0.0", "--port", str(port), "--api-key", KEY,
                          "--llm", "none"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    line = p.stdout.readline()  # printed once the server listens
    assert "API on" in line, line + p.stdout.read()
    try:
        yield {"url": f"http://127.0.0.1:{port}/", "proc": p}
    finally:
        p.terminate()
        out, _ = p.communicate(timeout=30)
        assert KEY not in out, "an API key was logged"


def test_non_loopback_needs_a_key(open_server):
    url = open_server["url"]
    r = httpx.get(url + "v1/models")
    assert r.status_code == 401 and "Authorization: Bearer" in r.json()["error"]["message"]
    r = httpx.get(url + "v1/models", headers={"Authorization": "Bearer sai"})
    assert r.status_code == 403
    assert httpx.get(url + "config").status_code in (401, 403), "the chat needs the login too"
    c = openai.OpenAI(base_url=url + "v1", api_key=KEY, max_retries=0)
    assert "15-4" in _ask(c, QUESTION).choices[0].message.content
    with pytest.raises(openai.PermissionDeniedError):
        _ask(openai.OpenAI(base_url=url + "v1", api_key="sai", max_retries=0), QUESTION)


def test_upload_limits_are_413_and_422(open_server, tmp_path):
    url = open_server["url"] + "v1/collections/default/documents"
    big = tmp_path / "lon.txt"
    big.write_text("Một câu tiếng Việt khá dài để làm đầy tệp. " * 2000, encoding="utf-8")  # ~90 kB > 0.05 MB
    code, err = _curl("-F", f"files=@{big}", url, key=KEY)
    assert code == 413 and "lon.txt" in err["error"]["message"] and "0.05 MB" in err["error"]["message"], err
    exe = tmp_path / "chay.exe"
    exe.write_bytes(b"MZ\x90\x00")
    code, err = _curl("-F", f"files=@{exe}", url, key=KEY)
    assert code == 422 and "chay.exe" in err["error"]["message"], err


# -- stored conversations ---------------------------------------------------------------------------------

def test_conversation_is_kept_resumed_renamed_exported_and_deleted(server):
    base = server["url"] + "v1/conversations"
    conv = httpx.post(base, json={}).json()
    first = httpx.post(f"{base}/{conv['id']}/messages", json={"content": "Nghị quyết 11-NQ/TW được ban hành ngày nào?"},
                       timeout=120).json()
    follow = httpx.post(f"{base}/{conv['id']}/messages", json={"content": "Còn Nghị quyết 37 thì sao?"}, timeout=120).json()
    assert follow["standalone_question"] == "Nghị quyết 37 được ban hành ngày nào?", "the stored turn is the history"
    listed = next(c for c in httpx.get(base).json() if c["id"] == conv["id"])
    assert listed["title"] == "Nghị quyết 11-NQ/TW được ban hành ngày nào?" and listed["turns"] == 2

    from rag.service.conversations import Conversations  # a fresh store over the same data directory (a restart)

    again = Conversations(server["comp"].settings.home).get("", conv["id"])
    assert [t["answer"] for t in again["turns"]] == [first["answer"], follow["answer"]]

    assert httpx.patch(f"{base}/{conv['id']}", json={"title": "Hai nghị quyết"}).json()["title"] == "Hai nghị quyết"
    md = httpx.get(f"{base}/{conv['id']}/export", params={"format": "md"}).text
    c = follow["citations"][0]
    assert md.startswith("# Hai nghị quyết") and f"[{c['start']}:{c['end']}]" in md and "01/7/2004" in md
    exported = json.loads(httpx.get(f"{base}/{conv['id']}/export", params={"format": "json"}).text)
    assert exported["turns"][1]["citations"] == follow["citations"]
    assert httpx.delete(f"{base}/{conv['id']}").status_code == 200
    r = httpx.get(f"{base}/{conv['id']}")
    assert r.status_code == 404 and conv["id"] in r.json()["error"]["message"]
