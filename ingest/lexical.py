"""BM25 over Vietnamese syllables and syllable bigrams, plus an accent-folded field.

Why syllables + bigrams and not a word segmenter: on the dev sets bigrams of syllables scored at least
as well as pyvi segmentation (docs/evaluation.md) and cost nothing at query time.  No stemmer, no
stopwords, one-letter syllables kept ("ủy", "ý" carry meaning).

Terms are hashed into a fixed number of columns so the index is a pair of sparse matrices that can be
appended to and saved without a vocabulary.  The index lives beside Chroma (Chroma's own sparse index
is not available in the embedded engine) and is kept in step with it by `ingest.store`.
"""
from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from scipy import sparse

from ingest.normalize import fold, normalize_text
from ingest.structure import article_terms, combined_terms, reference_terms

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
    """A question's terms: as a passage's, plus the articles it names ("khoản 2 điều 14" -> §d14, §d14k2), alone
    and within the document it names ("điều 1 nghị định 100" -> §nd100:§d1)."""
    articles = article_terms(query)
    return encode(query, articles + combined_terms(reference_terms(query), articles))


# a Vietnamese syllable: onset, vowels, final consonant (a semivowel final is among the vowels)
_VN_SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?([aeiouy]{1,3})(ch|ng|nh|[cmnpt])?")


def spelled_with_diacritics(syllable: str) -> bool:
    """A bare syllable of Vietnamese shape that Vietnamese only writes with diacritics: a stop final
    (-c, -ch, -p, -t) takes a sắc or nặng tone, and ie / ye / uo are always iê / yê / uô or ươ
    ("quyet", "hieu", "duoc").  Its bare form shows it was typed without them."""
    m = _VN_SYLLABLE.fullmatch(syllable)
    if not m:
        return False
    return (m.group(2) or "") in ("c", "ch", "p", "t") or any(d in m.group(1) for d in ("ie", "ye", "uo"))


def is_unaccented(text: str) -> bool:
    """A query typed without diacritics, wholly or in part, is searched on the folded field: most of its
    syllables are bare, or one of its lower-case words is a syllable Vietnamese never writes bare (a
    question typed with diacritics on some words only).  Capitalised words (names, "DEC") are not judged."""
    norm = normalize_text(text)
    syl = [s.lower() for s in _SYL.findall(norm)]
    words = [s for s in syl if not s.isdigit()]
    if not words:
        return False
    if sum(1 for s in words if fold(s) != s) <= len(words) * 0.1:
        return True
    cased = _SYL.findall(norm)
    return any((w.islower() or (i == 0 and w[1:].islower())) and spelled_with_diacritics(w.lower())
               for i, w in enumerate(cased))


