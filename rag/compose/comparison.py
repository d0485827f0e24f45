"""Comparisons: for each side, the sentences about it, grouped by side; refused when a side is not found."""
from __future__ import annotations

from ingest.normalize import fold
from rag.compose.common import Composed, bullet, children, unit_at, unit_passage
from rag.evidence import Evidence, Passage
from rag.question import Question
from rag.rank import PROMPT_MARGIN, ranked_sentences
from rag.terms import content_terms, coverage
from rag.units import Library


def full_sides(sides: list[str]) -> list[str]:
    """"điều kiện học bổng loại giỏi" vs "loại khá": the second side borrows what the first says before the
    word they share ("điều kiện học bổng loại khá")."""
    if len(sides) != 2:
        return sides
    a, b = sides
    aw, first = a.split(), fold(b.split()[0].lower())
    j = next((i for i, w in enumerate(aw) if fold(w.lower()) == first), 0)
    return [a, " ".join(aw[:j] + b.split())] if j > 0 else sides


def _under_lead_in(side: str, own: str, others: set[str], ranked, lib: Library, hits: list[Evidence]) -> list[Passage]:
    """A side told in one item of a list whose lead-in the side's search found ("Thời hạn bảo vệ … sau đây:" →
    "a) 30 năm đối với bí mật nhà nước độ Tuyệt mật"): the item that holds the side's own words, else (a side whose
    words are all in the other's: "độ Mật" beside "độ Tuyệt mật") the item without the other side's words that
    most of the side covers and says least besides."""
    for score, (_, a, _, _, h) in ranked:
        units = lib.units(h.doc_id)
        i = unit_at(units, a)
        if i is None or not units[i].lead_in or coverage(side, units[i].text + " " + lib.context(h.doc_id, i)) < 0.5:
            continue
        kids = children(units, i)
        if own:
            items = [u for u in kids if coverage(own, u.text) >= 0.6]
        else:
            said = set(content_terms(side)) | set(content_terms(units[i].text))
            fit = [u for u in kids if not others & set(content_terms(u.text))]
            items = sorted(fit, key=lambda u: (-coverage(side, u.text), len(set(content_terms(u.text)) - said)))
        if items:
            return [unit_passage(0, h.doc_id, u, lib, score, hits) for u in items[:1]]
    return []


def compose_comparison(q: Question, search, lib: Library, embedder=None, per_side: int = 2,
                       margin: float = PROMPT_MARGIN) -> Composed:
    """For each side, the sentences that are about it (most of its words present, with what they are read with:
    a table row with its header), best first; grouped by side.  Refused when a side is not found."""
    groups, passages, missing = [], [], []
    sides = full_sides(q.sides)
    for side in sides:
        hits = search(side)
        own = " ".join(t for t in content_terms(side) if all(t not in content_terms(o) for o in sides if o != side))

        def seen(r) -> str:
            s = r.sentence
            i = unit_at(lib.units(s.hit.doc_id), s.start)
            return s.text + " " + (lib.context(s.hit.doc_id, i) if i is not None else "")

        def kind(r) -> str:
            units = lib.units(r.sentence.hit.doc_id)
            i = unit_at(units, r.sentence.start)
            return units[i].kind if i is not None else ""
        ranked = [r for r in ranked_sentences(side, hits, embedder) if kind(r) != "heading"
                  and coverage(side, seen(r)) >= 0.6 and (not own or coverage(own, r.sentence.text) >= 0.6)]
        picked = [r for r in ranked[:per_side] if r[0] >= ranked[0][0] - margin] if ranked else []
        found = [Passage(n=0, hit=h, text=text, start=a, end=b, score=score) for score, (_, a, b, text, h) in
                 sorted(picked, key=lambda r: (r.sentence.hit.doc_id, r.sentence.start))]
        if not found or any(p.text.rstrip().endswith(":") for p in found):
            # nothing, or only the lead-in of a list ("Thời hạn … sau đây:"): the item about this side
            others = {t for o in sides if o != side for t in content_terms(o)} - set(content_terms(side))
            found = _under_lead_in(side, own, others, ranked_sentences(side, hits, embedder)[:5], lib, hits) or found
        if not found:
            missing.append(side)
            continue
        lines = [f"{side[:1].upper()}{side[1:]}:"]
        for p in found:
            p.n = len(passages) + 1
            passages.append(p)
            lines.append(bullet(p))
        groups.append("\n".join(lines))
    if missing:
        # half a comparison is no comparison: the documents say nothing about one side
        return Composed("", [], basis="side not found: " + "; ".join(missing))
    return Composed("\n".join(groups), passages, basis="sides")
