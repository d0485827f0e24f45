"""The walking product through the CLI: ingest the seed article, ask, get a cited answer."""
import os
import subprocess
import tempfile
import time

import pytest

from conftest import HOIDAP, QUESTION, ROOT, SEED, cli_json, run_cli


def test_help_lists_every_command():
    out = run_cli("--help").stdout
    for cmd in ("ingest", "ask", "serve", "docs", "collections", "eval"):
        assert cmd in out


def test_ask_extractive_cites_the_date_with_exact_offsets(seed_home):
    a = cli_json("ask", QUESTION, "--llm", "none", home=seed_home)
    assert not a["refused"]
    assert "15-4" in a["answer"]
    source = SEED.read_text(encoding="utf-8")
    cited = [c for c in a["citations"] if "15-4" in c["text"]]
    assert cited, a
    for c in a["citations"]:
        assert source[c["start"]:c["end"]] == c["text"]
        assert f"[{c['n']}]" in a["answer"]


def test_ask_human_output_shows_sources(seed_home):
    out = run_cli("ask", QUESTION, "--llm", "none", home=seed_home).stdout
    assert "15-4" in out and "nghi-quyet-11-thai-nguyen.txt" in out


def read_on_a_terminal(args: list[str], env: dict, timeout: float) -> tuple[list[tuple[float, bool, str]], str]:
    """Run the CLI with its stdout on a terminal, as a person does; every read of its output as (seconds since
    start, whether the process was still running, all text so far), and its stderr."""
    import pty
    import select

    master, slave = pty.openpty()
    reads, out, t0 = [], b"", time.monotonic()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([*HOIDAP, *args], stdout=slave, stderr=err, stdin=subprocess.DEVNULL,
                             env={**os.environ, **env}, cwd=ROOT)
        os.close(slave)
        try:
            while (now := time.monotonic() - t0) < timeout:
                if not select.select([master], [], [], 1.0)[0]:
                    continue
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: the process closed the terminal
                    data = b""
                if not data:
                    break
                out += data
                reads.append((now, p.poll() is None, out.decode("utf-8", "ignore").replace("\r\n", "\n")))
            else:
                raise AssertionError(f"hoidap {' '.join(args)} still running after {timeout} s: {out[-500:]!r}")
        finally:
            os.close(master)
            if p.poll() is None:
                p.kill()
            p.wait(30)
            err.seek(0)
            stderr = err.read().decode("utf-8", "replace")
    assert p.returncode == 0, (p.returncode, stderr)
    return reads, stderr


@pytest.mark.llm
def test_ask_with_bundled_model_streams_the_generated_answer(seed_home, model_path):
    """`hoidap ask --answer-style generated --llm local` in a terminal prints the model's words as they come."""
    reads, stderr = read_on_a_terminal(["ask", QUESTION, "--answer-style", "generated", "--llm", "local"],
                                       {"HOIDAP_HOME": str(seed_home), "HOIDAP_LLM_MODEL_PATH": str(model_path)},
                                       timeout=420)
    final = reads[-1][2]
    streamed = [(t, text) for t, running, text in reads if running and "Nguồn:" not in text and text.strip()]
    # the model's text arrived in several pieces while the process was still working on it
    assert len({text for _, text in streamed}) >= 3, (reads, stderr)
    assert streamed[-1][0] - streamed[0][0] > 0.2, streamed
    model_words = streamed[-1][1].split("\r\x1b[K")[0]
    answer = final.split("\r\x1b[K")[-1]
    # the generated style answered with the model's own words: no fallback notice, the date cited
    head = answer.split("Nguồn:")[0]
    assert "Nguồn:" in answer and "15-4" in head, final
    assert not any(line.startswith("(") for line in head.splitlines()), f"a notice: the model did not answer\n{final}"
    first_words = answer.split("[")[0].split()[:4]
    assert first_words and " ".join(first_words) in " ".join(model_words.split()), (model_words, answer)


def test_data_dir_flag_and_env_agree(tmp_path):
    h = tmp_path / "viaflag"
    run_cli("ingest", str(SEED), "--data-dir", str(h))
    docs = cli_json("docs", "list", "--data-dir", str(h))
    assert len(docs) == 1 and docs[0]["source"].endswith("nghi-quyet-11-thai-nguyen.txt")
    assert (h / "hoidap.db").exists() and (h / "chroma").is_dir()
