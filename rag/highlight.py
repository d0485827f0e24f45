"""Which words of a passage support an answer: spans to highlight (the UI renders them, escaped)."""
from __future__ import annotations

import re

from ingest.lexical import syllables
from ingest.normalize import fold
from rag.terms import QUESTION_WORDS, STOPWORDS
from rag.verify import MARKER

_WORD = re.compile(r"\w+")


def _terms(text: str) -> set[str]:
    return {s for s in syllables(MARKER.sub(" ", text or "")) if s not in STOPWORDS and s not in QUESTION_WORDS}


def supporting_spans(passage: str, answer: str = "", question: str = "") -> list[tuple[int, int]]:
    """Character spans of `passage` whose words appear in the answer (or, failing that, the question).

    Matching is on normalized syllables, accent-insensitive only for syllables without accents in the
    query side; function words are ignored.  Adjacent matches are merged into one span.
    """
    want = _terms(answer) or _terms(question)
    if not want or not passage:
        return []
    folded = {fold(t) for t in want if t == fold(t)}  # unaccented query syllables match accented text
    spans: list[tuple[int, int]] = []
    for m in _WORD.finditer(passage):
        syl = syllables(m.group(0))
        if not syl:
            continue
        s = syl[0]
        if s in want or fold(s) in folded:
            a, b = m.span()
            if spans and passage[spans[-1][1]:a].strip(" \t-/.,") == "" and a - spans[-1][1] <= 2:
                spans[-1] = (spans[-1][0], b)
            else:
                spans.append((a, b))
    return spans
