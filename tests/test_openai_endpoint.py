"""`llm = "openai"` against a real OpenAI-compatible server: the bundled GGUF under llama.cpp's HTTP server
(xllamacpp.Server) on 127.0.0.1, started by the test, which requires an API key.

Written against what a user sees (settings, the answer, its mode, the notice), not against the client code.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from conftest import QUESTION, SEED, cli_json, free_port
from rag.components import Components
from rag.settings import load_settings

pytestmark = pytest.mark.llm
KEY = "sk-hoidap-test"
SERVER = """
import sys, threading, xllamacpp as x
p = x.CommonParams()
p.model.path = sys.argv[1]
p.hostnames = ["127.0.0.1"]
p.port = int(sys.argv[2])
p.api_keys = [sys.argv[3]]
p.model_alias = "bundled"
p.n_ctx = 4096
p.n_parallel = 1
p.cpuparams.n_threads = p.cpuparams_batch.n_threads = 2
srv = x.Server(p)
print("listening", srv.listening_address, flush=True)
threading.Event().wait()
"""


@pytest.fixture(scope="module")
def endpoint(model_path):
    """The OpenAI-compatible base URL (…/v1) of a llama.cpp server on 127.0.0.1; stopped afterwards."""
    port = free_port()
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(model_path), str(port), KEY], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:  # the port answers /health once the model is loaded
            assert proc.poll() is None, f"the llama.cpp server exited: {proc.stdout.read()[-2000:]}"
            assert time.monotonic() < deadline, "the llama.cpp server did not come up within 180 s"
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield base + "/v1"
    finally:
        proc.kill()
        proc.wait(30)


def _comp(seed_home, url, **kw):
    return Components(load_settings(home=seed_home, llm="openai", openai_base_url=url, openai_model="bundled",
                                    llm_timeout=120, **kw))


def test_openai_endpoint_streams_a_verified_answer(seed_home, endpoint):
    comp = _comp(seed_home, endpoint, openai_api_key=KEY, answer_style="generated")
    tokens: list[str] = []
    a = comp.answerer().ask(QUESTION, on_token=tokens.append)
    assert a.mode == "generated" and not a.refused and "unreachable" not in a.notice, a
    assert len(tokens) > 3 and "".join(tokens) == a.timings["generated"], "the server's tokens are streamed"
    assert "15-4" in a.answer and any("15-4" in c.text for c in a.citations), a
    source = SEED.read_text(encoding="utf-8")
    assert all(source[c.start:c.end] == c.text for c in a.citations)


def test_openai_settings_from_the_settings_file_via_the_cli(seed_home, endpoint, tmp_path):
    cfg = tmp_path / "hoidap.toml"
    cfg.write_text(f'llm = "openai"\nopenai_base_url = "{endpoint}"\nopenai_model = "bundled"\n'
                   f'openai_api_key = "{KEY}"\nanswer_style = "generated"\nllm_timeout = 120\n', encoding="utf-8")
    a = cli_json("ask", QUESTION, home=seed_home, env={"HOIDAP_CONFIG": str(cfg)})
    assert a["mode"] == "generated", a
    assert "15-4" in a["answer"] and a["citations"], a


def test_wrong_api_key_is_named_and_the_answer_falls_back(seed_home, endpoint):
    """The server answers 401: the user gets the best sentence and a notice naming the server and the status."""
    comp = _comp(seed_home, endpoint, openai_api_key="sk-wrong", answer_style="generated")
    a = comp.answerer().ask(QUESTION)
    assert a.mode == "extractive" and not a.refused and "15-4" in a.answer, a
    assert endpoint.split("//")[1].split("/")[0] in a.notice and "401" in a.notice, a.notice
