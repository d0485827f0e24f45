"""A document as whole units: headings, clauses ("1."), points ("a)"), list items ("-"), table rows and sentences,
each with its offsets in the original text and its place in the legal structure (Chương › Điều › Khoản).

Answers that quote more than one sentence (lists, articles, summaries) are built from these units, so a quote is
never a piece cut at a line break or an abbreviation, and `text == source_text[start:end]` always holds.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

from ingest.chunk import _heading_level, split_sentences
from ingest.normalize import fold, normalize
from rag.rank import without_ellipsis

_ARTICLE = re.compile(r"^\s*(?:Điều|ĐIỀU)\s+(\d+)", re.I)
_CHAPTER = re.compile(r"^\s*(?:Chương|CHƯƠNG|Phần|PHẦN|Mục|MỤC)\s+[\dIVXLC]+", re.I)
_CLAUSE = re.compile(r"^\s*(\d{1,2})[.)]\s+\S")
_POINT = re.compile(r"^\s*([a-zđ])\)\s+\S")
_ITEM = re.compile(r"^\s*(?:[-+•*–]|\(?\d{1,2}[.)]|Bước\s+\d+[.:])\s*\S", re.I)
_ROW = re.compile(r"\|.*\||\t.*\t")


@dataclass(frozen=True)
class Unit:
    start: int  # offsets into the original document text
    end: int
    text: str  # original[start:end]
    kind: str  # heading | clause | point | item | row | sentence
    para: int  # index of the line (paragraph) it is on
    path: tuple[str, ...] = ()  # the headings above it: ("Chương II. …", "Điều 14. …")
    article: int | None = None
    clause: int | None = None
    point: str | None = None

    @property
    def label(self) -> str:
        """"Chương II › Điều 14 › Khoản 1 › Điểm a": where the unit sits, for citations."""
        parts = [p.split(".")[0].strip() for p in self.path]
        if self.clause is not None and self.kind != "heading":
            parts.append(f"Khoản {self.clause}")
        if self.point and self.kind == "point":
            parts.append(f"Điểm {self.point}")
        return " › ".join(parts)

    @property
    def lead_in(self) -> bool:
        """Announces what follows ("… gồm:", "… sau đây:")."""
        return self.text.rstrip().endswith(":")


def _is_title(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(line.split()) <= 15


def document_units(original: str) -> list[Unit]:
    """Every unit of a document, in order."""
    n = normalize(original)
    text = n.text
    units: list[Unit] = []
    stack: list[tuple[int, str]] = []
    article = clause = None
    point = None
    pos = 0
    for para, line in enumerate(text.split("\n")):
        a0, pos = pos, pos + len(line) + 1
        if not line.strip():
            continue
        level = _heading_level(line)
        if level is not None:
            stack = [s for s in stack if s[0] < level] + [(level, " ".join(line.strip().lstrip("#").split())[:120])]
            m = _ARTICLE.match(line)
            if m or _CHAPTER.match(line):
                article = int(m.group(1)) if m else None
                clause = point = None
            kind = "heading"
        elif _is_title(line):
            kind = "heading"  # "QUY ĐỊNH CHUNG" under "Chương I": a title, not content
        elif _ROW.search(line):
            kind = "row"
        elif (m := _CLAUSE.match(line)) and article is not None:
            clause, point, kind = int(m.group(1)), None, "clause"
        elif (m := _POINT.match(line)) and article is not None:
            point, kind = m.group(1), "point"
        elif _ITEM.match(line):
            kind = "item"
        else:
            kind = "sentence"
        path = tuple(s[1] for s in stack)
        spans = [(a0, a0 + len(line))] if kind != "sentence" else split_sentences(text, a0, a0 + len(line))
        edge = " \t|" if kind == "row" else " \t"  # a table row is quoted without its outer bars
        for a, b in spans:
            while a < b and text[a] in edge:
                a += 1
            while b > a and (text[b - 1] in edge or text[b - 1].isspace()):
                b -= 1
            if b <= a:
                continue
            oa, ob = n.span(a, b)
            ob = oa + len(without_ellipsis(original[oa:ob]))
            units.append(Unit(oa, ob, original[oa:ob], kind, para, path, article, clause, point))
    return units


def inline_items(u: Unit) -> list[Unit]:
    """An enumeration inside one sentence ("… là: A; B; C…"): the items after the colon, each a clause of the
    source cut at its semicolon (the lead-in before the colon is left out).  [] when there is none."""
    colon = u.text.find(":")
    if colon < 0 or u.text.count(";", colon) < 1:
        return []
    out, a = [], colon + 1
    for m in re.finditer(r";|$", u.text[colon + 1:]):
        b = colon + 1 + m.start()
        piece = u.text[a:b]
        lead = len(piece) - len(piece.lstrip())
        body = without_ellipsis(piece.strip()).rstrip(".")
        if len(body.split()) >= 2:
            s = u.start + a + lead
            out.append(Unit(s, s + len(body), body, "item", u.para, u.path, u.article, u.clause, u.point))
        a = b + 1
    return out if len(out) >= 2 else []


class Library:
    """A collection's documents as units, with the document numbers each one names in its opening lines;
    the last few documents' units are kept (the answering of a chat session often returns to the same one)."""

    def __init__(self, coll, keep: int = 8):
        self.coll = coll
        self._units: OrderedDict[str, list[Unit]] = OrderedDict()
        self._keep = keep

    def text(self, doc_id: str) -> str:
        return self.coll.document_text(doc_id) or ""

    def units(self, doc_id: str) -> list[Unit]:
        if doc_id in self._units:
            self._units.move_to_end(doc_id)
            return self._units[doc_id]
        us = document_units(self.text(doc_id))
        self._units[doc_id] = us
        while len(self._units) > self._keep:
            self._units.popitem(last=False)
        return us

    def context(self, doc_id: str, i: int) -> str:
        """What a unit is read with: the heading it is under, the lead-in of the list it belongs to, the header
        row of its table ("Giỏi | 3,2 | 110%" means little without "Loại | Điểm | Mức học bổng")."""
        units = self.units(doc_id)
        u = units[i]
        out = list(u.path[-1:])
        j = i
        while j > 0 and units[j - 1].kind == u.kind and u.kind in ("row", "point", "item"):
            j -= 1
        if u.kind == "row" and j < i:
            out.append(units[j].text)
        elif u.kind in ("point", "item") and j > 0 and units[j - 1].lead_in:
            out.append(units[j - 1].text)
        return " ".join(out)

    def info(self, doc_id: str) -> dict:
        return next((d for d in self.coll.documents() if d["doc_id"] == doc_id), {"source": "", "title": ""})

    def named(self, refs, head_chars: int = 600) -> list[str]:
        """Documents that are the ones a question names: the number appears in their title, file name or
        opening lines (where a regulation states its own number), not merely somewhere in the text."""
        if not refs:
            return []
        out = []
        for d in self.coll.documents():
            if d.get("status", "ok") != "ok":
                continue
            head = fold(" ".join([d.get("title") or "", d.get("source") or "", d.get("doc_number") or "",
                                  self.text(d["doc_id"])[:head_chars]]).lower())
            if any(r.pattern().search(head) for r in refs):
                out.append(d["doc_id"])
        return out

    def all_ids(self, limit: int = 200) -> list[str]:
        docs = [d["doc_id"] for d in self.coll.documents() if d.get("status", "ok") == "ok"]
        return docs if len(docs) <= limit else []