@dataclass
class _Field:
    """One field of one segment: the columns (hashed terms) of a rows x terms matrix of term frequencies, in CSC
    arrays (a query reads only its terms' columns), row lengths and per-column document frequencies; in memory
    or memory-mapped from disk (plain numpy arrays, so nothing is copied when mapped)."""

    indptr: np.ndarray  # N_BUCKETS + 1
    indices: np.ndarray  # row of each entry
    data: np.ndarray  # term frequency of each entry
    lengths: np.ndarray  # terms per row
    df: np.ndarray  # rows per column

    @classmethod
    def build(cls, rows: list[np.ndarray]) -> "_Field":
        n = len(rows)
        lengths = np.array([len(r) for r in rows], dtype=np.float32)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths.astype(np.int64), out=indptr[1:])
        cols = np.concatenate(rows).astype(np.int32) if n else np.zeros(0, np.int32)
        m = sparse.csr_matrix((np.ones(len(cols), np.float32), cols, indptr), shape=(n, N_BUCKETS)).tocsc()
        m.sum_duplicates()
        return cls(m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data, lengths,
                   np.diff(m.indptr).astype(np.int32))

    @property
    def rows(self) -> int:
        return len(self.lengths)

    def save(self, prefix: Path) -> None:
        for name in ("indptr", "indices", "data", "lengths", "df"):
            np.save(f"{prefix}.{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, prefix: Path) -> "_Field":
        return cls(*(np.load(f"{prefix}.{k}.npy", mmap_mode="r") for k in ("indptr", "indices", "data", "lengths", "df")))


@dataclass
class _Segment:
    keys: list[str]
    fields: tuple[_Field, _Field]  # exact, folded
    alive: np.ndarray  # False once a row was removed or replaced

    @classmethod
    def build(cls, keys: list[str], exact: list[np.ndarray], folded: list[np.ndarray]) -> "_Segment":
        return cls(keys, (_Field.build(exact), _Field.build(folded)), np.ones(len(keys), dtype=bool))

    def save(self, path: Path, i: int) -> None:
        (path / f"seg{i}.keys.json").write_text(json.dumps(self.keys), encoding="utf-8")
        for f, field in zip("ef", self.fields):
            field.save(path / f"seg{i}.{f}")

    @classmethod
    def load(cls, path: Path, i: int) -> "_Segment":
        keys = json.loads((path / f"seg{i}.keys.json").read_text(encoding="utf-8"))
        return cls(keys, tuple(_Field.load(path / f"seg{i}.{f}") for f in "ef"), np.ones(len(keys), dtype=bool))


Row = tuple[str, np.ndarray, np.ndarray]


class BM25:
    """BM25 over chunk keys: built segments (memory-mapped when saved) plus a delta of rows added since.

    Without a `loader` every row is also kept in memory so the index can rebuild itself. With one (the
    store's reader of committed rows), rows are not kept: a rebuild streams them again, segment by segment,
    so building and querying a large collection never holds every row's terms in memory at once.
    """

    SEGMENT_ROWS = 100_000

    def __init__(self, k1: float = 1.5, b: float = 0.75, loader: Callable[[], Iterable[Row]] | None = None):
        self.k1, self.b = k1, b
        self.loader = loader
        self.segments: list[_Segment] = []
        self._where: dict[str, tuple[int, int]] = {}  # key -> (segment, row) of built rows
        self._rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # every row (only without a loader)
        self._pending: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # added since the last build
        self._dead = 0
        self._delta: _Segment | None = None

    @classmethod
    def from_rows(cls, rows: Iterable[Row], loader=None, path: Path | None = None, **kw) -> "BM25":
        """Built from rows; with a `path`, each segment is written there as soon as it is built and mapped
        back from disk, so a build holds one segment in memory at a time."""
        b = cls(loader=loader, **kw)
        b._build(rows, path)
        return b

    def __len__(self) -> int:
        return len(self._where) - self._dead + len(self._pending)

    @property
    def stale(self) -> bool:
        """Enough has changed since the last build that querying the delta costs more than rebuilding."""
        built = len(self._where)
        return len(self._pending) > max(64, built // 10) or self._dead > max(64, built // 10)

    def add(self, key: str, exact: np.ndarray, folded: np.ndarray) -> None:
        self.remove(key)
        self._pending[key] = (exact, folded)
        if self.loader is None:
            self._rows[key] = (exact, folded)
        self._delta = None

    def remove(self, key: str) -> None:
        self._rows.pop(key, None)
        if self._pending.pop(key, None) is not None:
            self._delta = None
        at = self._where.get(key)
        if at is not None and self.segments[at[0]].alive[at[1]]:
            self.segments[at[0]].alive[at[1]] = False
            self._dead += 1

    # -- building and saving -------------------------------------------------------------------
    def _build(self, rows: Iterable[Row], path: Path | None = None) -> None:
        self.segments, self._where, self._pending, self._dead, self._delta = [], {}, {}, 0, None
        keys: list[str] = []
        exact: list[np.ndarray] = []
        folded: list[np.ndarray] = []
        for key, ex, fo in rows:
            keys.append(key)
            exact.append(ex)
            folded.append(fo)
            if len(keys) >= self.SEGMENT_ROWS:
                self._add_segment(keys, exact, folded, path)
                keys, exact, folded = [], [], []
        if keys or not self.segments:
            self._add_segment(keys, exact, folded, path)
        if path is not None:
            (path / "segments.json").write_text(json.dumps({"segments": len(self.segments)}), encoding="utf-8")

    def _add_segment(self, keys, exact, folded, path: Path | None) -> None:
        i = len(self.segments)
        seg = _Segment.build(keys, exact, folded)
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
            seg.save(path, i)
            seg = _Segment.load(path, i)
        self.segments.append(seg)
        self._where.update((k, (i, r)) for r, k in enumerate(keys))

    def rebuild(self) -> None:
        """Rebuild from every current row: the loader's, or the rows kept in memory."""
        if self.loader is not None:
            self._build(self.loader())
        else:
            self._build((k, ex, fo) for k, (ex, fo) in self._rows.items())

    def save(self, path: Path) -> None:
        """Write the built segments (call right after a build: pending rows and removals are not saved)."""
        path.mkdir(parents=True, exist_ok=True)
        for i, seg in enumerate(self.segments):
            seg.save(path, i)
        (path / "segments.json").write_text(json.dumps({"segments": len(self.segments)}), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, loader=None, **kw) -> "BM25":
        b = cls(loader=loader, **kw)
        n = json.loads((path / "segments.json").read_text(encoding="utf-8"))["segments"]
        for i in range(n):
            b.segments.append(_Segment.load(path, i))
            b._where.update((k, (i, r)) for r, k in enumerate(b.segments[-1].keys))
        return b

    # -- searching -----------------------------------------------------------------------------
    def _parts(self, f: int) -> list[tuple[_Field, list[str], np.ndarray]]:
        if self.stale:
            self.rebuild()
        if self._pending and self._delta is None:
            keys = list(self._pending)
            self._delta = _Segment.build(keys, [self._pending[k][0] for k in keys], [self._pending[k][1] for k in keys])
        parts = [(s.fields[f], s.keys, s.alive) for s in self.segments]
        if self._pending and self._delta is not None:
            parts.append((self._delta.fields[f], self._delta.keys, self._delta.alive))
        return parts

    def _query(self, query: str) -> tuple[np.ndarray, int]:
        exact, folded = encode_query(query)
        return (folded, 1) if self.unaccented(query) else (exact, 0)

    def unaccented(self, query: str) -> bool:
        """`is_unaccented`, or a lower-case bare word this collection never writes bare but writes with
        diacritics ("phai" where the documents only have "phải"): a question typed with diacritics on some
        words only, whose bare words are all ones Vietnamese can also write bare."""
        if is_unaccented(query):
            return True
        words = [w for w in _SYL.findall(normalize_text(query)) if w.islower() and not w.isdigit() and fold(w) == w]
        if not words:
            return False
        cols = hashed(words)
        df = [sum(np.asarray(fl.df[cols]) for fl, _, _ in self._parts(f)) for f in (0, 1)]
        return bool(np.any((df[0] == 0) & (df[1] > 0)))

    def search(self, query: str, limit: int = 50) -> list[tuple[str, float]]:
        """Top chunk keys by raw BM25 score (raw scores: comparable across queries for refusal)."""
        q, f = self._query(query)
        parts = self._parts(f)
        n_total = sum(int(a.sum()) for _, _, a in parts)
        if n_total == 0 or len(q) == 0:
            return []
        avgdl = sum(float(np.asarray(fl.lengths)[a].sum()) for fl, _, a in parts) / n_total
        cols = np.unique(q)
        dfs = np.minimum(sum(np.asarray(fl.df[cols]) for fl, _, _ in parts), n_total)  # df counts removed rows too
        idf = np.log(1 + (n_total - dfs + 0.5) / (dfs + 0.5)).astype(np.float32)
        results: list[tuple[str, float]] = []
        for fl, keys, alive in parts:
            scores = np.zeros(fl.rows, dtype=np.float32)
            lengths = np.asarray(fl.lengths)
            indptr, indices, data = fl.indptr, fl.indices, fl.data
            for j, col in enumerate(cols):
                a, e = int(indptr[col]), int(indptr[col + 1])
                if a == e:
                    continue
                r, tf = np.asarray(indices[a:e]), np.asarray(data[a:e])
                norm = self.k1 * (1 - self.b + self.b * lengths[r] / max(avgdl, 1e-9))
                scores[r] += idf[j] * tf * (self.k1 + 1) / (tf + norm)
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
        q, f = self._query(query)
        parts = self._parts(f)
        n_total = sum(int(a.sum()) for _, _, a in parts)
        if n_total == 0 or len(q) == 0:
            return 0.0
        cols = np.unique(q)
        dfs = np.minimum(sum(np.asarray(fl.df[cols]) for fl, _, _ in parts), n_total)
        return float(np.log(1 + (n_total - dfs + 0.5) / (dfs + 0.5)).sum())
