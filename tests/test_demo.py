"""The demo `make run` serves: the project's own documents in examples/corpus (no public data), and every
question examples/demo-questions.txt suggests (printed by `make run`, listed in the README) is answered and cited
from them, or refused where the line says it is not in the documents."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from rag.doors.cli import main
from tests.conftest import ROOT, cli_json

DEMO = ROOT / "examples" / "corpus"
QUESTIONS = ROOT / "examples" / "demo-questions.txt"


def demo_questions() -> list[tuple[str, str]]:
    rows = []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\[(.+?)\]\s*(.+)", line.strip())
        if m:
            rows.append((m.group(1), m.group(2)))
    return rows


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("demo") / "data"
    s = cli_json("ingest", str(DEMO), home=home)
    assert not s["failed"], s["failed"]
    return home


def test_the_demo_corpus_holds_only_what_the_project_wrote():
    tracked = subprocess.run(["git", "ls-files", "examples"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert not [p for p in tracked if p.endswith((".json", ".csv"))]  # no public dataset copies
    assert not [p for p in tracked if "xquad" in p.lower()]
    assert len(demo_questions()) >= 10


@pytest.mark.parametrize("kind,question", demo_questions(), ids=[k for k, _ in demo_questions()])
def test_demo_question_is_answered_with_citations(demo_home, kind, question, capsys):
    capsys.readouterr()
    assert main(["ask", question, "--llm", "none", "--data-dir", str(demo_home), "--json"]) == 0
    a = json.loads(capsys.readouterr().out)
    if "từ chối" in kind:
        assert a["refused"], a["answer"]
    else:
        assert not a["refused"] and a["citations"], (question, a["answer"])
