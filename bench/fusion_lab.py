"""Retrieval variants measured offline on the cached eval indexes (issue #18).

`--dump SET...` reads each set's cached collection once (chunk rows and term arrays from SQLite, chunk
vectors from Chroma) and embeds every question as the product does (an accent-free question with its
diacritics restored), into `<out>/<set>.pkl`.  The variants are then scored from those files in
seconds each, with the same document-level nDCG@10 as `hoidap eval`.  A variant that
wins here is implemented in rag/ and measured again through `hoidap eval`.

    HOIDAP_HOME=<eval data dir> python bench/fusion_lab.py --dump vimedaqa ...
    python bench/fusion_lab.py --variants            # the main variants of docs/evaluation.md
"""
from __future__ import annotations

import argparse
import math
import pickle
import sys
from pathlib import Path

import numpy as np
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from eval.data import resolve_set  # noqa: E402

OUT = Path("/tmp/ev18/lab")


# -- dump ---------------------------------------------------------------------------------------------
def dump(path: Path, out: Path, strip: str | None = None) -> None:
    from eval.run import _Gold, index_contexts, retype_questions, select_items
    from eval.sets import load_set
    from ingest.lexical import is_unaccented
    from ingest.normalize import normalize_text
    from rag.components import Components
    from rag.retrieve import Retriever
    from rag.settings import load_settings

    comp = Components(load_settings())
    es = load_set(resolve_set(str(path)), None)
    items, _ = select_items(es)
    items = retype_questions(items, strip, 0)
    name, key2doc, _ = index_contexts(es, comp)
    coll = comp.collection(name, create=False)
    rows = coll.db.execute(
        "SELECT c.chunk_id, c.doc_id, c.idx, c.heading, c.text, c.exact, c.folded FROM chunks c JOIN documents d "
        "ON d.collection=c.collection AND d.doc_id=c.doc_id WHERE c.collection=? AND d.status='ok' "
        "ORDER BY c.doc_id, c.idx", (name,)).fetchall()
    ids = [r[0] for r in rows]
    got = coll.chroma.get(ids=ids, include=["embeddings"])
    vec = dict(zip(got["ids"], got["embeddings"]))
    gold = _Gold(coll, key2doc)
    r = Retriever(coll, comp.embedder)
    qs = []
    for it in items:
        q = normalize_text(it.question)
        lex = dict(coll.lexical_search(q, 50))
        dq = r._restored(q, lex) if is_unaccented(q) else q
        qs.append({"q": q, "dq": dq, "unaccented": is_unaccented(q), "rel": gold.relevant(it),
                   "vec": comp.embedder.embed_query(dq)})
    data = {"ids": ids, "doc": [r[1] for r in rows], "idx": [r[2] for r in rows], "heading": [r[3] for r in rows],
            "text": [r[4] for r in rows], "exact": [np.frombuffer(r[5], np.int32) for r in rows],
            "folded": [np.frombuffer(r[6], np.int32) for r in rows],
            "V": np.array([vec[i] for i in ids], np.float32), "qs": qs}
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{es.name}{'-' + strip if strip else ''}.pkl", "wb") as f:
        pickle.dump(data, f)
    print(f"{es.name}: {len(ids)} chunks, {len(qs)} questions", file=sys.stderr)


# -- scoring ------------------------------------------------------------------------------------------
def ndcg10(ranked_docs: list[str], rel: set[str]) -> float:
    for i, d in enumerate(ranked_docs[:10], 1):
        if d in rel:
            return 1 / math.log2(i + 1)  # one relevant document per question in these sets
    return 0.0


def doc_ranking(chunk_scores: np.ndarray, docs: np.ndarray, depth: int = 50) -> list[str]:
    order = np.argsort(-chunk_scores, kind="stable")[:depth]
    order = order[chunk_scores[order] > -np.inf]
    seen, out = set(), []
    for i in order:
        d = docs[i]
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


