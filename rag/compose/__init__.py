"""Composing the answer for its question type from ranked evidence: every quote a whole unit of the source.

One module per answer type; `COMPOSERS` maps a question type to its composer.  A new type is one module and one
row.  A composer takes the `Request` (the question read once, its evidence, the library) and returns the
`Composed` answer, or None when the documents do not cover the question (the answer is then refused)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

from rag.compose.article import compose_article
from rag.compose.common import CAP, Composed, bullet, in_article, mentions, quote, unit_passage
from rag.compose.comparison import compose_comparison
from rag.compose.definition import compose_definition, defines
from rag.compose.document_fact import compose_document_fact
from rag.compose.factoid import extractive
from rag.compose.issue_date import asks_issue_date, compose_issue_date
from rag.compose.lists import compose_list
from rag.compose.summary import compose_summary, key_units
from rag.compose.superlative import compose_superlative
from rag.compose.yesno import NO, UNCLEAR, YES, compose_yesno, verdict
from rag.evidence import Evidence, Ranked
from rag.question import Question
from rag.rank import ranked_sentences
from rag.units import Library

__all__ = ["CAP", "COMPOSERS", "NO", "UNCLEAR", "YES", "Composed", "Request", "asks_issue_date", "bullet", "compose",
           "compose_definition", "compose_document_fact", "compose_issue_date", "compose_superlative", "defines",
           "extractive", "in_article", "key_units", "mentions", "quote", "unit_passage", "verdict"]


@dataclass
class Request:
    """What a composer reads: the question (read once), the retrieved evidence, whether the retrieval signals say
    the documents cover it, the library of whole units, and a search for one side of a comparison."""
    q: Question
    standalone: str  # the question as answered (a follow-up resolved)
    hits: list[Evidence]
    answerable: bool
    lib: Library
    embedder: object = None
    search: Callable[[str], list[Evidence]] | None = None  # hits for a text, none when it is not covered
    named: list[str] = field(default_factory=list)  # the documents the question names, by number or by title

    @cached_property
    def ranked(self) -> list[Ranked]:
        return ranked_sentences(self.standalone, self.hits, self.embedder)


def _list(r: Request) -> Composed | None:
    return compose_list(r.q, r.ranked, r.lib, r.hits) if r.answerable else None


def _article(r: Request) -> Composed | None:
    """"Điều N quy định gì" is answered from the article itself; without an article named, as a list."""
    return compose_article(r.q, r.lib, r.hits, r.named) if r.q.articles else _list(r)


def _comparison(r: Request) -> Composed | None:
    """Each side searched on its own; a comparison whose sides were not read is answered as a list."""
    return compose_comparison(r.q, r.search, r.lib, r.embedder) if r.q.sides else _list(r)


def _yesno(r: Request) -> Composed | None:
    return compose_yesno(r.q, r.hits, r.lib, r.embedder) if r.answerable else None


def _summary(r: Request) -> Composed | None:
    """A summary of a document the question names needs no retrieval signal: the document is there."""
    covered = r.answerable or r.lib.named(r.q.documents)
    return compose_summary(r.q, r.lib, r.hits) if covered else None


COMPOSERS: dict[str, Callable[[Request], Composed | None]] = {
    "list": _list,
    "procedure": _list,
    "article": _article,
    "comparison": _comparison,
    "yesno": _yesno,
    "summary": _summary,
}


def compose(r: Request) -> Composed | None:
    """The composed answer for the question's type (see COMPOSERS); None when the documents do not cover it."""
    composer = COMPOSERS.get(r.q.type)
    if composer is None:
        return Composed("", []) if r.answerable else None
    return composer(r)
