"""Sentence-aware chunking of a normalized document, with headings kept with their chunk."""
from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable

from ingest.normalize import Normalized

# Abbreviations that end with a period but do not end a sentence (compared lowercased).
ABBREVIATIONS = {
    "tp", "ts", "ths", "pgs", "gs", "bs", "bsck", "ks", "cn", "th.s", "v.v", "vv", "tt", "q", "p",
    "tx", "st", "mr", "mrs", "ms", "dr", "no", "vs", "etc", "e.g", "i.e", "tr", "sđd", "nxb", "đ/c",
}
_SENT_END = re.compile(r"[.!?…]+[\"”’)\]]*(?=\s+[\"“‘(\[]?[\w\d])|\n+")
HEADING = re.compile(
    r"^\s*(?:(#{1,6})\s+\S.*|(Phần|PHẦN|Chương|CHƯƠNG|Mục|MỤC|Điều|ĐIỀU|Phụ lục|PHỤ LỤC)\s+[\dIVXLCivxlc]+[a-z]?\b.*)$"
)
_MARKER_END = re.compile(r"(?:Điều|ĐIỀU|Khoản|Chương|CHƯƠNG|Mục|MỤC|Phần|PHẦN)\s+[\dIVXLC]+[a-z]?$")
_LEGAL_LEVEL = {"phần": 1, "chương": 2, "mục": 3, "phụ lục": 2, "điều": 4}


@dataclass
class Chunk:
    idx: int
    text: str  # normalized text: what is embedded and indexed
    start: int  # offsets into the ORIGINAL document text
    end: int
    heading: str = ""
    page: int | None = None
    hash: str = field(default="")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of text[start:end]; whitespace-trimmed, abbreviations and numbers kept whole."""
    end = len(text) if end is None else end
    spans, cur = [], start
    for m in _SENT_END.finditer(text, start, end):
        if m.group(0)[0] == ".":
            word = re.search(r"([\w./]+)$", text[cur:m.start()])
            w = word.group(1).lower() if word else ""
            if w in ABBREVIATIONS or (len(w) == 1 and w.isalpha()) or _MARKER_END.search(text, cur, m.start()):
                continue
        _push(text, spans, cur, m.end())
        cur = m.end()
    _push(text, spans, cur, end)
    return spans


def _push(text: str, spans: list, a: int, b: int) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))


def _heading_level(line: str) -> int | None:
    m = HEADING.match(line)
    if not m or len(line) > 200:
        return None
    if m.group(1):
        return len(m.group(1))
    return _LEGAL_LEVEL.get(m.group(2).lower(), 4)


def chunk_document(
    doc: Normalized,
    count_tokens: Callable[[str], int],
    max_tokens: int = 160,
    overlap_sentences: int = 1,
    page_starts: list[int] | None = None,
) -> list[Chunk]:
    """Split into chunks of at most ~max_tokens embedder tokens on sentence boundaries."""
    text = doc.text
    units: list[tuple[int, int, int, str]] = []  # (start, end, tokens, heading path)
    stack: list[tuple[int, str]] = []
    pos = 0
    for line in text.split("\n"):
        lstart, lend = pos, pos + len(line)
        pos = lend + 1
        level = _heading_level(line)
        if level is not None:
            stack = [s for s in stack if s[0] < level] + [(level, line.strip().lstrip("#").strip()[:80])]
        path = " > ".join(s[1] for s in stack)
        first = level is not None
        for a, b in split_sentences(text, lstart, lend):
            for sa, sb in _split_long(text, a, b, count_tokens, max_tokens):
                units.append((sa, sb, count_tokens(text[sa:sb]), "\x00" + path if first else path))
                first = False
    chunks: list[Chunk] = []
    cur: list[tuple[int, int, int, str]] = []

    def flush(keep_overlap: bool) -> None:
        nonlocal cur
        if not cur:
            return
        a, b = cur[0][0], cur[-1][1]
        oa, ob = doc.span(a, b)
        heading = cur[-1][3].lstrip("\x00")
        page = None
        if page_starts:
            page = bisect.bisect_right(page_starts, oa)
        body = text[a:b]
        chunks.append(Chunk(len(chunks), body, oa, ob, heading, page, hashlib.sha1(body.encode()).hexdigest()[:16]))
        tail = cur[-overlap_sentences:] if keep_overlap and overlap_sentences > 0 and len(cur) > 1 else []
        cur = [u for u in tail if not u[3].startswith("\x00")]

    def page_of(u) -> int | None:
        return bisect.bisect_right(page_starts, doc.offsets[u[0]]) if page_starts else None

    for u in units:
        is_heading = u[3].startswith("\x00")
        total = sum(x[2] for x in cur)
        if cur and page_starts and page_of(u) != page_of(cur[0]):
            flush(keep_overlap=False)  # a chunk never spans two pages: its page number is exact
            cur = []
        if is_heading and any(not x[3].startswith("\x00") for x in cur):
            flush(keep_overlap=False)
        elif cur and total + u[2] > max_tokens and not all(x[3].startswith("\x00") for x in cur):
            # (a chunk of headings only is never emitted: headings stay with the text they head)
            flush(keep_overlap=True)
            if sum(x[2] for x in cur) + u[2] > max_tokens:
                cur = []
        cur.append(u)
    flush(keep_overlap=False)
    return chunks


def _split_long(text, a, b, count_tokens, max_tokens):
    """A single sentence longer than a chunk is cut on word boundaries."""
    if count_tokens(text[a:b]) <= max_tokens:
        return [(a, b)]
    out, words = [], [m.span() for m in re.finditer(r"\S+", text[a:b])]
    piece: list[tuple[int, int]] = []
    budget = 0
    for s, e in words:
        # rough per-word estimate avoids calling the tokenizer once per word
        w = max(1, (e - s) // 4)
        if piece and budget + w > max_tokens * 0.9:
            out.append((a + piece[0][0], a + piece[-1][1]))
            piece, budget = [], 0
        piece.append((s, e))
        budget += w
    if piece:
        out.append((a + piece[0][0], a + piece[-1][1]))
    return out