class Lab:
    """One dumped set: a BM25 matrix (any k1, b), dense cosines, and the questions."""

    def __init__(self, data: dict):
        self.d = data
        self.ids = data["ids"]
        self.docs = np.array(data["doc"])
        self.V = data["V"]
        self.n = len(self.ids)
        self.qs = data["qs"]
        self.Q = np.array([q["vec"] for q in self.qs], np.float32)
        self.cos = self.Q @ self.V.T  # questions x chunks
        self._tf = {}
        from ingest.lexical import N_BUCKETS, encode_query, is_unaccented
        self.nb = N_BUCKETS
        self.qterms = []
        for q in self.qs:
            ex, fo = encode_query(q["q"])
            self.qterms.append((np.unique(fo), 1) if is_unaccented(q["q"]) else (np.unique(ex), 0))
        # neighbours: previous / next chunk of the same document
        doc_idx = {(d, i): j for j, (d, i) in enumerate(zip(data["doc"], data["idx"]))}
        self.prev = np.array([doc_idx.get((d, i - 1), -1) for d, i in zip(data["doc"], data["idx"])])
        self.next = np.array([doc_idx.get((d, i + 1), -1) for d, i in zip(data["doc"], data["idx"])])
        _, self.doc_of = np.unique(self.docs, return_inverse=True)

    def tf(self, field: int):
        if field not in self._tf:
            rows = self.d["folded" if field else "exact"]
            indptr = np.zeros(self.n + 1, np.int64)
            np.cumsum([len(r) for r in rows], out=indptr[1:])
            cols = np.concatenate(rows)
            m = sparse.csr_matrix((np.ones(len(cols), np.float32), cols, indptr), shape=(self.n, self.nb)).tocsc()
            m.sum_duplicates()
            self._tf[field] = (m, np.array([len(r) for r in rows], np.float32))
        return self._tf[field]

    def bm25(self, qi: int, k1: float = 1.5, b: float = 0.75, terms=None, weights=None) -> np.ndarray:
        cols, f = self.qterms[qi] if terms is None else (terms, self.qterms[qi][1])
        m, lengths = self.tf(f)
        sub = m[:, cols].tocoo()
        df = np.diff(m.indptr)[cols].astype(np.float32)
        idf = np.log(1 + (self.n - df + 0.5) / (df + 0.5))
        if weights is not None:
            idf = idf * weights
        avgdl = lengths.mean()
        tf = sub.data
        norm = k1 * (1 - b + b * lengths[sub.row] / avgdl)
        s = np.zeros(self.n, np.float32)
        np.add.at(s, sub.row, idf[sub.col] * tf * (k1 + 1) / (tf + norm))
        return s

    def bm25_all(self, **kw) -> np.ndarray:
        return np.stack([self.bm25(i, **kw) for i in range(len(self.qs))])


def top_only(s: np.ndarray, k: int = 50) -> np.ndarray:
    """Scores outside the top k (or zero BM25 scores) set to -inf: the product's candidate cap."""
    out = np.full_like(s, -np.inf)
    idx = np.argpartition(-s, min(k, len(s) - 1))[:k]
    idx = idx[s[idx] > 0] if s.min() >= 0 else idx
    out[idx] = s[idx]
    return out


def minmax(s: np.ndarray) -> np.ndarray:
    m = np.isfinite(s)
    if not m.any():
        return np.zeros_like(s)
    lo, hi = s[m].min(), s[m].max()
    out = np.zeros_like(s)
    out[m] = 1.0 if hi - lo < 1e-9 else (s[m] - lo) / (hi - lo)
    return out


def fuse(dense: np.ndarray, lex: np.ndarray, w: float = 0.5) -> np.ndarray:
    """The product's weighted fusion of min-max scores over each signal's candidates (0 when absent)."""
    keys = np.isfinite(dense) | np.isfinite(lex)
    out = w * minmax(dense) + (1 - w) * minmax(lex)
    out[~keys] = -np.inf
    return out


def score(lab: Lab, chunk_scores: np.ndarray) -> float:
    return 100 * float(np.mean([ndcg10(doc_ranking(chunk_scores[i], lab.docs), q["rel"])
                                for i, q in enumerate(lab.qs) if q["rel"]]))


def load(name: str) -> Lab:
    with open(OUT / f"{name}.pkl", "rb") as f:
        return Lab(pickle.load(f))


