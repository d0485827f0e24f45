"""Hybrid retrieval: dense (Chroma) + BM25 (syllables, bigrams, accent-folded), fused, deduplicated."""
from __future__ import annotations

import json
import numpy as np

from ingest.embed import Embedder
from ingest.lexical import syllables
from ingest.normalize import normalize_text
from ingest.store import Collection
from ingest.telemetry import traced
from rag.retrieve.accents import restore
from rag.evidence import Evidence

RESTORE_FROM = 10  # an accent-free question's diacritics are put back from its best BM25 passages
DOC_DEPTH = 8  # a search within named documents looks this many times deeper (their chunks among all others')


def _minmax(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-9:
        return {k: 1.0 for k in scores}
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / max(1, len(a | b))


class Retriever:
    def __init__(self, coll: Collection, embedder: Embedder | None, mode: str = "hybrid", top_k: int = 5,
                 dense_weight: float = 0.5, fusion: str = "weighted", candidates: int = 50, reranker=None,
                 rerank_pool: int = 20, sentence_weight: float = 0.0):
        self.coll, self.embedder = coll, embedder
        self.sentence_weight = sentence_weight
        self.mode, self.top_k, self.dense_weight, self.fusion, self.candidates = mode, top_k, dense_weight, fusion, candidates
        self.reranker, self.rerank_pool = reranker, rerank_pool

    def retrieve(self, query: str, top_k: int | None = None, mode: str | None = None) -> list[Evidence]:
        return self.search(query, top_k, mode)[0]

    @traced("retrieve")
    def search(self, query: str, top_k: int | None = None, mode: str | None = None,
               docs: set[str] | None = None) -> tuple[list[Evidence], dict]:
        """Hits, and the raw top scores of both retrievers (the refusal decision's inputs).

        Both retrievers always run: their raw scores are needed whatever the ranking mode.  `docs`: only chunks
        of these documents (the ones a question names), searched deeper; the signals are then theirs.
        """
        top_k = top_k or self.top_k
        mode = mode or self.mode
        q = normalize_text(query)
        depth = self.candidates * (DOC_DEPTH if docs else 1)
        lex = dict(self.coll.lexical_search(q, depth))
        dense: dict[str, float] = {}
        if self.embedder is not None:
            # the embedder reads bare syllables poorly: it reads the question with its diacritics put back
            dq = self._restored(q, lex) if self.coll.lexical_unaccented(q) else q
            qv = self.embedder.embed_query(dq)
            dense = dict(self.coll.dense_search(qv, depth))
        if docs:
            owner = {c: r.doc_id for c, r in self.coll.chunks(list(set(lex) | set(dense))).items()}
            lex = {c: v for c, v in lex.items() if owner.get(c) in docs}
            dense = {c: v for c, v in dense.items() if owner.get(c) in docs}
        signals = {"dense": max(dense.values(), default=0.0), "bm25": max(lex.values(), default=0.0),
                   "idf_mass": self.coll.lexical_idf_mass(q)}
        if dense and self.sentence_weight:
            dense = self._with_sentences(dense, qv)
        # the mode decides which scores rank the hits
        dense = dense if mode != "bm25" else {}
        lex = lex if mode != "dense" else {}
        fused = self._fuse(dense, lex) if mode == "hybrid" else (dense or lex)
        ranked = sorted(fused, key=lambda k: -fused[k])
        rows = self.coll.chunks(ranked[: max(top_k * 3, 20, self.rerank_pool)])
        norm = _minmax(fused) if mode != "hybrid" else fused
        if self.reranker is not None:
            pool = [c for c in ranked if c in rows][: max(self.rerank_pool, top_k)]
            scores = dict(zip(pool, self.reranker.score(q, [rows[c].text for c in pool])))
            ranked = sorted(pool, key=lambda c: -scores[c]) + [c for c in ranked if c not in scores]
            norm = {**norm, **_minmax(scores)}
        hits: list[Evidence] = []
        seen: list[set] = []
        for cid in ranked:
            r = rows.get(cid)
            if r is None:
                continue  # a vector whose document is not committed (see ingest.store)
            toks = set(syllables(r.text))
            if any(_jaccard(toks, s) > 0.8 for s in seen):
                continue  # near-copy of a passage already shown
            seen.append(toks)
            text = self.coll.document_slice(r.doc_id, r.start, r.end)
            meta = json.loads(r.meta or "{}")
            hits.append(Evidence(chunk_id=cid, doc_id=r.doc_id, source=r.source, title=r.title, text=text,
                                 norm=r.text, start=r.start, end=r.end, page=r.page, heading=r.heading,
                                 score=round(float(norm[cid]), 4), dense=dense.get(cid), bm25=lex.get(cid),
                                 label=r.label or "", marks=[tuple(m) for m in json.loads(r.marks or "[]")],
                                 ocr=bool(r.ocr), doc_number=meta.get("number", ""),
                                 page_starts=meta.get("page_starts") or [], ocr_pages=meta.get("ocr_pages") or []))
            if len(hits) >= top_k:
                break
        stored = self.coll.sentence_vectors([h.chunk_id for h in hits])
        for h in hits:
            h.sentence_vecs = stored.get(h.chunk_id, {})
        return hits, signals

    def _with_sentences(self, dense: dict[str, float], qv: np.ndarray) -> dict[str, float]:
        """A chunk's dense score takes in its best sentence's (a long chunk's one answering sentence is
        diluted in the chunk's vector).  Chunks stored without sentence vectors keep their own score.  The
        refusal signals stay the chunks' raw cosines."""
        w = self.sentence_weight
        stored = self.coll.sentence_vectors(list(dense))
        out = {}
        for cid, score in dense.items():
            vecs = stored.get(cid)
            out[cid] = score if not vecs else (1 - w) * score + w * float(np.max(np.stack(list(vecs.values())) @ qv))
        return out

    def _restored(self, q: str, lex: dict[str, float]) -> str:
        """An accent-free question with its diacritics put back from the passages BM25 found (rag.retrieve.accents)."""
        top = sorted(lex, key=lambda k: -lex[k])[:RESTORE_FROM]
        rows = self.coll.chunks(top)
        return restore(q, [rows[k].text for k in top if k in rows])

    def _fuse(self, dense: dict[str, float], lex: dict[str, float]) -> dict[str, float]:
        keys = set(dense) | set(lex)
        if self.fusion == "rrf":
            rd = {k: i for i, k in enumerate(sorted(dense, key=lambda k: -dense[k]))}
            rl = {k: i for i, k in enumerate(sorted(lex, key=lambda k: -lex[k]))}
            raw = {k: (1 / (60 + rd[k]) if k in rd else 0) + (1 / (60 + rl[k]) if k in rl else 0) for k in keys}
            top = max(raw.values(), default=1.0)
            return {k: v / top for k, v in raw.items()}
        # an accent-free question is fused like any other: its dense search read it with diacritics restored
        w = self.dense_weight
        nd, nl = _minmax(dense), _minmax(lex)
        return {k: w * nd.get(k, 0.0) + (1 - w) * nl.get(k, 0.0) for k in keys}
