"""Reading official documents: PDF text-layer speed, OCR speed and OCR quality.

    .venv/bin/python bench/documents.py [--pages 100] [--json]

* PDF: a regulation PDF of N pages (tests/docmaker.py, wrapped paragraphs, running header, page numbers) read
  by `ingest.pdf.read_pdf`: pages/s.
* OCR: a page of known Vietnamese text (the seed article) rendered at 200 and 300 dpi, clean and with noise
  and a 1.5° skew (and 3% + 3°), read by Tesseract through `ingest.ocr` + the reflow: character error rate (Levenshtein
  distance / reference length, whitespace collapsed) and seconds per page.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import docmaker as dm  # noqa: E402

from ingest import layout, ocr  # noqa: E402
from ingest.pdf import read_pdf  # noqa: E402

SEED = ROOT / "examples" / "corpus" / "news" / "nghi-quyet-11-thai-nguyen.txt"


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one numpy row at a time."""
    prev = np.arange(len(b) + 1)
    bb = np.array([ord(c) for c in b])
    for i, ca in enumerate(a, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        sub = prev[:-1] + (bb != ord(ca))
        cur[1:] = np.minimum(sub, prev[1:] + 1)
        for j in range(1, len(cur)):  # insertions run left to right
            if cur[j - 1] + 1 < cur[j]:
                cur[j] = cur[j - 1] + 1
        prev = cur
    return int(prev[-1])


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def bench_pdf(pages: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = dm.write_regulation_pdf(Path(tmp) / "big.pdf", filler=pages * 10)
        data = path.read_bytes()
        t0 = time.perf_counter()
        result = read_pdf(data)
        seconds = time.perf_counter() - t0
    n = len(result.page_starts)
    return {"pages": n, "seconds": round(seconds, 2), "pages_per_s": round(n / seconds, 1)}


def bench_ocr() -> list[dict]:
    text = SEED.read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()][1:4]
    reference = squash(" ".join(paragraphs))
    rows = []
    for dpi in (200, 300):
        for name, kw in (("clean", {}), ("noise 1% + skew 1.5°", {"noise": 0.01, "skew": 1.5}),
                         ("noise 3% + skew 3°", {"noise": 0.03, "skew": 3.0})):
            img = dm.render_page(paragraphs, dpi=dpi, width_mm=210, height_mm=297, font_pt=11, **kw)
            t0 = time.perf_counter()
            lines = layout.reading_order(ocr.image_lines(img), float(img.width))
            seconds = time.perf_counter() - t0
            got = squash(" ".join(layout.paragraphs(lines)))
            cer = levenshtein(got, reference) / len(reference)
            rows.append({"dpi": dpi, "page": name, "cer": round(cer, 4), "seconds_per_page": round(seconds, 2)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = {"pdf_text_layer": bench_pdf(args.pages), "ocr": bench_ocr()}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return
    p = out["pdf_text_layer"]
    print(f"PDF text layer: {p['pages']} pages in {p['seconds']} s = {p['pages_per_s']} pages/s")
    print("| dpi | page | CER | s/page |\n|---|---|---|---|")
    for r in out["ocr"]:
        print(f"| {r['dpi']} | {r['page']} | {r['cer'] * 100:.2f} % | {r['seconds_per_page']} |")


if __name__ == "__main__":
    main()
