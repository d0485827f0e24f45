"""\"X là gì\": the sentence that defines the term."""
from __future__ import annotations

import re

from ingest.normalize import fold, normalize_text
from ingest.telemetry import traced
from rag.compose.common import Composed, quote, unit_at
from rag.evidence import Passage
from rag.question import Question
from rag.units import Library


_DEFINES = re.compile(r"^\s*(\([^)]*\)\s*)?[,:]?\s*(là|được hiểu là|có nghĩa là|được gọi là|được định nghĩa là|nghĩa là"
                      r"|la|duoc hieu la|co nghia la|duoc goi la|duoc dinh nghia la|nghia la)\b", re.I)
_NAMES = re.compile(r"(được gọi là|được biết đến với cái tên|gọi là|tên là|viết tắt (thành|là))\s*[\"“(]?\s*$", re.I)


def defines(term: str, sentence: str) -> bool:
    """"X là …", "X (…) được hiểu là …", or "… được gọi là X": the sentence defines the term."""
    f, t = fold(normalize_text(sentence).lower()), fold(normalize_text(term).lower()).strip(" ?.")
    i = f.find(t) if t else -1
    if i < 0:
        return False
    return bool(_DEFINES.match(f[i + len(t):]) or _NAMES.search(normalize_text(sentence)[:i]))


@traced("compose")
def compose_definition(q: Question, ranked, depth: int = 20, lib: Library | None = None) -> Composed:
    """The best-ranked sentence that defines the term; none (the factoid path answers) when no top sentence
    does."""
    found = [(score, a, b, text, h) for score, (_, a, b, text, h) in ranked[:depth] if defines(q.focus, text)]
    # "Bí mật nhà nước là gì": "1. Bí mật nhà nước là …", not "3. Lộ bí mật nhà nước là …" (a longer term)
    found.sort(key=lambda x: not _opens_with(q.focus, x[3]))
    if found and lib is not None and not _opens_with(q.focus, found[0][3]):
        # the sentence found defines a longer term: the term's own definition is in the same list of terms
        score, a, _, _, h = found[0]
        units = lib.units(h.doc_id)
        i = unit_at(units, a)
        own = [u for u in units if i is not None and u.article == units[i].article and u.kind != "heading"
               and _opens_with(q.focus, u.text) and defines(q.focus, u.text)]
        found[:0] = [(score, u.start, u.end, u.text, h) for u in own[:1]]
    for score, a, b, text, h in found[:1]:
        p = Passage(n=1, hit=h, text=text, start=a, end=b, score=score)
        return Composed(quote(p), [p], basis="defines")
    return Composed("", [])


def _opens_with(term: str, sentence: str) -> bool:
    """The sentence begins with the term (after its clause or point number)."""
    f, t = fold(normalize_text(sentence).lower()), fold(normalize_text(term).lower()).strip(" ?.")
    return bool(t) and re.sub(r"^\W*(\d+[.)]|[a-z][)])?\W*", "", f).startswith(t)
