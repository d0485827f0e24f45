"""Mutation check: break the product on purpose, one way at a time, and show that the suite notices.

Each mutation edits a temporary copy of the repository (`git archive HEAD`, so commit first), runs the tests
that should catch it there and reports which of them failed. A mutation no test catches is a hole.

    flock /tmp/heavy.lock .venv/bin/python bench/mutations.py            # all of them
    .venv/bin/python bench/mutations.py --only refusal,offsets           # some
Exit status 1 when a mutation survives.  Output recorded in docs/testing.md.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Mutation:
    name: str
    what: str
    file: str
    edits: list[tuple[str, str]]  # (exact text, replacement): each must occur in the file
    tests: list[str]  # pytest arguments: the narrow selection that should catch it


MUTATIONS = [
    Mutation("generator", "the bundled generator raises when it loads", "rag/generate/__init__.py",
             [("            p = x.CommonParams()\n",
               "            raise GeneratorError('mutation: the model does not load')\n            p = x.CommonParams()\n")],
             ["tests/test_walking.py", "tests/test_ui_browser.py", "tests/test_reliability_offline_security.py", "-k",
              "bundled_model"]),
    Mutation("splitter", "the sentence splitter splits on every comma", "ingest/chunk.py",
             [('_SENT_END = re.compile(r"', '_SENT_END = re.compile(r",|')],
             ["tests/test_ingest_text.py", "tests/test_walking.py::test_ask_extractive_cites_the_date_with_exact_offsets"]),
    Mutation("folding", "accent folding is the identity", "ingest/normalize.py",
             [('    d = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))\n'
               '    return "".join(c for c in d if not unicodedata.combining(c))\n', "    return text\n")],
             ["tests/test_answering.py", "-k", "accent_free"]),
    Mutation("offsets", "citation offsets are off by one", "rag/evidence.py",
             [("text=self.text, start=self.start, end=self.end, score=round(h.score, 4),",
               "text=self.text, start=self.start + 1, end=self.end + 1, score=round(h.score, 4),")],
             ["tests/test_walking.py", "-k", "offsets"]),
    Mutation("refusal", "refusal never refuses", "rag/answer.py",
             [("return bool(hits) and score >= self.answerable_threshold, sig", "return bool(hits), sig")],
             ["tests/test_answering.py", "-k", "refused or out_of_domain"]),
    Mutation("bm25-delta", "the BM25 delta drops deletions", "ingest/lexical.py",
             [("            self.segments[at[0]].alive[at[1]] = False\n", "")],
             ["tests/test_untested_paths.py", "-k", "bm25"]),
    Mutation("upload-path", "upload path checks allow `..`", "rag/service/uploads.py",
             [('.replace("\\\\", "/").split("/")[-1]', '.replace("\\\\", "/")'),
              (r'_BAD = re.compile(r"[^\w.\- ()]+")', r'_BAD = re.compile(r"[^\w.\-/ ()]+")'),
              ("    if dest.parent != dest_dir:", "    if False:")],
             ["tests/test_ui_units.py"]),
]


def copy_repo(dest: Path) -> None:
    """The committed tree (no data, no caches) plus the shared virtualenv."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=tar, check=True)
    (dest / ".venv").symlink_to((ROOT / ".venv").resolve())


def apply(repo: Path, m: Mutation) -> None:
    path = repo / m.file
    text = path.read_text(encoding="utf-8")
    for old, new in m.edits:
        if old not in text:
            raise SystemExit(f"mutation {m.name}: {old!r} not found in {m.file} (the code moved: update the mutation)")
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def run(m: Mutation, timeout: float) -> tuple[list[str], int, float, str]:
    with tempfile.TemporaryDirectory(prefix=f"mut-{m.name}-") as tmp:
        repo = Path(tmp)
        copy_repo(repo)
        apply(repo, m)
        env = dict(os.environ, CI="true")
        t0 = time.time()
        p = subprocess.run([str(repo / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "-rfE", "-p",
                            "no:cacheprovider", *m.tests], cwd=repo, env=env, capture_output=True, text=True,
                           timeout=timeout)
        failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", p.stdout, re.M)
        last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else p.stderr[-300:]
        return failed, p.returncode, time.time() - t0, last


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated mutation names: " + ", ".join(m.name for m in MUTATIONS))
    ap.add_argument("--timeout", type=float, default=1200)
    args = ap.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only.split(",")]
    survived = []
    for m in chosen:
        failed, rc, took, last = run(m, args.timeout)
        caught = rc != 0 and bool(failed)
        print(f"## {m.name}: {m.what}  ({took:.0f} s; pytest {' '.join(m.tests)})")
        print(f"   {'CAUGHT' if caught else 'SURVIVED'}: {last}")
        for f in failed:
            print(f"   failed: {f}")
        sys.stdout.flush()
        if not caught:
            survived.append(m.name)
    print(f"\n{len(chosen) - len(survived)} of {len(chosen)} mutations caught"
          + (f"; survived: {', '.join(survived)}" if survived else ""))
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
