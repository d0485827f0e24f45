"""OCR of scanned pages and images with Tesseract (Debian `tesseract-ocr` + `tesseract-ocr-vie`), via pytesseract.

Words come back with their boxes and Tesseract's block/paragraph/line numbers; they become `layout.Line`s
so scanned text is reflowed exactly like a PDF text layer.
"""
from __future__ import annotations

import functools
import shutil
import subprocess

from ingest.layout import Line

LANG = "vie"
DPI = 300  # docs/ingest.md: character error rate at 200 and 300 dpi
INSTALL = "install the Debian packages tesseract-ocr and tesseract-ocr-vie"


class OCRUnavailable(Exception):
    """Tesseract or its Vietnamese data is missing; the message says what to install."""


@functools.lru_cache(maxsize=1)
def check() -> None:
    """Raise OCRUnavailable unless `tesseract` with the Vietnamese language data can run."""
    exe = shutil.which("tesseract")
    if exe is None:
        raise OCRUnavailable(f"Tesseract OCR is not installed ({INSTALL})")
    try:
        langs = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30).stdout.split()
    except (OSError, subprocess.SubprocessError) as e:
        raise OCRUnavailable(f"Tesseract OCR cannot run ({e}); {INSTALL}") from None
    if LANG not in langs:
        raise OCRUnavailable("Tesseract has no Vietnamese language data (install the Debian package tesseract-ocr-vie)")


def image_lines(image) -> list[Line]:
    """The text lines Tesseract reads on one page image (PIL), with their boxes in pixels; a ruled table
    comes back as one line per row, each cell with its column header (`scan_tables`)."""
    import pytesseract

    from ingest import scan_tables
    from ingest.tables import table_lines

    check()
    grids, image = scan_tables.find_grids(image)
    data = pytesseract.image_to_data(image.convert("L"), lang=LANG, config="--psm 3",
                                     output_type=pytesseract.Output.DICT)
    words = [i for i, w in enumerate(data["text"]) if w.strip(" |_—") and float(data["conf"][i]) >= 0]
    out: list[Line] = []
    for grid in grids:
        x0, y0, x1, y1 = grid.box
        inside = [i for i in words if x0 <= data["left"][i] + data["width"][i] / 2 <= x1
                  and y0 <= data["top"][i] + data["height"][i] / 2 <= y1]
        boxes = [(data["text"][i].strip(" |"), data["left"][i], data["top"][i], data["left"][i] + data["width"][i],
                  data["top"][i] + data["height"][i], (data["block_num"][i], data["par_num"][i], data["line_num"][i]))
                 for i in inside]
        rows = table_lines(scan_tables.cell_rows(grid, boxes))
        if not rows:
            continue
        taken = set(inside)
        words = [i for i in words if i not in taken]
        out += [Line(r, x0, x1, y0 + k * 1e-3, y0 + k * 1e-3, table=True) for k, r in enumerate(rows)]
    lines: dict[tuple[int, int, int], list[int]] = {}
    for i in words:
        lines.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(i)
    paragraph_ids: dict[tuple[int, int], int] = {}
    for (block, par, _), idx in lines.items():
        text = " ".join(data["text"][i].strip() for i in idx)
        x0 = min(data["left"][i] for i in idx)
        x1 = max(data["left"][i] + data["width"][i] for i in idx)
        top = min(data["top"][i] for i in idx)
        bottom = max(data["top"][i] + data["height"][i] for i in idx)
        pid = paragraph_ids.setdefault((block, par), len(paragraph_ids))
        out.append(Line(text, float(x0), float(x1), float(top), float(bottom), block=pid))
    return out
