"""Writes the official documents of the demo corpus (examples/corpus/official/): a regulation PDF with a text
layer, a scanned notice (a PDF of page images, no text layer) and a DOCX report with a merged-header table.

The texts are written by the hoidap project (tests/docmaker.py); the university, the notice and the numbers
are fictional. Re-run after changing docmaker: `.venv/bin/python examples/make_official_docs.py`.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import docmaker as dm  # noqa: E402


def main() -> None:
    out = ROOT / "examples" / "corpus" / "official"
    out.mkdir(parents=True, exist_ok=True)
    dm.write_regulation_pdf(out / "quy-che-dao-tao-va-an-toan-phong-thi-nghiem.pdf", filler=9)
    dm.write_scanned_pdf(out / "thong-bao-tam-dung-cap-nuoc-ban-quet.pdf", [dm.SCAN_TEXT])
    dm.write_report_docx(out / "bao-cao-ket-qua-tuyen-sinh-2025.docx")
    for p in sorted(out.iterdir()):
        print(p.relative_to(ROOT), p.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
