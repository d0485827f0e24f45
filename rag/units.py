"""A document as whole units: headings, clauses ("1."), points ("a)"), list items ("-"), table rows and sentences,
each with its offsets in the original text and its place in the legal structure (Chương › Điều › Khoản).

Answers that quote more than one sentence (lists, articles, summaries) are built from these units, so a quote is
never a piece cut at a line break or an abbreviation, and `text == source_text[start:end]` always holds.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path
from dataclasses import dataclass

from ingest.chunk import heading_level, logical_lines, split_sentences
from ingest.normalize import fold, normalize
from ingest.structure import LegalPath, heading_of
from rag.rank import without_ellipsis

_ITEM = re.compile(r"^\s*(?:[-+•*–]|\(?\d{1,2}[.)]|Bước\s+\d+[.:])\s*\S", re.I)
# a table row: cells between bars or tabs, or "Cột: giá trị; Cột: giá trị" (how ingest writes a DOCX/PDF table)
_ROW = re.compile(r"\|.*\||\t.*\t|^[^:;]{1,60}:\s*[^;]+(?:;\s*[^:;]{1,60}:\s*[^;]+){2,}$")
_LABEL = re.compile(r"(Điều|Khoản|Điểm) (\w+)")
# where a document's header block ends: its preamble ("Căn cứ …") or its first chapter or article
_PREAMBLE = re.compile(r"(?im)^\s*(căn cứ|can cu|chương\s+i\b|điều\s+1\b)")


@dataclass(frozen=True)
class Unit:
    start: int  # offsets into the original document text
    end: int
    text: str  # original[start:end]
    kind: str  # heading | clause | point | item | row | sentence
    para: int  # index of the (logical) line it is on
    path: tuple[str, ...] = ()  # the heading lines above it: ("Chương II", "Điều 14. Quyền khiếu nại …")
    label: str = ""  # its place in the legal structure (ingest.structure): "Chương II › Điều 14 › Khoản 1"
    article: int | None = None
    clause: int | None = None
    point: str | None = None

    @property
    def lead_in(self) -> bool:
        """Announces what follows ("… gồm:", "… sau đây:")."""
        return self.text.rstrip().endswith(":")


def _is_title(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(line.split()) <= 15


def _numbers(label: str) -> tuple[int | None, int | None, str | None]:
    found = {k: v for k, v in _LABEL.findall(label)}
    art, clause = (re.match(r"\d+", found.get(k, "")) for k in ("Điều", "Khoản"))
    return (int(art.group()) if art else None, int(clause.group()) if clause else None, found.get("Điểm"))


def document_units(original: str) -> list[Unit]:
    """Every unit of a document, in order: lines as the ingest reads them (a hard-wrapped sentence's lines are
    one), labelled by its legal structure reader; a clause, point, list item, table row or heading is one unit,
    any other line is split into sentences."""
    n = normalize(original)
    text = n.text
    units: list[Unit] = []
    stack: list[tuple[int, str]] = []
    legal = LegalPath()
    for para, (a0, b0) in enumerate(logical_lines(text)):
        line = text[a0:b0]
        if not line.strip():
            continue
        label, legal_heading = legal.feed(line)
        level = heading_level(line, legal_heading, stack)
        if level is not None and (heading_of(line) or not legal_heading):
            stack = [s for s in stack if s[0] < level] + [(level, " ".join(line.strip().lstrip("#").split())[:120])]
        article, clause, point = _numbers(label)
        if level is not None or _is_title(line):
            kind = "heading"
        elif _ROW.search(line):
            kind = "row"
        elif article is not None and label.endswith(f"Khoản {clause}") and re.match(r"\s*\d", line):
            kind = "clause"
        elif article is not None and point and label.endswith(f"Điểm {point}"):
            kind = "point"
        elif _ITEM.match(line):
            kind = "item"
        else:
            kind = "sentence"
        path = tuple(s[1] for s in stack)
        spans = [(a0, b0)] if kind != "sentence" else split_sentences(text, a0, b0)
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
            units.append(Unit(oa, ob, original[oa:ob], kind, para, path, label, article, clause, point))
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
            out.append(Unit(s, s + len(body), body, "item", u.para, u.path, u.label, u.article, u.clause, u.point))
        a = b + 1
    return out if len(out) >= 2 else []


# the code a kind of document carries in its number: "Nghị định 86" is 86/2015/NĐ-CP, not 86/QĐ-UBND
_KIND_CODE = {"nghi dinh": "nd", "nghi quyet": "nq", "thong tu": "tt", "quyet dinh": "qd", "chi thi": "ct",
              "luat": "qh", "bo luat": "qh", "phap lenh": "ubtvqh", "van ban hop nhat": "vbhn", "ket luan": "kl"}


def _numbered(ref, number: str) -> bool:
    """A document named by kind and number only ("Nghị định 86") is the one whose own number is that number with
    the kind's code ("86/2015/NĐ-CP")."""
    code = _KIND_CODE.get(ref.kind)
    n = fold(number.lower())
    return bool(code and n.startswith(f"{ref.number}/") and re.search(rf"[/-]{code}\b", n))


