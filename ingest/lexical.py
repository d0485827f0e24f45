"""BM25 over Vietnamese syllables and syllable bigrams, plus an accent-folded field.

Why syllables + bigrams and not a word segmenter: on the dev sets bigrams of syllables scored at least
as well as pyvi segmentation (docs/evaluation.md) and cost nothing at query time.  No stemmer, no
stopwords, one-letter syllables kept ("ủy", "ý" carry meaning).

Terms are hashed into a fixed number of columns so the index is a pair of sparse matrices that can be
appended to and saved without a vocabulary.  The index lives beside Chroma (Chroma's own sparse index
is not available in the embedded engine) and is kept in step with it by `ingest.store`.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ingest.normalize import fold, normalize_text
from ingest.structure import article_terms, reference_terms

N_BUCKETS = 1 << 22
_SYL = re.compile(r"\w+")


def syllables(text: str) -> list[str]:
    return _SYL.findall(normalize_text(text).lower())


def terms(sylls: list[str]) -> list[str]:
    return sylls + [a + " " + b for a, b in zip(sylls, sylls[1:])]


def hashed(ts: list[str]) -> np.ndarray:
    return np.fromiter((zlib.crc32(t.encode()) & (N_BUCKETS - 1) for t in ts), dtype=np.int32, count=len(ts))


def encode(text: str, extra: list[str] | tuple = ()) -> tuple[np.ndarray, np.ndarray]:
    """Term hashes of the exact field and the folded field of one text.

    Both fields also hold whole terms for the document symbols the text names ("§nd100", "§100/2019", see
    `ingest.structure`) and the `extra` terms given (a chunk's article labels, its document's number).
    """
    syl = syllables(text)
    whole = reference_terms(text) + list(extra)
    return hashed(terms(syl) + whole), hashed(terms([fold(s) for s in syl]) + whole)


def encode_query(query: str) -> tuple[np.ndarray, np.ndarray]:
    """A question's terms: as a passage's, plus the articles it names ("khoản 2 điều 14" -> §d14, §d14k2)."""
    return encode(query, article_terms(query))


def is_unaccented(text: str) -> bool:
    """A query typed without diacritics (most syllables bare) is searched on the folded field."""
    syl = syllables(text)
    words = [s for s in syl if not s.isdigit()]
    if not words:
        return False
    return sum(1 for s in words if fold(s) != s) <= len(words) * 0.1


@dataclass
class _Field:
    matrix: sparse.csc_matrix  # rows = chunks, columns = hashed terms, values = term frequency
    lengths: np.ndarray
    df: np.ndarray | None = None  # document frequency per column, computed once per build (not per query)

    def __post_init__(self):
        if self.df is None:
            self.df = np.diff(self.matrix.indptr)

    @classmethod
    def build(cls, rows: list[np.ndarray]) -> "_Field":
        n = len(rows)
        lengths = np.array([len(r) for r in rows], dtype=np.float32)
        if n == 0:
            return cls(sparse.csc_matrix((0, N_BUCKETS), dtype=np.float32), lengths)
        row_idx = np.repeat(np.arange(n, dtype=np.int32), lengths.astype(np.int64))
        cols = np.concatenate(rows) if n else np.zeros(0, np.int32)
        m = sparse.coo_matrix((np.ones(len(cols), np.float32), (row_idx, cols)), shape=(n, N_BUCKETS)).tocsc()
        m.sum_duplicates()
        return cls(m, lengths)


class BM25:
    """An in-memory BM25 index over chunk keys with appends and deletes between rebuilds."""

    def __init__(self, k1: float = 1.5, b: float = 0.75):
        self.k1, self.b = k1, b
        self.keys: list[str] = []
        self._rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._alive = np.zeros(0, dtype=bool)
        self._fields: tuple[_Field, _Field] | None = None
        self._pending: list[str] = []  # appended since the last build
        self._changes = 0  # bumped by add/remove: the delta is rebuilt only when something changed
        self._delta_at = -1

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, key: str, exact: np.ndarray, folded: np.ndarray) -> None:
        if key in self._rows:
            self.remove(key)
        self._rows[key] = (exact, folded)
        self._pending.append(key)
        self._changes += 1

    def remove(self, key: str) -> None:
        if self._rows.pop(key, None) is None:
            return
        self._changes += 1
        if key in self._pending:
            self._pending.remove(key)
        elif self._fields is not None:
            self._alive[self._index[key]] = False

    def _ensure_built(self) -> None:
        dead = len(self._alive) - int(self._alive.sum()) if self._fields is not None else 0
        # rebuild only when enough has changed: small ingests between queries stay cheap
        stale = self._fields is None or len(self._pending) > max(64, len(self.keys) // 10) or dead > len(self.keys) // 10
        if not stale and not self._pending:
            return
        if stale:
            self.keys = list(self._rows)
            self._pending = []
            self._index = {k: i for i, k in enumerate(self.keys)}
            self._alive = np.ones(len(self.keys), dtype=bool)
            self._fields = tuple(_Field.build([self._rows[k][f] for k in self.keys]) for f in (0, 1))
            self._delta = None
        elif self._delta_at != self._changes or getattr(self, "_delta", None) is None:
            self._delta_at = self._changes
            self._delta_keys = list(self._pending)
            self._delta = tuple(_Field.build([self._rows[k][f] for k in self._delta_keys]) for f in (0, 1))

    def search(self, query: str, limit: int = 50) -> list[tuple[str, float]]:
        """Top chunk keys by raw BM25 score (raw scores: comparable across queries for refusal)."""
        self._ensure_built()
        exact, folded = encode_query(query)
        use_folded = is_unaccented(query)
        q = folded if use_folded else exact
        f = 1 if use_folded else 0
        results: list[tuple[str, float]] = []
        parts = [(self._fields[f], self.keys, self._alive)]
        if self._pending and getattr(self, "_delta", None) is not None:
            alive = np.array([k in self._rows for k in self._delta_keys], dtype=bool)
            parts.append((self._delta[f], self._delta_keys, alive))
        n_total = sum(int(a.sum()) for _, _, a in parts)
        if n_total == 0 or len(q) == 0:
            return []
        avgdl = sum(float(fl.lengths[a].sum()) for fl, _, a in parts) / n_total
        cols = np.unique(q)
        dfs = sum(fl.df[cols] for fl, _, _ in parts)
        idf = np.log(1 + (n_total - dfs + 0.5) / (dfs + 0.5)).astype(np.float32)
        for fl, keys, alive in parts:
            sub = fl.matrix[:, cols].tocsc()
            scores = np.zeros(fl.matrix.shape[0], dtype=np.float32)
            norm = self.k1 * (1 - self.b + self.b * fl.lengths / max(avgdl, 1e-9))
            for j in range(len(cols)):
                a, e = sub.indptr[j], sub.indptr[j + 1]
                if a == e:
                    continue
                r, tf = sub.indices[a:e], sub.data[a:e]
                scores[r] += idf[j] * tf * (self.k1 + 1) / (tf + norm[r])
            scores[~alive] = 0
            # only the best `limit` rows are sorted (a full argsort dominated queries at 100k chunks)
            cand = np.flatnonzero(scores > 0)
            if len(cand) > limit:
                cand = cand[np.argpartition(-scores[cand], limit - 1)[:limit]]
            top = cand[np.argsort(-scores[cand], kind="stable")]
            results += [(keys[i], float(scores[i])) for i in top]
        results.sort(key=lambda x: -x[1])
        return results[:limit]

    def idf_mass(self, query: str) -> float:
        """Sum of the idf of the query's distinct terms: the scale of a full match.

        A raw BM25 score divided by it is comparable across collection sizes (idf grows with the
        number of chunks), which the refusal decision needs.
        """
        self._ensure_built()
        exact, folded = encode_query(query)
        use_folded = is_unaccented(query)
        q, f = (folded, 1) if use_folded else (exact, 0)
        parts = [(self._fields[f], self._alive)]
        if self._pending and getattr(self, "_delta", None) is not None:
            parts.append((self._delta[f], np.array([k in self._rows for k in self._delta_keys], dtype=bool)))
        n_total = sum(int(a.sum()) for _, a in parts)
        if n_total == 0 or len(q) == 0:
            return 0.0
        cols = np.unique(q)
        dfs = sum(fl.df[cols] for fl, _ in parts)
        return float(np.log(1 + (n_total - dfs + 0.5) / (dfs + 0.5)).sum())
