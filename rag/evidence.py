"""The evidence record, from the store to the citation.

`Evidence` is a span of one document as retrieved (a chunk) or as read whole from the library (an article, a list
item, a table row); `Sentence` is one sentence of it as ranked; `Passage` is the part of it an answer quotes,
numbered; `Citation` is what every door shows of a passage.  Each is built with keywords, and a passage's page, OCR
flag and legal label are those of its own first character, read from its document's metadata."""
from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import NamedTuple


def page_of(page_starts: list[int], offset: int) -> int | None:
    """The 1-based page an offset of a document is on; None for a document without pages (not a PDF)."""
    return bisect.bisect_right(page_starts, offset) if page_starts else None


@dataclass(kw_only=True)
class Evidence:
    doc_id: str
    source: str
    title: str
    text: str  # the original document's text at [start, end)
    start: int
    end: int
    chunk_id: str = ""  # "" for a unit read from the library rather than a retrieved chunk
    norm: str = ""  # normalized text (what was indexed)
    page: int | None = None  # the page the span begins on (PDF)
    heading: str = ""
    score: float = 0.0  # fused score, 0..1, comparable within one query only
    dense: float | None = None  # raw cosine similarity
    bm25: float | None = None  # raw BM25 score
    label: str = ""  # legal structure: "Chương II › Điều 14 › Khoản 1–2"
    marks: list = field(default_factory=list)  # [(original offset, label)] where the label changes
    ocr: bool = False  # the text came from OCR of a scanned page
    doc_number: str = ""  # the document's symbol, e.g. "100/2019/NĐ-CP"
    page_starts: list = field(default_factory=list, repr=False)  # the document's page offsets (PDF)
    ocr_pages: list = field(default_factory=list, repr=False)  # the document's 1-based pages read by OCR
    sentence_vecs: dict = field(default_factory=dict, repr=False)  # sentence's document offset -> stored vector

    def label_at(self, offset: int) -> str:
        """The structure label of the text at an offset of the document (a cited sentence's own clause)."""
        found = self.label
        for start, label in self.marks:
            if start <= offset:
                found = label
        return found

    def page_at(self, offset: int) -> int | None:
        """The page an offset of the document is on: a sentence deep in a chunk may be a page after its start."""
        return page_of(self.page_starts, offset) if self.page_starts else self.page

    def ocr_at(self, offset: int) -> bool:
        page = self.page_at(offset)
        return page in self.ocr_pages if self.page_starts and self.ocr_pages else self.ocr

    def citation(self, n: int) -> Citation:
        """The whole span cited (the passages retrieved, shown beside an answer)."""
        return Citation(n=n, doc_id=self.doc_id, source=self.source, title=self.title, text=self.text,
                        start=self.start, end=self.end, score=round(self.score, 4), page=self.page,
                        heading=self.heading, label=self.label, ocr=self.ocr, doc_number=self.doc_number)

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("sentence_vecs", "page_starts", "ocr_pages")}


class Sentence(NamedTuple):
    """One sentence of a retrieved span, as ranked: `rank` is its evidence's place among the hits."""
    rank: int
    start: int  # offsets into the original document
    end: int
    text: str
    hit: Evidence


class Ranked(NamedTuple):
    score: float
    sentence: Sentence


@dataclass(kw_only=True)
class Passage:
    """The part of an evidence span an answer quotes, numbered as the answer cites it."""
    n: int
    hit: Evidence
    text: str  # original text of the passage: what is cited and quoted
    start: int  # offsets into the original document
    end: int
    score: float
    context: str = ""  # what the generator reads, when more than `text` (a short sentence with the one before)

    @property
    def read(self) -> str:
        return self.context or self.text

    def citation(self, n: int | None = None) -> Citation:
        h = self.hit
        return Citation(n=self.n if n is None else n, doc_id=h.doc_id, source=h.source, title=h.title,
                        text=self.text, start=self.start, end=self.end, score=round(h.score, 4),
                        page=h.page_at(self.start), heading=h.heading, label=h.label_at(self.start),
                        ocr=h.ocr_at(self.start), doc_number=h.doc_number)


@dataclass(kw_only=True)
class Citation:
    n: int
    doc_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    score: float
    page: int | None = None
    heading: str = ""
    label: str = ""  # the cited text's place in a legal document: "Điều 14 › Khoản 1"
    ocr: bool = False  # read by OCR from a scanned page
    doc_number: str = ""  # the document's symbol, e.g. "100/2019/NĐ-CP"
