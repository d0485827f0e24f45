"""Sentence-aware chunking of a normalized document, with headings kept with their chunk."""
from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable

from ingest.layout import continues
from ingest.normalize import Normalized, normalize
from ingest.structure import LegalPath, heading_of, span_label

# Abbreviations that end with a period but do not end a sentence (compared lowercased).
ABBREVIATIONS = {
    "tp", "ts", "ths", "pgs", "gs", "bs", "bsck", "ks", "cn", "th.s", "v.v", "vv", "tt", "q", "p",
    "tx", "st", "mr", "mrs", "ms", "dr", "no", "vs", "etc", "e.g", "i.e", "tr", "sđd", "nxb", "đ/c",
}
_SENT_END = re.compile(r"[.!?…]+[\"”’)\]]*(?=\s+[\"“‘(\[]?[\w\d])|\n+")
_MARKDOWN_HEADING = re.compile(r"^\s*(#{1,6})\s+\S")
_MARKER_END = re.compile(r"(?:Điều|ĐIỀU|Khoản|Chương|CHƯƠNG|Mục|MỤC|Phần|PHẦN)\s+[\dIVXLC]+[a-z]?$")


@dataclass
class Chunk:
    idx: int
    text: str  # normalized text: what is embedded and indexed
    start: int  # offsets into the ORIGINAL document text
    end: int
    heading: str = ""
    page: int | None = None
    hash: str = field(default="")
    label: str = ""  # where it sits in a legal document: "Chương II › Điều 14 › Khoản 1–2"
    marks: list[tuple[int, str]] = field(default_factory=list)  # (original offset, label) where the label changes


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of text[start:end]; whitespace-trimmed, abbreviations and numbers kept whole."""
    end = len(text) if end is None else end
    spans, cur = [], start
    for m in _SENT_END.finditer(text, start, end):
        if m.group(0) == "\n" and wraps(text, m.start()):
            continue
        if m.group(0)[0] == ".":
            word = re.search(r"([\w./]+)$", text[cur:m.start()])
            w = word.group(1).lower() if word else ""
            if w in ABBREVIATIONS or (len(w) == 1 and w.isalpha()) or _MARKER_END.search(text, cur, m.start()) \
                    or re.fullmatch(r"\s*(?:\d{1,3}|[IVXLC]{1,5})", text[cur:m.start()]):  # "1. ", "II. " open an item
                continue
        _push(text, spans, cur, m.end())
        cur = m.end()
    _push(text, spans, cur, end)
    return spans


def chunk_sentences(original: str) -> list[tuple[int, int, int, int]]:
    """The sentences of a chunk's original text, as the answer quotes them: (start, end) in `original` and
    (start, end) in its normalized text."""
    n = normalize(original)
    return [(*n.span(a, b), a, b) for a, b in split_sentences(n.text)]


def wraps(text: str, newline: int) -> bool:
    """A line break inside a sentence (hard-wrapped text): the line before has no end punctuation and the
    next starts in lower case (not a list item or heading)."""
    before = text[text.rfind("\n", 0, newline) + 1:newline]
    after_end = text.find("\n", newline + 1)
    after = text[newline + 1:after_end if after_end >= 0 else len(text)]
    return bool(before.strip()) and continues(before, after.lstrip())


def logical_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line, a hard-wrapped sentence's lines taken as one."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        if out and wraps(text, start - 1):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
        pos = end + 1
    return out


def _push(text: str, spans: list, a: int, b: int) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))


def heading_level(line: str, legal_heading: bool, stack: list[tuple[int, str]]) -> int | None:
    m = _MARKDOWN_HEADING.match(line)
    if m and len(line) <= 200:
        return len(m.group(1))
    if legal_heading:
        h = heading_of(line)
        return h[0] if h else (stack[-1][0] if stack else 2)  # a bare chapter's title: its chapter's level
    return None


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
    labels: dict[int, str] = {}  # unit start -> legal label
    stack: list[tuple[int, str]] = []
    legal = LegalPath()
    for lstart, lend in logical_lines(text):
        line = text[lstart:lend]
        label, legal_heading = legal.feed(line)
        level = 1 if legal.note else heading_level(line, legal_heading, stack)
        if level is not None:
            name = line.strip().lstrip("#").strip()[:80]
            if legal_heading and not legal.note and stack and stack[-1][0] == level and heading_of(line) is None:
                stack[-1] = (level, f"{stack[-1][1]}. {name}")  # "Chương I. QUY ĐỊNH CHUNG"
            else:
                stack = [s for s in stack if s[0] < level] + [(level, name)]
        path = " > ".join(s[1] for s in stack)
        first = level is not None
        # a footnote's text and the signature block are content, not headings, but start a chunk ("\x01")
        mark = "\x01" if legal.note or legal.closing else "\x00"
        first = first or legal.closing
        for a, b in split_sentences(text, lstart, lend):
            for sa, sb in _split_long(text, a, b, count_tokens, max_tokens):
                units.append((sa, sb, count_tokens(text[sa:sb]), mark + path if first else path))
                labels[sa] = label
                first = False
    chunks: list[Chunk] = []
    cur: list[tuple[int, int, int, str]] = []

    def flush(keep_overlap: bool) -> None:
        nonlocal cur
        if not cur:
            return
        a, b = cur[0][0], cur[-1][1]
        oa, ob = doc.span(a, b)
        heading = cur[-1][3].lstrip("\x00\x01")
        page = None
        if page_starts:
            page = bisect.bisect_right(page_starts, oa)
        body = text[a:b]
        unit_labels = [labels.get(u[0], "") for u in cur]
        content_labels = [lab for u, lab in zip(cur, unit_labels) if not u[3].startswith("\x00")] or unit_labels
        marks = [(doc.span(u[0], u[1])[0], lab) for k, (u, lab) in enumerate(zip(cur, unit_labels))
                 if k == 0 or lab != unit_labels[k - 1]]
        chunks.append(Chunk(len(chunks), body, oa, ob, heading, page, hashlib.sha1(body.encode()).hexdigest()[:16],
                            span_label(content_labels), [m for m in marks if m[1]]))
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
        if (is_heading or u[3].startswith("\x01")) and any(not x[3].startswith("\x00") for x in cur):
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
