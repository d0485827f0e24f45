"""When was a document issued: "Nghị quyết 37 ban hành ngày nào?", "Nghị định 86/2015 ngày nào?".

The answer is the sentence that names that number followed by its date ("Nghị quyết 37-NQ/TW ngày 01/7/2004"),
with or without "ban hành", else the header line of the document with that number ("Hà Nội, ngày 02 tháng 10 năm
2015").  Dates are read on the folded text (folding keeps offsets).
"""
from __future__ import annotations

import re

from ingest.normalize import fold
from rag.compose.common import Composed, quote, unit_passage
from rag.question import Question
from rag.units import Library

_ASKS_DATE = re.compile(r"\b(ngay nao|ngay bao nhieu|ngay may|khi nao|bao gio|thoi diem nao|nam nao|luc nao)\b")
_ASKS_OTHER = re.compile(r"\b(hieu luc|het han|ket thuc|to chuc|dien ra|hop|khai mac|thi hanh)\b")
_DATE = re.compile(r"\bngay\s+\d{1,2}\s*(?:[/.-]\s*\d{1,2}\s*[/.-]\s*\d{4}|thang\s+\d{1,2}\s+nam\s+\d{4})")
_NEAR = 40  # characters between the number and its date ("37-NQ/TW ngày 01/7/2004", "… số 86/2015/NĐ-CP ngày …")
_HEAD = 1200  # a document's header (its place and date) is in its opening characters


def asks_issue_date(q: Question) -> bool:
    """A question about when a named document was issued (not when it takes effect or when a meeting was)."""
    f = fold(q.text.lower())
    return bool(q.documents) and bool(_ASKS_DATE.search(f)) and not _ASKS_OTHER.search(f)


def compose_issue_date(q: Question, lib: Library, hits) -> Composed:
    """The unit naming the document's number with its date: in the retrieved documents first, then in any;
    else the dated header line of the document with that number."""
    order = list(dict.fromkeys([h.doc_id for h in hits] + lib.all_ids()))
    for ref in q.documents:
        pattern = ref.pattern()
        for doc_id in order:
            for u in lib.units(doc_id):
                f = fold(u.text.lower())
                if any(_DATE.match(f, m.end() + k) for m in pattern.finditer(f) for k in _gaps(f, m.end())):
                    return _one(doc_id, u, lib, hits)
        for doc_id in lib.named([ref]):
            for u in lib.units(doc_id):
                if u.start > _HEAD:
                    break
                if _DATE.search(fold(u.text.lower())):
                    return _one(doc_id, u, lib, hits)
    return Composed("", [])


def _gaps(f: str, at: int) -> range:
    """Offsets after the number where its date may start: within _NEAR characters, before any other number."""
    stop = next((i for i in range(at, min(len(f), at + _NEAR)) if f[i] == ";" or f[i:i + 4] in (" so ", " va ")),
                min(len(f), at + _NEAR))
    return range(0, max(0, stop - at))


def _one(doc_id: str, u, lib: Library, hits) -> Composed:
    p = unit_passage(1, doc_id, u, lib, 1.0, hits)
    return Composed(quote(p), [p], basis="issue-date")
