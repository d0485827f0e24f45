"""Metrics: retrieval at document level (ViRE definitions) and answer quality.  Pure functions.

Retrieval (binary relevance; `ranked` is a list of document ids, best first, each id once):
  P@1        1 if the top document is relevant
  Recall@k   |relevant in top k| / |relevant|
  Hit@k      1 if any relevant document is in the top k
  MRR@10     1 / rank of the first relevant document within the top 10, else 0
  nDCG@10    sum over relevant ranks r <= 10 of 1/log2(r+1), divided by the same sum for the ideal ranking
Answers:
  has_answer          normalized gold answer contained in the normalized answer
  token F1            over Vietnamese syllables (ingest.lexical.syllables), best over the gold answers
  citation precision  share of cited passages that contain a gold answer
  citation recall     1 if some cited passage contains a gold answer, else 0 (one gold fact per question)
  passage precision   citation precision counted on the retrieved passage (chunk) each cited span lies in
  source precision    share of cited passages taken from a gold document (for SQuAD-style sets: the paragraph
                      that holds the answer, the unit in which issue #9's baseline counted a correct citation)
Answers of several units (sets whose gold answers are the units a full answer quotes):
  answer recall       share of gold units contained in the answer
  answer precision    share of quoted units (citations) that are gold: a cited text containing a gold unit or
                      contained in one
  verdict accuracy    yes/no: the answer's verdict equals the expected one (a refusal is "không rõ")
  key sentences       summaries: number of gold key sentences in the answer
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable, Sequence

from ingest.lexical import syllables
from ingest.normalize import normalize_text

_WS = re.compile(r"\s+")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


def doc_ranking(doc_ids: Iterable[str]) -> list[str]:
    """Retrieved chunks mapped to their documents: the first (best) rank of each document is kept."""
    seen: set[str] = set()
    out = []
    for d in doc_ids:
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def precision_at_1(ranked: Sequence[str], relevant: set[str]) -> float:
    return 1.0 if ranked and ranked[0] in relevant else 0.0


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def hit_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return 1.0 if any(d in relevant for d in ranked[:k]) else 0.0


def mrr_at_k(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k], 1):
        if d in relevant:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, d in enumerate(ranked[:k], 1) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


def first_rank(ranked: Sequence[str], relevant: set[str]) -> int | None:
    for i, d in enumerate(ranked, 1):
        if d in relevant:
            return i
    return None


def retrieval_scores(ranked: Sequence[str], relevant: set[str], ks: Sequence[int]) -> dict[str, float]:
    out = {"p@1": precision_at_1(ranked, relevant), "mrr@10": mrr_at_k(ranked, relevant, 10),
           "ndcg@10": ndcg_at_k(ranked, relevant, 10)}
    for k in ks:
        out[f"recall@{k}"] = recall_at_k(ranked, relevant, k)
        out[f"hit@{k}"] = hit_at_k(ranked, relevant, k)
    return out


# -- answers -------------------------------------------------------------------------------------------
def normalize_answer(text: str) -> str:
    """NFC + one tone placement (ingest.normalize), lowercase, whitespace collapsed."""
    return _WS.sub(" ", normalize_text(text or "").lower()).strip()


def _gold_forms(gold: str) -> list[str]:
    g = normalize_answer(gold)
    trimmed = _EDGE.sub("", g)  # "308." and "308" are the same gold answer
    return [x for x in dict.fromkeys([g, trimmed]) if x]


def contains_answer(text: str, golds: Sequence[str]) -> bool:
    t = normalize_answer(text)
    return any(f in t for g in golds for f in _gold_forms(g))


def has_answer(answer: str, golds: Sequence[str]) -> float:
    return 1.0 if golds and contains_answer(answer, golds) else 0.0


def token_f1(pred: str, golds: Sequence[str]) -> float:
    p = syllables(pred or "")
    best = 0.0
    for g in golds:
        t = syllables(g)
        common = sum((Counter(p) & Counter(t)).values())
        if not p or not t or not common:
            continue
        prec, rec = common / len(p), common / len(t)
        best = max(best, 2 * prec * rec / (prec + rec))
    return best


def citation_precision(cited_texts: Sequence[str], golds: Sequence[str]) -> float | None:
    """Share of cited passages containing a gold answer; None when nothing was cited."""
    if not cited_texts:
        return None
    return sum(1 for t in cited_texts if contains_answer(t, golds)) / len(cited_texts)


def source_precision(cited_doc_ids: Sequence[str], gold_doc_ids: Sequence[str]) -> float | None:
    """Share of cited passages that come from a gold document; None when nothing was cited."""
    if not cited_doc_ids:
        return None
    gold = set(gold_doc_ids)
    return sum(1 for d in cited_doc_ids if d in gold) / len(cited_doc_ids)


def citation_recall(cited_texts: Sequence[str], golds: Sequence[str]) -> float:
    return 1.0 if any(contains_answer(t, golds) for t in cited_texts) else 0.0


# -- aggregation ---------------------------------------------------------------------------------------
def mean(xs: Iterable[float | None]) -> float | None:
    v = [x for x in xs if x is not None]
    return sum(v) / len(v) if v else None


def percentile(xs: Iterable[float | None], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), as numpy's default."""
    v = sorted(x for x in xs if x is not None)
    if not v:
        return None
    pos = (len(v) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


# -- answers of several units --------------------------------------------------------------------------
def _unit_forms(text: str) -> str:
    return _EDGE.sub("", normalize_answer(text))


def answer_recall(answer: str, golds: Sequence[str]) -> float | None:
    """Share of gold units contained in the answer; None without gold units."""
    if not golds:
        return None
    a = normalize_answer(answer)
    return sum(1 for g in golds if _unit_forms(g) in a) / len(golds)


def answer_precision(cited_texts: Sequence[str], golds: Sequence[str]) -> float | None:
    """Share of quoted units that are gold (contain a gold unit or lie inside one); None when nothing is quoted."""
    if not cited_texts or not golds:
        return None
    gs = [_unit_forms(g) for g in golds]
    hits = 0
    for t in cited_texts:
        c = _unit_forms(t)
        hits += any(g in c or (c and c in g) for g in gs)
    return hits / len(cited_texts)


def verdict_of(answer: str, refused: bool) -> str:
    """"Có. …" or "Có, nếu …" -> "có", "Không. …" -> "không", "Tài liệu không nói rõ." or a refusal -> "không rõ"."""
    a = normalize_answer(answer)
    if refused or a.startswith("tài liệu không nói rõ"):
        return "không rõ"
    if a.startswith("không."):
        return "không"
    return "có" if a.startswith(("có.", "có,")) else ""  # "Có, nếu …": a conditional yes


def key_sentences(answer: str, golds: Sequence[str]) -> int:
    a = normalize_answer(answer)
    return sum(1 for g in golds if _unit_forms(g) in a)