# -- variants ------------------------------------------------------------------------------------------
def windowed(lab: Lab, weight: float) -> None:
    """Replace the lab's BM25 rows by chunk + neighbours' terms at `weight` (what ingest.lexical.windows does)."""
    def build(rows):
        indptr, cols, data = np.zeros(lab.n + 1, np.int64), [], []
        for j in range(lab.n):
            parts = [(rows[j], 1.0)] + [(rows[k], weight) for k in (lab.prev[j], lab.next[j]) if k >= 0]
            cols += [p for p, _ in parts]
            data += [np.full(len(p), w, np.float32) for p, w in parts]
            indptr[j + 1] = indptr[j] + sum(len(p) for p, _ in parts)
        data = np.concatenate(data)
        m = sparse.csr_matrix((data, np.concatenate(cols), indptr), shape=(lab.n, lab.nb))
        lengths = np.asarray(m.sum(axis=1)).ravel().astype(np.float32)
        m = m.tocsc()
        m.sum_duplicates()
        return m, lengths
    lab._tf = {0: build(lab.d["exact"]), 1: build(lab.d["folded"])}


def hybrid(lab: Lab, L: np.ndarray, D: np.ndarray | None = None, k: int = 50, w: float = 0.5) -> np.ndarray:
    D = lab.cos if D is None else D
    return np.stack([fuse(top_only(D[i], k), top_only(L[i], k), w) for i in range(len(lab.qs))])


def rocchio(lab: Lab, H: np.ndarray, k: int, beta: float) -> np.ndarray:
    """Dense pseudo-relevance feedback: the query vector moved towards its top-k chunks' stored vectors."""
    Q = lab.Q.copy()
    for i in range(len(Q)):
        q = Q[i] + beta * lab.V[np.argsort(-H[i])[:k]].mean(0)
        Q[i] = q / np.linalg.norm(q)
    return Q @ lab.V.T


def doc_sum(lab: Lab, H: np.ndarray, lam: float) -> np.ndarray:
    """Document aggregation: a chunk's score plus lam x the scores of its document's other candidates."""
    out = H.copy()
    for i in range(len(H)):
        v = np.where(np.isfinite(H[i]), H[i], 0)
        s = np.bincount(lab.doc_of, weights=v)
        out[i] = np.where(np.isfinite(H[i]), v + lam * (s[lab.doc_of] - v), -np.inf)
    return out


def variants(names: list[str]) -> None:
    """The main variants of docs/evaluation.md ("Retrieval variants"); one line each, nDCG@10 per set."""
    labs = {n: load(n) for n in names}
    base = {n: lab.bm25_all() for n, lab in labs.items()}
    rows = [("baseline (chunk BM25, 50 candidates, w 0.5)", lambda n, lab: hybrid(lab, base[n]))]
    for k1, b in ((0.9, 0.9), (1.2, 0.75), (1.5, 0.9), (2.0, 0.75)):
        rows.append((f"BM25 k1 {k1} b {b}", lambda n, lab, k1=k1, b=b: hybrid(lab, lab.bm25_all(k1=k1, b=b))))
    rows.append(("100 candidates", lambda n, lab: hybrid(lab, base[n], k=100)))
    rows.append(("doc aggregation, + 0.05 x other chunks", lambda n, lab: doc_sum(lab, hybrid(lab, base[n]), 0.05)))
    rows.append(("dense Rocchio top 3, beta 0.3",
                 lambda n, lab: hybrid(lab, base[n], rocchio(lab, hybrid(lab, base[n]), 3, .3))))
    for w in (1.0, 0.5, 0.25):
        rows.append((f"window BM25, neighbours x {w}, 100 candidates", lambda n, lab, w=w: _win(lab, w)))
    for label, fn in rows:
        print(f"{label:50s}", " ".join(f"{score(labs[n], fn(n, labs[n])):6.2f}" for n in names), flush=True)


def _win(lab: Lab, w: float) -> np.ndarray:
    saved = lab._tf
    windowed(lab, w)
    L = lab.bm25_all()
    lab._tf = saved
    return hybrid(lab, L, k=100)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", nargs="*", default=[])
    ap.add_argument("--strip", default=None)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--variants", nargs="*", help="dumped set names (default: the three dev sets)")
    a = ap.parse_args()
    for p in a.dump:
        dump(Path(p), a.out, a.strip)
    if a.variants is not None:
        variants(a.variants or ["ViMedAQA_v2", "xquad.vi", "ALQAC"])


if __name__ == "__main__":
    main()
