"""Lists and procedures: the items of the list the best-ranked sentence heads or belongs to, in document order."""
from __future__ import annotations

import re

from ingest.normalize import fold
from rag.compose.common import CAP, Composed, _enumerate, children, siblings, unit_at
from rag.evidence import Evidence
from rag.question import Question
from rag.rank import PROMPT_MARGIN
from rag.terms import content_terms, coverage, weighted_coverage
from rag.units import Library, Unit, inline_items


def list_items(units: list[Unit], i: int, steps: bool = False) -> list[Unit]:
    """The items a question asking for several things is answered with, from the unit that matched it best:
    what it heads, the list it belongs to, the enumeration inside it, or else the rest of its paragraph.  A
    heading is answered with the first list under it (with `steps`: the first that reads as steps, else its
    clauses and sentences outside lists), else with all that is under it."""
    u = units[i]
    if u.kind == "heading":
        section = children(units, i)
        heads = [x for x in section if x.lead_in and len(children(units, units.index(x))) >= 2]
        lists = [(children(units, units.index(x)), x.text) for x in heads]
        if not steps:
            return (lists or [(section, "")])[0][0][:CAP * 2]
        fit = [x for x in lists if _steps(*x)]
        # no list of steps under it: the steps may be told in its sentences (a list of conditions is not how)
        in_lists = {id(u) for x in heads for u in [x, *children(units, units.index(x))]}
        sentences = [x for x in section if x.kind == "sentence" and id(x) not in in_lists]
        # steps told in sentences ("Trước hết … Sau đó …"), else the article's clauses and sentences in order
        prose = sentences if _steps(sentences) else [x for x in section if x.kind in ("sentence", "clause")
                                                    and id(x) not in in_lists]
        return (fit[0][0] if fit else prose or (lists or [(section, "")])[0][0])[:CAP * 2]
    for items in (children(units, i), siblings(units, i), inline_items(u)):
        if len(items) >= 2:
            return items
    return [x for x in units[i:] if x.para == u.para and x.kind == "sentence"][:4]


def _structured(units: list[Unit], i: int) -> bool:
    u = units[i]
    return len(children(units, i)) >= 2 or len(siblings(units, i)) >= 2 or len(inline_items(u)) >= 2


_STEP = re.compile(r"(?i)^\W*(\w\)\s*|\d+[.)]\s*)?(bước|buoc|giai đoạn|trước hết|sau đó|tiếp theo|cuối cùng)\b")


_STEP_LEAD = re.compile(r"(?i)\b(thủ tục|trình tự|quy trình|các bước|những bước|tiến hành|thực hiện như sau)\b")