class Library:
    """A collection's documents as units, with the document numbers each one names in its opening lines;
    the last few documents' units are kept (the answering of a chat session often returns to the same one)."""

    def __init__(self, coll, keep: int = 8):
        self.coll = coll
        self._units: OrderedDict[str, list[Unit]] = OrderedDict()
        self._keep = keep
        self._meta: dict[str, dict] = {}
        self._identity: dict[str, str] = {}
        self._folded: dict[str, str] = {}

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

    def lead_in(self, doc_id: str, i: int) -> Unit | None:
        """The unit a list item, point or table row is read under: the lead-in ending in ":" before its list,
        or its table's header row."""
        units = self.units(doc_id)
        u = units[i]
        if u.kind not in ("row", "point", "item"):
            return None
        j = i
        while j > 0 and units[j - 1].kind == u.kind:
            j -= 1
        if u.kind == "row":
            return units[j] if j < i else None
        return units[j - 1] if j > 0 and units[j - 1].lead_in else None

    def context(self, doc_id: str, i: int) -> str:
        """What a unit is read with: the heading it is under and its lead-in ("Giỏi | 3,2 | 110%" means little
        without "Loại | Điểm | Mức học bổng"; "b) Mang đồ ăn" nothing without "không được … sau đây:")."""
        lead = self.lead_in(doc_id, i)
        return " ".join(list(self.units(doc_id)[i].path[-1:]) + ([lead.text] if lead else []))

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
            head = fold(" ".join([d.get("title") or "", d.get("source") or "", d.get("number") or "",
                                  self.text(d["doc_id"])[:head_chars]]).lower())
            if any(r.pattern().search(head) or _numbered(r, d.get("number") or "") for r in refs):
                out.append(d["doc_id"])
        return out

    def meta(self, doc_id: str) -> dict:
        """The document's metadata: number, type, page_starts (PDF), ocr_pages."""
        if doc_id not in self._meta:
            self._meta[doc_id] = self.coll.document_meta(doc_id) or {}
        return self._meta[doc_id]

    def identity(self, doc_id: str, head_chars: int = 600) -> str:
        """Who the document is, folded: its title, number, file name and header block (the text before its
        preamble "Căn cứ …" or its first article), not what it quotes or cites."""
        if doc_id not in self._identity:
            info = self.info(doc_id)
            head = self.text(doc_id)[:head_chars]
            cut = _PREAMBLE.search(head)
            head = head[:cut.start()] if cut else head
            self._identity[doc_id] = " ".join(fold(" ".join([info.get("title") or "", info.get("number") or "",
                                                             Path(info.get("source") or "").name, head]).lower()).split())
        return self._identity[doc_id]

    def titled(self, titles: list[str]) -> list[str]:
        """Documents a question names by kind and name ("luat dat dai"): those whose identity holds the longest
        leading part of the name (the kind and at least two of its words, or all of a shorter name)."""
        out: list[str] = []
        ids = self.all_ids()
        for t in titles:
            words = t.split()
            for k in range(len(words), 0, -1):
                if k < min(len(words), 3):
                    break
                prefix = re.compile(r"\b" + r"\s+".join(map(re.escape, words[:k])) + r"\b")
                found = [d for d in ids if prefix.search(self.identity(d))]
                if found:
                    out += found
                    break
        return list(dict.fromkeys(out))

    def paragraph(self, doc_id: str, start: int, end: int) -> str:
        """The line (paragraph) of the document a span lies on."""
        text = self.text(doc_id)
        a = text.rfind("\n", 0, start) + 1
        b = text.find("\n", end)
        return text[a:b if b >= 0 else len(text)]

    def mentions(self, pattern: re.Pattern) -> bool:
        """Does any document's text (folded) hold the pattern: a document the collection cites or quotes."""
        for d in self.all_ids():
            if d not in self._folded:
                self._folded[d] = fold(self.text(d).lower())
            if pattern.search(self._folded[d]):
                return True
        return False

    def all_ids(self, limit: int = 200) -> list[str]:
        docs = [d["doc_id"] for d in self.coll.documents() if d.get("status", "ok") == "ok"]
        return docs if len(docs) <= limit else []
