"""PDF into text that reads like the page: pdfplumber's words and tables, OCR for pages without a text layer.

Why pdfplumber (MIT, on pdfminer.six): it gives every line with its position, which the reflow needs
(wrapped lines, running headers, two columns), and finds ruled tables with their cells. Pages are rendered
for OCR with pypdfium2 (Apache-2.0/BSD, the PDFium engine), so no poppler is needed. PyMuPDF reads faster
but is AGPL, which does not fit an Apache-2.0 project.
"""
from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from typing import Callable

from ingest import layout, ocr
from ingest.layout import Line
from ingest.tables import table_lines

MIN_TEXT_CHARS = 25  # fewer visible characters than this on a page: no usable text layer, OCR it
GARBAGE_BELOW = 0.6  # a scan's text layer reading worse than this (structure.readable) is OCR'd again
PROGRESS_FROM = 20  # a PDF of this many pages shows its pages being read


class PDFError(Exception):
    pass


@dataclass
class PDFText:
    text: str
    page_starts: list[int]
    ocr_pages: list[int] = field(default_factory=list)  # 1-based
    warnings: list[str] = field(default_factory=list)


def read_pdf(data: bytes, progress: Callable[[int, int, str], None] | None = None) -> PDFText:
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pdf.pages  # noqa: B018 (parses the page tree: a broken or locked file fails here)
    except Exception as e:  # pdfminer raises many types for broken files, wrapped by pdfplumber
        inner = e.args[0] if e.args else e
        if isinstance(e, PDFPasswordIncorrect) or isinstance(inner, PDFPasswordIncorrect):
            raise PDFError("encrypted PDF (password protected): save an unprotected copy") from None
        raise PDFError(f"corrupt PDF ({type(inner).__name__})") from None
    with pdf:
        pages, heights, scanned = [], [], []
        try:
            total = len(pdf.pages)
            for i, page in enumerate(pdf.pages):
                if progress and total >= PROGRESS_FROM:
                    progress(i, total, f"page {i + 1}")
                lines = _page_lines(page)
                if sum(len(x.text.replace(" ", "")) for x in lines if "(cid:" not in x.text) < MIN_TEXT_CHARS \
                        or _garbage_layer(page, lines):
                    scanned.append(i)
                pages.append(lines)
                heights.append(float(page.height))
        except PDFError:
            raise
        except Exception as e:
            raise PDFError(f"corrupt PDF ({type(e).__name__} on page {len(pages) + 1})") from None
    result = PDFText("", [])
    if scanned:
        _ocr_pages(data, scanned, pages, heights, result, progress)
    pages = layout.drop_running(pages, heights)
    result.text, result.page_starts = layout.join_pages([layout.paragraphs(p) for p in pages])
    return result


def _garbage_layer(page, lines: list[Line]) -> bool:
    """A scanned page whose hidden text layer (the scanner's own OCR) lost the diacritics or garbled the
    words ("CQNG HOA XA HOI CHU NGHIA"): the page image is the truth, so it is read by OCR instead."""
    from ingest.structure import readable

    area = float(page.width * page.height) or 1.0
    if not any((im["x1"] - im["x0"]) * (im["bottom"] - im["top"]) >= 0.6 * area for im in page.images):
        return False  # no page-size image: a born-digital page, whatever its language
    text = " ".join(x.text for x in lines)
    return readable(text) < GARBAGE_BELOW


def _page_lines(page) -> list[Line]:
    # a ruled box of one column (a frame around the page, a boxed note) is no table: its text is read as text
    tables = [t for t in page.find_tables() if max((len(r.cells) for r in t.rows), default=0) >= 2]
    boxes = [t.bbox for t in tables]

    def in_table(x) -> bool:
        cx, cy = (x["x0"] + x["x1"]) / 2, (x["top"] + x["bottom"]) / 2
        return any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes)

    for c in page.chars:  # sizes differing in the 14th digit ("Tuy" 14.039…964, "ệt" 14.039…992) split a word
        c["size"] = round(c["size"], 2)
    words = [w for w in page.extract_words(keep_blank_chars=False, use_text_flow=False, extra_attrs=["size"])
             if not in_table(w)]
    words = attach_note_markers(words)
    lines = layout.reading_order(_word_lines(words), float(page.width))
    for t in tables:
        rows = _fill_merged(t.extract())
        top = t.bbox[1]
        at = next((k for k, x in enumerate(lines) if x.top > top), len(lines))
        rendered = [Line(s, t.bbox[0], t.bbox[2], top + k * 1e-3, top + k * 1e-3, table=True)
                    for k, s in enumerate(table_lines(rows))]
        lines[at:at] = rendered
    return lines


_MARKER = re.compile(r"^(?:\[(\d{1,3})\]|(\d{1,3})|\*{1,3})$")


