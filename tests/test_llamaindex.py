"""hoidap inside a llama-index application: the README's snippet runs as written, over the seed article."""
from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT, SEED

SEED_TEXT = SEED.read_text(encoding="utf-8")


def _snippet() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"<!-- llama-index snippet[^>]*-->\n```python\n(.*?)```", readme, re.S).group(1)


def test_readme_llamaindex_snippet_retrieves_and_answers_with_exact_offsets(seed_home):
    code = _snippet().replace('".hoidap"', repr(str(seed_home)))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 3, p.stdout
    assert "Hội nghị được tổ chức sáng 15-4 [1]." in lines[-1] and "('nghi-quyet-11-thai-nguyen', 362, 394)" in lines[-1]
    assert SEED_TEXT[362:394] == "Hội nghị được tổ chức sáng 15-4."


def test_retriever_nodes_are_exact_spans_of_the_source(seed_home):
    from llama_index.core.base.base_retriever import BaseRetriever

    from rag.doors.llamaindex import hoidap_retriever

    r = hoidap_retriever(home=seed_home)
    assert isinstance(r, BaseRetriever)
    nodes = r.retrieve("Hội nghị quán triệt Nghị quyết 11-NQ/TW được tổ chức khi nào?")
    assert nodes and nodes[0].score >= nodes[-1].score
    for n in nodes:
        m = n.node.metadata
        assert {"doc_id", "source", "title", "page", "label", "start", "end"} <= set(m)
        assert SEED_TEXT[m["start"]:m["end"]] == n.node.get_content()
