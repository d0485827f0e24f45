"""A fact: the best-matching sentence of the top passages (the extractive answer, and the generator's fallback)."""
from __future__ import annotations

from ingest.telemetry import traced
from rag.compose.common import _NUMBER_LINE, bare_heading, quote
from rag.evidence import Evidence, Passage
from rag.question import asks
from rag.rank import answer_type_ok, in_context, ranked_sentences


@traced("compose")
def extractive(question: str, hits: list[Evidence], embedder=None, depth: int = 3,
               ranked=None) -> tuple[str, list[Passage]]:
    """The best-matching sentence of the top passages, with its [n]; none when no top sentence fits
    the question's answer type.  `ranked`: ranked_sentences(question, hits, embedder), when already known."""
    ranked = ranked if ranked is not None else ranked_sentences(question, hits, embedder)
    asked = asks(question)
    ranked = [r for r in ranked[:depth] if answer_type_ok(asked, r.sentence.text)
              and not bare_heading(r.sentence.text) and (asked.number_line or not _NUMBER_LINE.match(r.sentence.text))]
    if not ranked:
        return "", []
    score, (rank, a, b, text, h) = ranked[0]
    a, text = in_context(h, a, b, text, 0)  # a short sentence is a fine answer; an anaphoric one is not
    p = Passage(n=1, hit=h, text=text, start=a, end=b, score=score)
    return quote(p), [p]


# "Số: 215/TB-UBND", "Về việc tạm dừng cấp nước": the header's number and subject lines name the document; they