def _steps(items: list[Unit], lead: str = "") -> bool:
    """Items that read as the steps of a procedure ("Bước 1: …", "Sau đó, …"), or a list whose lead-in
    announces a procedure ("Thủ tục … như sau:")."""
    return len(items) >= 2 and (bool(_STEP_LEAD.search(lead)) or
                                sum(bool(_STEP.match(u.text)) for u in items) >= max(2, len(items) // 2))


# nouns that name the kind of list asked for, found in any list's lead-in
_GENERIC = {"các", "những", "bước", "thủ", "tục", "quy", "trình", "tự", "cách", "hồ", "sơ", "muốn", "thì", "phải"}
_GENERIC_FOLDED = {fold(w) for w in _GENERIC} - {"thi"}  # folded, "thi" is also "thi" (an exam)


def _fit(q: Question, units: list[Unit], i: int) -> int:
    """How well the unit at `i` can anchor an answer of several items: 1 when it heads or belongs to a list.
    A procedure asks for steps: a list that reads as steps is 2 (3 when its items say so); prose (it may tell the steps in sentences) is
    1; a list of conditions, cases or rights is not how to do something: 0."""
    structured = _structured(units, i)
    if q.type != "procedure":
        return int(structured)
    lead = units[i].text if units[i].lead_in else ""
    items = list_items(units, i, True)
    if _steps(items, lead):  # 3: items marked as steps ("Trước hết", "Bước 2"); 2: a list its lead-in calls steps
        return 3 if sum(bool(_STEP.match(u.text)) for u in items) >= 2 else 2
    return 0 if structured and units[i].kind != "heading" else 1


def _titled(q: Question, u: Unit) -> bool:
    """An article whose whole title is in the question ("Tiến hành kiểm tra chuyên ngành" in "Tiến hành kiểm tra
    chuyên ngành Công Thương được thực hiện như thế nào?") is the article asked about."""
    if u.kind != "heading" or u.article is None:
        return False
    title = re.sub(r"(?i)^\W*(điều|dieu)\s+\d+\w?\W*", "", u.text)
    return len(content_terms(title)) >= 2 and coverage(title, q.text) >= 0.999


ABOUT_SLACK = 0.15  # anchors this close in how much they are about the question are ranked by their shape


def compose_list(q: Question, ranked, lib: Library, hits: list[Evidence], margin: float = PROMPT_MARGIN,
                 min_coverage: float = 0.6) -> Composed:
    """Items in document order, each cited, at most CAP shown.  The anchor is, of the best-ranked sentences
    (within `margin` of the best), one about what was asked (most of the question's words, the rare ones
    weighing more, in it, what it is under and its first items) that heads or belongs to a list, else the best
    of those about what was asked."""
    if not ranked:
        return Composed("", [])
    best = ranked[0][0]
    generic = _GENERIC_FOLDED if q.unaccented else _GENERIC
    core = " ".join(w for w in q.focus.split() if w.lower().strip("?,.") not in generic) or q.focus
    pool = [r.sentence.text for r in ranked[:20]]

    def covers(text: str) -> float:
        return min(coverage(core, text), weighted_coverage(core, text, pool))

    candidates, closest = [], 0.0
    for rank, (score, (_, a, _, _, h)) in enumerate(ranked[:5]):
        if score < best - margin:
            break
        units = lib.units(h.doc_id)
        i = unit_at(units, a)
        if i is None:
            continue
        # a question about a procedure the documents do not describe meets some other procedure: the list must
        # be about what was asked (the unit, what it is under and its first items)
        cov = covers(" ".join([units[i].text, lib.context(h.doc_id, i)] +
                              [u.text for u in list_items(units, i, q.type == "procedure")[:3]]))
        closest = max(closest, cov)
        if cov >= min_coverage:
            candidates.append((cov, _titled(q, units[i]), _fit(q, units, i), -rank, h.doc_id, units, i))
    for doc_id in dict.fromkeys(h.doc_id for h in hits[:3]):
        units = lib.units(doc_id)
        for i in (k for k, u in enumerate(units) if _titled(q, u)):
            cov = covers(" ".join([units[i].text, lib.context(doc_id, i)] +
                                  [u.text for u in list_items(units, i, q.type == "procedure")[:3]]))
            if cov >= min_coverage:
                candidates.append((cov, True, _fit(q, units, i), -len(ranked), doc_id, units, i))
    if not candidates:
        return Composed("", [], basis=f"anchor covers {closest:.2f}")
    # the one most about what was asked (the steps of "trình tự xét học bổng" are not those of "khiếu nại kết
    # quả xét học bổng"); of those nearly as much about it, the one that best fits the shape asked for
    top = max(c[0] for c in candidates)
    # items marked as steps first, then the article the question names by its title, then the shape
    anchor = max((c for c in candidates if c[0] >= top - ABOUT_SLACK), key=lambda c: (c[2] == 3, *c[1:4]))[4:]
    doc_id, units, i = anchor
    items = list_items(units, i, q.type == "procedure")
    if not _structured(units, i) and units[i].kind != "heading":
        # no list in the source: the anchor's paragraph, and the other sentences that rank close to it (the
        # generator would have been shown the same ones), each whole, in document order
        near = [unit_at(lib.units(h.doc_id), a) for sc, (_, a, _, _, h) in ranked[:3]
                if sc >= best - margin and h.doc_id == doc_id]
        items = sorted({*items, *(units[k] for k in near if k is not None and units[k].kind != "heading")},
                       key=lambda u: u.start)
    if q.type == "procedure":
        items = step_run(items)
    return _enumerate(doc_id, items, lib, hits, best, basis=units[i].kind)


def step_run(items: list[Unit]) -> list[Unit]:
    """Prose that tells the steps ("Trước hết, … Sau đó, … Cuối cùng, …"): the sentences from the first step to
    the last, without what is said around them; the items unchanged when fewer than two read as steps."""
    marked = [k for k, u in enumerate(items) if _STEP.match(u.text)]
    return items[marked[0]:marked[-1] + 1] if len(marked) >= 2 else items
