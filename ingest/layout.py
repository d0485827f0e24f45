"""Page lines (from a PDF text layer or from OCR) into text that reads like the page.

Lines wrapped at the page edge are joined into paragraphs, hyphenated wraps mended, running headers,
footers and page numbers dropped, two-column pages read column by column, and a paragraph that runs on
to the next page joined across the break. The result is the document text every offset refers to.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

from ingest.structure import heading_of


@dataclass
class Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    block: int = -1  # OCR paragraph id (-1 = unknown): a change is a paragraph break
    table: bool = False  # a table row rendered as text: always its own paragraph
    column: int = 0  # 0: full width, 1: left column, 2: right column of a two-column page


_PAGE_NUMBER = re.compile(r"^(?:trang\s*|page\s*)?[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?(?:\s*/\s*\d{1,4})?$", re.I)
_ITEM = re.compile(r"^(?:\d{1,3}[.)](?:\[\d{1,3}\])?\s|[a-zđ]\)\s|[-–•●▪+*]\s|[IVXLC]+\.\s|\[\d{1,3}\]\s)")
_END = re.compile(r"[.!?…:;]['\"”’)\]]*$")


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower().strip())


def drop_running(pages: list[list[Line]], heights: list[float]) -> list[list[Line]]:
    """Without the headers and footers repeated on many pages, and page numbers in the margins."""
    margin_lines: Counter = Counter()
    for lines, h in zip(pages, heights):
        margin_lines.update({_key(x.text) for x in _margins(lines, h)})
    repeated = {k for k, n in margin_lines.items() if len(pages) >= 2 and n >= max(2, 0.5 * len(pages))}
    out = []
    for lines, h in zip(pages, heights):
        margin = {id(x) for x in _margins(lines, h)}
        out.append([x for x in lines if id(x) not in margin
                    or not (_key(x.text) in repeated or _PAGE_NUMBER.match(x.text.strip()))])
    return out


def _margins(lines: list[Line], height: float) -> list[Line]:
    """The first two and last two lines of a page, when they sit in its top or bottom tenth."""
    if not lines:
        return []
    ends = lines[:2] + lines[-2:]
    return [x for x in ends if x.bottom < height * 0.12 or x.top > height * 0.88]


def reading_order(lines: list[Line], width: float) -> list[Line]:
    """Top to bottom; a two-column page left column first (a gutter no line crosses in the middle)."""
    lines = sorted(lines, key=lambda x: (round(x.top), x.x0))
    body = [x for x in lines if not x.table]
    if len(body) < 8:
        return lines
    mid_lo, mid_hi = width * 0.35, width * 0.65
    for gutter in range(int(mid_lo), int(mid_hi), 4):
        left = [x for x in body if x.x1 <= gutter]
        right = [x for x in body if x.x0 >= gutter]
        crossing = len(body) - len(left) - len(right)
        if crossing <= len(body) * 0.1 and min(len(left), len(right)) >= len(body) * 0.25:
            top_of_columns = min(x.top for x in left + right)
            above = [x for x in lines if x.top < top_of_columns or (x.x0 < gutter < x.x1)]
            rest = [x for x in lines if x not in above]
            left_col = sorted((x for x in rest if x.x1 <= gutter), key=lambda x: x.top)
            right_col = sorted((x for x in rest if x.x1 > gutter), key=lambda x: x.top)
            for k, col in ((1, left_col), (2, right_col)):
                for x in col:
                    x.column = k
            return above + left_col + right_col
    return lines


def paragraphs(lines: list[Line]) -> list[str]:
    """Lines joined into paragraphs: a break only where the page shows one."""
    if not lines:
        return []
    body = [x for x in lines if not x.table]
    margins = {}  # column -> (left, right, width): a column's lines end at its own right edge
    for col in {x.column for x in body}:
        xs = [x for x in body if x.column == col]
        lo, hi = min(x.x0 for x in xs), max(x.x1 for x in xs)
        margins[col] = (lo, hi, max(hi - lo, 1.0))
    heights = [x.bottom - x.top for x in body] or [10.0]
    line_h = statistics.median(heights)
    gaps = [b.top - a.bottom for a, b in zip(body, body[1:]) if 0 <= b.top - a.bottom < 3 * line_h]
    gap = statistics.median(gaps) if gaps else line_h * 0.4
    out: list[str] = []
    for prev, cur in zip([None] + lines[:-1], lines):
        text = cur.text.strip()
        if not text:
            continue
        if prev is None or not out or prev.column != cur.column \
                or _breaks(prev, cur, *margins.get(prev.column, (0.0, 1.0, 1.0)), gap, line_h):
            out.append(text)
        else:
            out[-1] = join_wrapped(out[-1], text)
    return out


def _breaks(prev: Line, cur: Line, left: float, right: float, width: float, gap: float, line_h: float) -> bool:
    p, c = prev.text.strip(), cur.text.strip()
    if prev.table or cur.table or (cur.block != prev.block):
        return True
    if cur.top - prev.bottom > gap + 0.5 * line_h:  # a blank line's worth of space
        return True
    if _ITEM.match(c) or heading_of(c) or heading_of(p):
        return True
    if prev.x1 < right - 0.12 * width:  # the line ended early: its paragraph ended
        return True
    if cur.x0 > left + 0.04 * width and prev.x0 <= left + 0.02 * width and _END.search(p):  # indent
        return True
    return False


def join_wrapped(a: str, b: str) -> str:
    """Join a wrapped line to the next: a hyphenated word mended, otherwise one space."""
    if re.search(r"[^\W\d_]-$", a) and b[:1].islower():
        if re.search(r"[a-z]{2,}-$", a) and re.match(r"[a-z]", b):  # a word split by a soft hyphen
            return a[:-1] + b
        return a + b  # "Nghị quyết 11-" + "NQ/TW": the hyphen belongs to the text
    if a.endswith("-") and b[:1].isalnum():
        return a + b
    return a + " " + b


def continues(last_paragraph: str, next_first_line: str) -> bool:
    """A paragraph at the foot of a page runs on to the next page."""
    return bool(last_paragraph) and not _END.search(last_paragraph.strip()) and next_first_line[:1].islower() \
        and not _ITEM.match(next_first_line) and not heading_of(next_first_line)


def join_pages(pages: list[list[str]]) -> tuple[str, list[int]]:
    """Paragraphs of each page into one text and the offset where each page begins."""
    text, starts = "", []
    for paras in pages:
        if paras and text and continues(text.rstrip("\n").rsplit("\n", 1)[-1], paras[0]):
            text = text.rstrip("\n") + " "
            starts.append(len(text))
        else:
            starts.append(len(text))
        if paras:
            text += "\n".join(paras) + "\n\n"
    return text, starts
