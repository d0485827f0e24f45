"""Summaries: the key sentences of a document (TextRank with maximal marginal relevance)."""
from __future__ import annotations

import collections
from pathlib import Path

import numpy as np

from ingest.lexical import syllables, terms
from ingest.normalize import fold
from rag.compose.common import _NUMBER, Composed, bullet, unit_passage
from rag.evidence import Evidence
from rag.question import Question
from rag.terms import STOPWORDS, coverage
from rag.units import Library, Unit


def _tfidf(texts: list[str]) -> np.ndarray:
    """Rows of l2-normalized tf-idf over syllables and syllable bigrams."""
    docs = [terms([fold(s) for s in syllables(t) if s not in STOPWORDS]) for t in texts]
    vocab = {t: i for i, t in enumerate(sorted({t for d in docs for t in d}))}
    m = np.zeros((len(docs), len(vocab)))
    for r, d in enumerate(docs):
        for t in d:
            m[r, vocab[t]] += 1
    m *= np.log(1 + len(docs) / (1 + (m > 0).sum(0)))
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


def key_units(units: list[Unit], k: int = 5, damping: float = 0.85, diversity: float = 0.3,
              lead: float = 0.5) -> list[Unit]:
    """The k most central units of a document (TextRank over tf-idf cosine similarity, plus `lead` for the
    sentence that opens a paragraph of several: where writers state a paragraph's point), picked with maximal
    marginal relevance so two sentences saying the same thing are not both kept; returned in document order."""
    cand = [u for u in units if u.kind != "heading" and len(syllables(u.text)) >= 6]
    sizes = collections.Counter(u.para for u in cand)
    first = {u.para: u for u in reversed(cand)}
    if len(cand) <= k:
        return cand
    v = _tfidf([u.text for u in cand])
    sim = v @ v.T
    np.fill_diagonal(sim, 0)
    w = sim / np.maximum(sim.sum(1, keepdims=True), 1e-9)
    rank = np.full(len(cand), 1 / len(cand))
    for _ in range(50):
        rank = (1 - damping) / len(cand) + damping * w.T @ rank
    rel = rank / rank.max() + lead * np.array([first[u.para] is u and sizes[u.para] > 1 for u in cand])
    chosen: list[int] = []
    while len(chosen) < k:
        red = sim[:, chosen].max(1) if chosen else np.zeros(len(cand))
        mmr = (1 - diversity) * rel - diversity * red
        mmr[chosen] = -np.inf
        chosen.append(int(mmr.argmax()))
    return [cand[i] for i in sorted(chosen)]


def compose_summary(q: Question, lib: Library, hits: list[Evidence], k: int = 5) -> Composed:
    """The key sentences of the document the question names, else of the best-retrieved document."""
    named = lib.named(q.documents)
    doc_id = named[0] if named else (hits[0].doc_id if hits else None)
    if doc_id is None:
        return Composed("", [])
    text = lib.text(doc_id)
    if not named and (coverage(q.focus, text) < 0.6 or any(n not in text for n in _NUMBER.findall(q.focus))):
        # a document about something else came first: the one asked for is not in the collection
        return Composed("", [], basis=f"top document covers {coverage(q.focus, text):.2f} of the request")
    keys = key_units(lib.units(doc_id), k)
    info = lib.info(doc_id)
    ps = [unit_passage(i + 1, doc_id, u, lib, 1.0, hits, info) for i, u in enumerate(keys)]
    name = info.get("title") or Path(info.get("source", "")).name
    lead = f"Các ý chính của {name}:" if name else "Các ý chính:"
    return Composed("\n".join([lead] + [bullet(p) for p in ps]), ps, basis="textrank")
