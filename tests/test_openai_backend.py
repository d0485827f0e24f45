"""`llm = "openai"` through llama-index's OpenAI-like integration, against an OpenAI-compatible HTTP server the
test runs on 127.0.0.1 (scripted answers: a working stream, a malformed one, one that never comes)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import QUESTION
from rag.components import Components
from rag.settings import load_settings

SCRIPT = {"mode": "ok", "requests": []}


class _Server(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        SCRIPT["requests"].append((self.path, json.loads(self.rfile.read(int(self.headers["content-length"])))))
        if SCRIPT["mode"] == "slow":
            time.sleep(4)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        if SCRIPT["mode"] == "malformed":
            self.wfile.write(b"data: {\"choices\": [{\"delta\": {\"content\": \"H\"\n\n")
            return
        for t in ["Hội nghị được tổ chức ", "sáng 15-4 [1]."]:
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                     "choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture(scope="module")
def endpoint():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


def _answer(seed_home, endpoint, mode, **kw):
    SCRIPT["mode"], SCRIPT["requests"] = mode, []
    comp = Components(load_settings(home=seed_home, llm="openai", openai_base_url=endpoint, openai_model="m",
                                    answer_style="generated", llm_timeout=1.5))
    tokens: list[str] = []
    return comp.answerer().ask(QUESTION, on_token=tokens.append), tokens


def test_generated_answer_streams_from_the_server(seed_home, endpoint):
    a, tokens = _answer(seed_home, endpoint, "ok")
    assert a.mode == "generated" and "15-4" in a.answer and a.citations, a
    assert tokens[:2] == ["Hội nghị được tổ chức ", "sáng 15-4 [1]."], "tokens arrive as the server sends them"
    path, body = SCRIPT["requests"][0]
    assert path == "/v1/chat/completions" and body["model"] == "m" and body["stream"] is True
    assert body["temperature"] == 0.0 and body["max_tokens"] == 192


def test_malformed_stream_falls_back_to_the_best_sentence(seed_home, endpoint):
    a, _ = _answer(seed_home, endpoint, "malformed")
    assert a.mode == "extractive" and "15-4" in a.answer and "malformed" in a.notice and endpoint in a.notice


def test_slow_server_times_out_to_the_best_sentence(seed_home, endpoint):
    t0 = time.perf_counter()
    a, _ = _answer(seed_home, endpoint, "slow")
    assert a.mode == "extractive" and "15-4" in a.answer and "timed out" in a.notice
    assert time.perf_counter() - t0 < 15, "one library retry at most, then the fallback"
