"""Verifying an answer against its sources: each claim supported by the passage it cites."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.chunk import split_sentences
from ingest.lexical import syllables
from ingest.telemetry import traced
from rag.evidence import Passage
from rag.terms import content_terms, coverage

MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
REFUSAL = "Không tìm thấy thông tin này trong tài liệu."


def parse_markers(sentence: str) -> list[int]:
    out = []
    for m in MARKER.finditer(sentence):
        out += [int(x) for x in re.split(r"[,;]", m.group(1))]
    return out


def supports(claim: str, passage: str, question: str) -> float:
    """How well a passage supports a claim: share of the claim's new content syllables it contains.

    Numbers in the claim must all be in the passage; words that only repeat the question do not count.
    Returns -1 when the claim adds nothing to the question (not an answer).
    """
    qset = set(syllables(question))
    terms = [t for t in content_terms(MARKER.sub(" ", claim)) if t not in qset]
    if not terms:
        return -1.0
    pset = set(syllables(passage))
    numbers = [t for t in terms if any(ch.isdigit() for ch in t)]
    if any(t not in pset for t in numbers):
        return 0.0
    if numbers and not _numbers_grounded(numbers, [t for t in terms if t not in numbers], passage, question):
        return 0.0
    return sum(t in pset for t in terms) / len(terms)


def _jointly(claim: str, passages: list[Passage], question: str, threshold: float) -> list[int]:
    """The passages that together support a claim no single one does, each giving it a word of its own; []
    when even together they do not."""
    qset = set(syllables(question))
    terms = {t for t in content_terms(MARKER.sub(" ", claim)) if t not in qset}
    giving = [p for p in passages if terms & set(syllables(p.read))]
    if len(giving) < 2 or supports(claim, " ".join(p.read for p in giving), question) < threshold:
        return []
    return [p.n for p in giving]


def _numbers_grounded(numbers: list[str], words: list[str], passage: str, question: str) -> bool:
    """A number is only supported by a passage sentence that is about the question or the claim.

    The small generator likes to lift a number from an unrelated phrase ("17" from "Sau 17 năm")."""
    for n in numbers:
        ok = False
        for a, b in split_sentences(passage):
            sent = passage[a:b]
            sset = set(syllables(sent))
            if n in sset and (any(w in sset for w in words) or coverage(question, sent) >= 0.5):
                ok = True
                break
        if not ok:
            return False
    return True


@dataclass
class Verified:
    text: str
    cited: list[int]
    removed: list[str]  # claims not supported by any passage
    recited: int
    refused: bool
    empty_claims: int = 0  # sentences that only repeat the question or only cite


@traced("verify")
def verify(answer: str, passages: list[Passage], question: str, threshold: float = 0.6,
           several: bool = False) -> Verified:
    """Keep only sentences supported by the passages they cite; re-cite or drop the others.  With `several`
    (an answer worded over a list's items), a sentence no one passage supports may rest on the passages that
    together do ("… gồm sách giáo khoa, báo in, bản đồ"): it cites each passage that gives it a word."""
    if REFUSAL.lower().rstrip(".") in answer.lower() or "không tìm thấy thông tin" in answer.lower():
        return Verified("", [], [], 0, True)
    by_n = {p.n: p for p in passages}
    kept, cited, removed, recited, empty = [], [], [], 0, 0
    raw = [answer[a:b] for a, b in split_sentences(answer.strip())]
    for sent in raw:
        claim = MARKER.sub("", sent).strip()
        if not claim or len(content_terms(claim)) == 0 or supports(claim, "", question) == -1:
            empty += 1
            continue
        marks = [n for n in parse_markers(sent) if n in by_n]
        ok = [n for n in marks if supports(claim, by_n[n].read, question) >= threshold]
        if not ok:
            scored = sorted(((supports(claim, p.read, question), p.n) for p in passages), reverse=True)
            if scored and scored[0][0] >= threshold:
                ok = [scored[0][1]]
                recited += 1
        if not ok and several:
            ok = _jointly(claim, passages, question, threshold)
            recited += bool(ok)
        if not ok:
            removed.append(claim)
            continue
        body = claim.rstrip()
        end = body[-1] if body[-1] in ".!?…" else "."
        kept.append(body.rstrip(".!?… ") + " " + "".join(f"[{n}]" for n in ok) + end)
        cited += [n for n in ok if n not in cited]
    return Verified(" ".join(kept), cited, removed, recited, False, empty)


def whole_units(passages: list[Passage], lib) -> list[Passage]:
    """The passages that are exact slices of their documents (`text == source_text[start:end]`); any other is
    left out rather than shown as a quote it is not."""
    texts: dict[str, str] = {}
    out = []
    for p in passages:
        doc = texts.setdefault(p.hit.doc_id, lib.text(p.hit.doc_id))
        if doc[p.start:p.end] == p.text:
            out.append(p)
    return out