def attach_note_markers(words: list[dict]) -> list[dict]:
    """Footnote markers set above the line ("2024[1]", a small raised "1") joined to the word they follow,
    bracketed: otherwise the raised marker is a line of its own, spliced into the sentence by the reflow,
    or its digit glued to a number ("43/2021/AL" + "1")."""
    if not words:
        return words
    sizes = sorted(w.get("size", 0) for w in words)
    body_size = sizes[len(sizes) // 2]
    hosts, markers = [], []
    for w in words:
        m = _MARKER.match(w["text"])
        small = w.get("size", body_size) <= 0.85 * body_size
        (markers if m and (m.group(1) or small) else hosts).append(w)
    out = list(hosts)
    for mk in markers:
        host = _host_word(mk, hosts)
        if host is None:
            out.append(mk)
            continue
        digits = _MARKER.match(mk["text"]).group(1) or _MARKER.match(mk["text"]).group(2)
        host["text"] += f"[{digits}]" if digits else mk["text"]
        host["x1"] = max(host["x1"], mk["x1"])
    return out


def _host_word(mk: dict, hosts: list[dict]) -> dict | None:
    """The word a raised marker follows: on its line (overlapping it vertically, its baseline lower), ending
    just left of it."""
    height = mk["bottom"] - mk["top"]
    best, gap = None, 2.0 * height
    for w in hosts:
        if w["top"] < mk["bottom"] and w["bottom"] > mk["top"] and w["bottom"] > mk["bottom"] + 0.15 * height \
                and -1.0 <= mk["x0"] - w["x1"] < gap:
            best, gap = w, mk["x0"] - w["x1"]
    return best


def _word_lines(words: list[dict]) -> list[Line]:
    """Words into visual lines; a line is cut where a gap is wider than two letter heights (a column gutter),
    so the columns of a two-column page stay apart."""
    rows: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if rows and abs(rows[-1][0]["top"] - w["top"]) <= 2.5:
            rows[-1].append(w)
        else:
            rows.append([w])
    out: list[Line] = []
    for row in rows:
        row.sort(key=lambda w: w["x0"])
        seg = [row[0]]
        for w in row[1:]:
            if w["x0"] - seg[-1]["x1"] > 2 * (w["bottom"] - w["top"]):
                out.append(_line(seg))
                seg = []
            seg.append(w)
        out.append(_line(seg))
    return out


def _line(words: list[dict]) -> Line:
    text = words[0]["text"]
    for prev, w in zip(words, words[1:]):
        # punctuation set right after a word (after a raised note marker, pdfminer splits it off) keeps no space
        tight = re.fullmatch(r"[,.;:!?)\]]+", w["text"]) and w["x0"] - prev["x1"] < 0.35 * (w["bottom"] - w["top"])
        text += ("" if tight else " ") + w["text"]
    return Line(text, min(w["x0"] for w in words), max(w["x1"] for w in words),
                min(w["top"] for w in words), max(w["bottom"] for w in words))


def _fill_merged(rows: list[list[str | None]]) -> list[list[str | None]]:
    """pdfplumber leaves the cells a merged cell covers empty (None): a header repeats to the right
    (a column span), a body cell from above (a row span)."""
    out: list[list[str | None]] = []
    for r, row in enumerate(rows):
        filled = list(row)
        for c, v in enumerate(filled):
            if v is None:
                if r == 0 and c > 0:
                    filled[c] = filled[c - 1]
                elif out and c < len(out[-1]):
                    filled[c] = out[-1][c]
        out.append(filled)
    return out


def _ocr_pages(data: bytes, scanned: list[int], pages: list[list[Line]], heights: list[float], result: PDFText,
               progress) -> None:
    try:
        ocr.check()
    except ocr.OCRUnavailable as e:
        if len(scanned) == len(pages):
            raise PDFError(f"scanned PDF without a text layer, and {e}") from None
        numbers = ", ".join(str(i + 1) for i in scanned)
        which = f"page {numbers} has" if len(scanned) == 1 else f"pages {numbers} have"
        result.warnings.append(f"{which} no text layer and {'was' if len(scanned) == 1 else 'were'} not indexed: {e}")
        return
    import pypdfium2

    doc = pypdfium2.PdfDocument(data)
    try:
        for k, i in enumerate(scanned):
            if progress:
                progress(k, len(scanned), f"OCR page {i + 1}")
            image = doc[i].render(scale=ocr.DPI / 72).to_pil()
            pages[i] = layout.reading_order(ocr.image_lines(image), float(image.width))
            heights[i] = float(image.height)
            result.ocr_pages.append(i + 1)
        if progress:
            progress(len(scanned), len(scanned), "OCR")
    finally:
        doc.close()
