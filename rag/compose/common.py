"""What every composer shares: the answer built of whole units (`Composed`), a unit as a cited passage, a unit's
place in its list, and quoting."""
from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field

from ingest.normalize import fold, normalize_text
from rag.evidence import Evidence, Passage, page_of
from rag.units import Library, Unit


_NUMBER_LINE = re.compile(r"(?i)^\s*(?:(số|so)\s*[:.]\s*\S*|(?:v/v|về việc|ve viec)\b[^.;:!?]*)\s*$")
_HEADING = re.compile(r"(?i)^\s*(điều|chương|mục|phần|dieu|chuong|muc|phan)\s+[\dIVXLC]+\w*\s*[.:]?\s*")


def bare_heading(text: str) -> bool:
    """"Điều 9. Gia nhập dây họ": a heading names what follows, it answers nothing ("Điều 2. Quyết định này có
    hiệu lực kể từ …" is a sentence on a heading's line, and does)."""
    m = _HEADING.match(text)
    if not m:
        return False
    rest = text[m.end():].strip()
    return not rest or (len(rest.split()) <= 15 and rest[-1] not in ".;:!?")


def quote(p: Passage) -> str:
    """A passage as an answer: its source text verbatim, with its [n] before the final punctuation."""
    sent = " ".join(p.text.split())
    end = sent[-1] if sent[-1] in ".!?;:" else "."
    return f"{sent.rstrip('.!?;:… ')} [{p.n}]{end}"


# -- answers of several units ------------------------------------------------------------------------------
@dataclass
class Composed:
    """An answer built from whole units: `passages` are quoted in `text`, `more` are the items left out by the
    cap (the chat can show them on request), `verdict` is the yes/no verdict when there is one."""
    text: str
    passages: list[Passage]
    more: list[Passage] = field(default_factory=list)
    verdict: str = ""
    basis: str = ""  # how the verdict or the items were decided, for the signals shown to developers


CAP = 8  # items shown before "và N ý khác"
_LIST_KINDS = ("clause", "point", "item", "row")


def unit_passage(n: int, doc_id: str, u: Unit, lib: Library, score: float = 0.0, hits: list[Evidence] = (),
                 info: dict | None = None) -> Passage:
    """A unit read whole from the library as a numbered passage.  Its page and OCR flag are those of its own first
    character (the document's page offsets), its document number the document's own, else a retrieved chunk's."""
    info, meta = info or lib.info(doc_id), lib.meta(doc_id)
    same = [h for h in hits if h.doc_id == doc_id]
    starts = meta.get("page_starts") or []
    h = Evidence(doc_id=doc_id, source=info.get("source", ""), title=info.get("title", ""), text=u.text,
                 start=u.start, end=u.end, page=page_of(starts, u.start), heading=" > ".join(u.path),
                 score=score, label=u.label, ocr=any(x.ocr for x in same),
                 doc_number=next((x.doc_number for x in same if x.doc_number), info.get("number", "")),
                 page_starts=starts, ocr_pages=meta.get("ocr_pages") or [])
    return Passage(n=n, hit=h, text=u.text, start=u.start, end=u.end, score=score)


def unit_at(units: list[Unit], start: int, slack: int = 3) -> int | None:
    """Index of the unit holding a document offset (or starting within `slack` characters after it: a sentence
    of a chunk may begin with a table row's bar, the row unit after it)."""
    starts = [u.start for u in units]
    i = bisect.bisect_right(starts, start + slack) - 1
    return i if i >= 0 and units[i].start - slack <= start < max(units[i].end, units[i].start + 1) else None


def children(units: list[Unit], i: int) -> list[Unit]:
    """What a unit heads: an article heading its clauses and points, a clause ending in ':' its points, any other
    lead-in the list items, points or table rows right after it."""
    u = units[i]
    nxt = units[i + 1:]
    if u.kind == "heading":
        if u.article is not None:
            return list(itertools.takewhile(lambda x: x.article == u.article and x.kind != "heading", nxt))
        return [x for x in itertools.takewhile(lambda x: x.path[:len(u.path)] == u.path, nxt) if x.kind != "heading"]
    if not u.lead_in:
        return []
    if u.kind == "clause":
        return list(itertools.takewhile(lambda x: x.kind == "point" and x.clause == u.clause, nxt))
    return list(itertools.takewhile(lambda x: x.kind in _LIST_KINDS and x.article == u.article, nxt))


def siblings(units: list[Unit], i: int) -> list[Unit]:
    """The list a unit is an item of: the children of its lead-in, or the clauses of its article."""
    u = units[i]
    if u.kind in ("point", "item", "row"):
        j = i
        while j > 0 and units[j - 1].kind == u.kind and units[j - 1].article == u.article:
            j -= 1
        if j > 0 and (units[j - 1].lead_in or units[j - 1].kind == "heading"):
            kids = children(units, j - 1)
            return kids if u in kids else []
        return list(itertools.takewhile(lambda x: x.kind == u.kind, units[j:]))
    if u.kind == "clause" and u.article is not None:
        head = next((k for k in range(i, -1, -1) if units[k].kind == "heading"), None)
        return children(units, head) if head is not None else []
    return []


def _enumerate(doc_id: str, items: list[Unit], lib: Library, hits, score: float, lead: str = "",
               basis: str = "") -> Composed:
    info = lib.info(doc_id)
    ps = [unit_passage(k + 1, doc_id, u, lib, score, hits, info) for k, u in enumerate(items)]
    shown, more = ps[:CAP], ps[CAP:]
    lines = ([lead] if lead else []) + [bullet(p) for p in shown]
    if more:
        lines.append(f"… và {len(more)} ý khác (hỏi «thêm» để xem).")
    return Composed("\n".join(lines), shown, more, basis=basis)


def bullet(p: Passage) -> str:
    """A quoted item on its own line; an item the source already bullets keeps its own mark."""
    return quote(p) if p.text.lstrip()[:1] in "-+•*–" else f"- {quote(p)}"


def mentions(term: str, sentence: str) -> bool:
    t = fold(normalize_text(term).lower()).strip(" ?.")
    return bool(t) and t in fold(normalize_text(sentence).lower())


def in_article(h: Evidence, article: int) -> bool:
    """The hit lies under "Điều N" (its heading path says so)."""
    return bool(re.search(rf"(?i)\b(?:điều|dieu)\s+{article}\b", h.heading or ""))


_NUMBER = re.compile(r"\d[\d.,]*%?")
