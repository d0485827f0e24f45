"""Load on the OpenAI-compatible endpoint: N concurrent clients for D seconds against `hoidap serve`.

Starts `hoidap serve --llm none` (or another --llm) over the demo corpus in a temporary data directory on a
free 127.0.0.1 port, then runs N client threads, each with its own `openai.OpenAI` client, asking questions
in turn from a fixed set whose answers are known; every answer is checked against its own question (no
cross-talk: the `hoidap.question` echoed back and the expected fact in the answer).  Prints and writes JSON:
requests, errors, wrong answers, p50/p95/max latency, throughput.

    flock /tmp/heavy.lock .venv/bin/python bench/load_api.py --clients 20 --seconds 120 --out /tmp/load.json
    HOIDAP_LLM_MODEL_PATH=.hoidap/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \
      flock /tmp/heavy.lock .venv/bin/python bench/load_api.py --llm local --timeout 300   # the bundled model
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "examples" / "corpus" / "news"
# (question, a fact the answer must contain, or None when it must be refused)
CASES = [
    ("Hội nghị quán triệt Nghị quyết 11-NQ/TW được tổ chức khi nào?", "15-4"),
    ("Nghị quyết 37-NQ/TW được ban hành ngày nào?", "01/7/2004"),
    ("Hội nghị có bao nhiêu đại biểu tham dự?", None),
    ("Giá vàng SJC hôm nay là bao nhiêu?", None),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, llm: str) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, HOIDAP_HOME=str(home), HOIDAP_CONFIG=str(home / "none.toml"))
    subprocess.run([sys.executable, "-m", "rag.doors.cli", "ingest", str(CORPUS)], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    port = free_port()
    p = subprocess.Popen([sys.executable, "-m", "rag.doors.cli", "serve", "--port", str(port), "--llm", llm],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    if "API on" not in line:
        raise SystemExit(f"server did not start: {line}{p.stdout.read()}")
    base = f"http://127.0.0.1:{port}/v1"
    import httpx

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # the banner comes before the socket accepts: wait for an answer
        try:
            if httpx.get(f"{base}/models", timeout=5).status_code == 200:
                return p, base
        except httpx.HTTPError:
            time.sleep(0.5)
    raise SystemExit("server did not answer /v1/models within 300 s")


def client_loop(base: str, k: int, stop: float, out: list, lock: threading.Lock, timeout: float) -> None:
    import openai

    c = openai.OpenAI(base_url=base, api_key="-", max_retries=0, timeout=timeout)
    i = k
    while time.monotonic() < stop:
        q, fact = CASES[i % len(CASES)]
        i += 1
        t0 = time.perf_counter()
        try:
            r = c.chat.completions.create(model="hoidap", messages=[{"role": "user", "content": q}])
            p = r.model_extra["hoidap"]
            text = r.choices[0].message.content
            ok = p["question"] == q and (p["refused"] if fact is None else (not p["refused"] and fact in text))
            row = {"s": time.perf_counter() - t0, "error": None, "ok": ok, "mode": p["mode"],
                   "crossed": p["question"] != q}
        except Exception as e:  # counted, never hidden
            row = {"s": time.perf_counter() - t0, "error": f"{type(e).__name__}: {e}"[:200], "ok": False}
        with lock:
            out.append(row)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))] if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--llm", default="none")
    ap.add_argument("--timeout", type=float, default=120, help="each client's request timeout (s)")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hoidap-load-") as tmp:
        proc, base = start_server(Path(tmp) / "data", a.llm)
        try:
            rows: list[dict] = []
            lock = threading.Lock()
            stop = time.monotonic() + a.seconds
            threads = [threading.Thread(target=client_loop, args=(base, k, stop, rows, lock, a.timeout)) for k in range(a.clients)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - t0
        finally:
            proc.terminate()
            proc.wait(30)
    lat = [r["s"] for r in rows if r["error"] is None]
    res = {"clients": a.clients, "seconds": round(wall, 1), "llm": a.llm, "requests": len(rows),
           "errors": sum(r["error"] is not None for r in rows),
           "wrong_answers": sum(r["error"] is None and not r["ok"] for r in rows),
           "crossed": sum(bool(r.get("crossed")) for r in rows),
           "modes": dict(Counter(r["mode"] for r in rows if r["error"] is None)),
           "p50_s": round(statistics.median(lat), 3) if lat else None, "p95_s": round(pct(lat, 95), 3),
           "max_s": round(max(lat), 3) if lat else None, "requests_per_s": round(len(rows) / wall, 2),
           "first_errors": [r["error"] for r in rows if r["error"]][:3], "loadavg": os.getloadavg()[0]}
    print(json.dumps(res, ensure_ascii=False, indent=1))
    if a.out:
        a.out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if not res["errors"] and not res["wrong_answers"] else 1


if __name__ == "__main__":
    sys.exit(main())
