"""The suite's own guard: under CI=true a skipped test fails unless it is allow-listed in conftest.py."""
import os
import subprocess
import sys
from pathlib import Path

from conftest import ALLOWED_SKIPS, ROOT

FAKE = '''
import pytest

def test_unreadable_file_named():
    pytest.skip("allow-listed")

def test_needs_something_missing():
    pytest.skip("chromium is not installed")

@pytest.mark.skipif(True, reason="marker skip")
def test_marker_skip():
    pass

def test_passes():
    pass
'''


def _run(tmp_path: Path, ci: str | None, files: dict[str, str]) -> subprocess.CompletedProcess:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(ROOT / "tests") + os.pathsep + str(ROOT)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-ra", "-p", "conftest", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), *files], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_skip_fails_under_ci_unless_allow_listed(tmp_path):
    assert "test_ingest_formats.py::test_unreadable_file_named" in ALLOWED_SKIPS
    p = _run(tmp_path, "true", {"test_ingest_formats.py": FAKE})
    out = p.stdout
    assert p.returncode == 1, out
    assert "1 failed, 1 passed, 1 skipped, 1 error" in out, out  # the skipif marker fails at setup
    assert "FAILED test_ingest_formats.py::test_needs_something_missing" in out, out
    assert "ERROR test_ingest_formats.py::test_marker_skip" in out, out
    assert "chromium is not installed" in out and "ALLOWED_SKIPS" in out, out
    assert "SKIPPED [1] test_ingest_formats.py:5: allow-listed" in out, out


def test_module_level_importorskip_fails_under_ci(tmp_path):
    p = _run(tmp_path, "true", {"test_rr.py": "import pytest\npytest.importorskip('no_such_module_hoidap')\n"
                                               "def test_x():\n    pass\n"})
    assert p.returncode != 0 and "no_such_module_hoidap" in p.stdout, p.stdout


def test_outside_ci_a_skip_is_reported_as_a_skip(tmp_path):
    p = _run(tmp_path, None, {"test_ingest_formats.py": FAKE})
    assert p.returncode == 0 and "1 passed, 3 skipped" in p.stdout, p.stdout
    assert "SKIPPED" in p.stdout and "chromium is not installed" in p.stdout, p.stdout
