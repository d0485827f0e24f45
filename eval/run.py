"""Evaluation runs: index a set's contexts (cached), retrieve with each retriever, answer, score.

Indexing goes through the normal ingest pipeline: each unique context is written to
`<home>/eval/<cache key>/docs/<context key>.txt` and that folder is ingested, so chunking, normalization,
embedding and the BM25 index are exactly the product's.  The cache key covers the set name, the indexed
contexts, the embedder and the chunk settings: a second run of the same set finds every document
unchanged and embeds nothing.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from eval import metrics as M
from eval.sets import QUESTION_TYPES, EvalSet, Item
from rag.service import answer_payload

DEPTH = 50  # chunks retrieved per question before mapping to documents
RETRIEVERS = ("hybrid", "dense", "bm25")


@dataclass
class RunConfig:
    retrievers: list[str] = field(default_factory=lambda: ["hybrid"])  # the first one is the primary
    ks: list[int] = field(default_factory=lambda: [1, 3, 5, 10, 20])
    retrieval_only: bool = False
    llm: str | None = None
    limit: int | None = None
    seed: int = 0
    holdout_articles: int = 0
    strip_diacritics: str | None = None  # "all" | "half": questions retyped without (some) diacritics
    depth: int = DEPTH

    def __post_init__(self):
        self.ks = sorted(set(self.ks) | {1, 5, 10})
        for r in self.retrievers:
            if r not in RETRIEVERS:
                raise ValueError(f"unknown retriever '{r}' (use {', '.join(RETRIEVERS)})")
        if self.strip_diacritics not in (None, "all", "half"):
            raise ValueError(f"--strip-diacritics takes all or half, not '{self.strip_diacritics}'")


class _QueryCache:
    """The product's embedder with query vectors memoized: hybrid and dense runs embed each question once."""

    def __init__(self, inner):
        self._e, self._q = inner, {}
        self.model_id, self.dim = inner.model_id, inner.dim

    def embed_query(self, text):
        if text not in self._q:
            self._q[text] = self._e.embed_query(text)
        return self._q[text]

    def embed_passages(self, texts):
        return self._e.embed_passages(texts)

    def count_tokens(self, text):
        return self._e.count_tokens(text)


# -- sampling and hold-out -----------------------------------------------------------------------------
def select_items(es: EvalSet, limit: int | None = None, seed: int = 0,
                 holdout_articles: int = 0) -> tuple[list[Item], set[str]]:
    """A reproducible sample; with holdout_articles, K articles' contexts are left out of the index and
    their questions become unanswerable.  Returns (items, held-out context keys)."""
    rng = random.Random(seed)
    held_keys: set[str] = set()
    items = list(es.items)
    if holdout_articles:
        arts = sorted({i.article for i in items if i.article})
        if not arts:
            raise ValueError("--holdout-articles needs a SQuAD-style set (questions grouped in articles)")
        if holdout_articles >= len(arts):
            raise ValueError(f"--holdout-articles {holdout_articles}: the set has only {len(arts)} articles")
        held = set(rng.sample(arts, holdout_articles))
        out = []
        for it in items:
            if it.article in held:
                held_keys.add(it.context_key)
                it = Item(it.qid, it.question, it.answers, None, None, [], [], False, it.article, it.line)
            out.append(it)
        items = out
    if limit and limit < len(items):
        idx = sorted(rng.sample(range(len(items)), limit))
        items = [items[i] for i in idx]
    return items, held_keys


def strip_diacritics(question: str, how: str, seed: int = 0) -> str:
    """The question as typed without diacritics: on every word ("all"), or on about half of its words chosen
    with the seed ("half": a user who types accents on some words only)."""
    from ingest.normalize import fold, normalize_text

    question = normalize_text(question)  # composed: a word is one \w+ run
    if how == "all":
        return fold(question)
    rng = random.Random(f"{seed}:{question}")
    return re.sub(r"\w+", lambda m: fold(m.group(0)) if rng.random() < 0.5 else m.group(0), question)


def retype_questions(items: list[Item], how: str | None, seed: int = 0) -> list[Item]:
    if not how:
        return items
    return [replace(it, question=strip_diacritics(it.question, how, seed)) for it in items]


# -- indexing ------------------------------------------------------------------------------------------
def cache_key(es: EvalSet, keys: list[str], model_id: str, chunk_tokens: int, overlap: int) -> str:
    from ingest.pipeline import INDEX_VERSION

    h = hashlib.sha1(json.dumps([es.name, es.contexts_hash(keys), model_id, chunk_tokens, overlap,
                                 INDEX_VERSION]).encode())
    return h.hexdigest()[:12]


def index_contexts(es: EvalSet, comp, name: str | None = None, exclude: set[str] | None = None,
                   progress: Callable[[int, int, str], None] | None = None) -> tuple[str, dict[str, str], dict]:
    """Index the set's unique contexts as documents.  Returns (collection, context key -> doc_id, info)."""
    from ingest.pipeline import ingest_paths
    from ingest.store import doc_id_for

    s = comp.settings
    keys = sorted(k for k in es.contexts if k not in (exclude or set()))
    if not keys:
        raise ValueError(f"{es.name}: the set has no contexts to index (use --collection NAME)")
    ck = cache_key(es, keys, comp.embedder.model_id, s.chunk_tokens, s.chunk_overlap)
    name = name or f"eval-{es.name[:24]}-{ck}"
    base = Path(s.home) / "eval" / ck
    docs = base / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    key2doc = {}
    for k in keys:
        p = docs / f"{k}.txt"
        if not p.exists():
            p.write_text(es.contexts[k], encoding="utf-8")
        key2doc[k] = doc_id_for(str(p.resolve()))
    coll = comp.collection(name)
    t0 = time.time()
    if all((coll.doc_state(d) or ("", ""))[1] == "ok" for d in key2doc.values()) and not coll.pending_documents():
        info = {"cached": True, "chunks": coll.count_chunks(), "seconds": 0.0}
    else:
        summ = ingest_paths([docs], coll, comp.embedder, chunk_tokens=s.chunk_tokens, overlap=s.chunk_overlap,
                            progress=progress)
        info = {"cached": False, "added": len(summ.added), "updated": len(summ.updated),
                "unchanged": len(summ.unchanged), "failed": summ.failed, "chunks": coll.count_chunks(),
                "seconds": round(time.time() - t0, 2)}
    info.update({"collection": name, "cache_key": ck, "documents": len(keys), "docs_dir": str(docs)})
    (base / "manifest.json").write_text(json.dumps({"set": es.path, "collection": name, "key2doc": key2doc},
                                                   ensure_ascii=False), encoding="utf-8")
    return name, key2doc, info


def index_corpus(folders: list[Path], comp, progress=None) -> tuple[str, dict]:
    """Ingest folders of documents (a set written over them names its gold documents by file name) into a
    collection of their own; files unchanged since the last run are not read again."""
    from ingest.pipeline import ingest_paths

    s = comp.settings
    folders = [Path(f) for f in ([folders] if isinstance(folders, (str, Path)) else folders)]
    for folder in folders:
        if not folder.is_dir():
            raise ValueError(f"--corpus: not a folder: {folder}")
    key = hashlib.sha1(json.dumps([sorted(str(f.resolve()) for f in folders), comp.embedder.model_id,
                                   s.chunk_tokens, s.chunk_overlap]).encode()).hexdigest()[:10]
    name = f"eval-corpus-{key}"
    t0 = time.time()
    summ = ingest_paths(folders, comp.collection(name), comp.embedder, chunk_tokens=s.chunk_tokens,
                        overlap=s.chunk_overlap, prune=True, progress=progress)
    return name, {"collection": name, "corpus": [str(f) for f in folders], "added": len(summ.added),
                  "updated": len(summ.updated), "unchanged": len(summ.unchanged), "failed": summ.failed,
                  "seconds": round(time.time() - t0, 2)}


# -- relevance -----------------------------------------------------------------------------------------
class _Gold:
    """Resolves each question's relevant documents in the evaluated collection."""

    def __init__(self, coll, key2doc: dict[str, str] | None):
        self.coll, self.key2doc = coll, key2doc or {}
        self._texts: dict[str, str] | None = None

    def _doc_texts(self) -> dict[str, str]:
        if self._texts is None:
            self._texts = {d["doc_id"]: M.normalize_answer(self.coll.document_text(d["doc_id"]) or "")
                           for d in self.coll.documents() if d["status"] == "ok"}
        return self._texts

    def relevant(self, it: Item) -> set[str]:
        if not it.answerable:
            return set()
        if it.context_key and it.context_key in self.key2doc:
            return {self.key2doc[it.context_key]}
        rel: set[str] = set()
        for ref in it.gold_docs:
            rel.update(self.coll.find_documents(ref))
        for p in it.gold_passages:
            np_ = M.normalize_answer(p)
            rel.update(d for d, t in self._doc_texts().items() if np_ and np_ in t)
        return rel


# -- the run -------------------------------------------------------------------------------------------
def _chunk_rank(hits, gold_doc: str, start: int, length: int) -> int | None:
    for i, h in enumerate(hits, 1):
        if h.doc_id == gold_doc and h.start <= start and start + length <= h.end:
            return i
    return None


def run_eval(es: EvalSet, comp, cfg: RunConfig, collection: str, key2doc: dict[str, str] | None = None,
             items: list[Item] | None = None, progress=None) -> dict:
    """Score every retriever in cfg.retrievers (the first also answers).  Returns
    {"metrics": {...primary, "baselines": {mode: {...}}}, "rows": [per-question results of the primary]}."""
    from rag.retrieve import Retriever

    s = comp.settings
    items = list(es.items) if items is None else items
    coll = comp.collection(collection, create=False)
    gold = _Gold(coll, key2doc)
    emb = _QueryCache(comp.embedder)
    rels = [gold.relevant(it) for it in items]
    chunk_level = es.format == "squad" and bool(key2doc)
    per_mode: dict[str, dict] = {}
    rows: list[dict] = []
    total = len(items) * len(cfg.retrievers) + (0 if cfg.retrieval_only else len(items))
    done = 0
    for mi, mode in enumerate(cfg.retrievers):
        r = Retriever(coll, emb, mode, s.top_k, s.dense_weight, s.fusion, s.candidates,
                      sentence_weight=s.sentence_weight)
        sc, lat, chunk_ranks = [], [], []
        for i, it in enumerate(items):
            t0 = time.perf_counter()
            hits = r.retrieve(it.question, top_k=cfg.depth)
            lat.append(time.perf_counter() - t0)
            ranked = M.doc_ranking(h.doc_id for h in hits)
            rel = rels[i]
            row_scores = M.retrieval_scores(ranked, rel, cfg.ks) if rel else {}
            crank = None
            if chunk_level and rel and it.answer_start is not None and it.answers:
                crank = _chunk_rank(hits, next(iter(rel)), it.answer_start, len(it.answers[0]))
                chunk_ranks.append(crank)
                for k in cfg.ks:
                    row_scores[f"chunk_hit@{k}"] = 1.0 if crank is not None and crank <= k else 0.0
            if rel:
                sc.append(row_scores)
            if mi == 0:
                rows.append({"id": it.qid, "question": it.question, "answerable": it.answerable,
                             "gold": {"answers": it.answers, "doc_ids": sorted(rel)},
                             "retrieved": ranked[:10], "gold_rank": M.first_rank(ranked, rel) if rel else None,
                             "chunk_rank": crank, "scores": row_scores,
                             "retrieval_s": round(lat[-1], 4),
                             "pass": bool(row_scores.get("hit@5")) if rel else None})
            done += 1
            if progress:
                progress(done, total, mode)
        m = {"retriever": mode, "n_questions": len(sc)}
        keys = ["p@1", "mrr@10", "ndcg@10"] + [f"recall@{k}" for k in cfg.ks] + [f"hit@{k}" for k in cfg.ks]
        if chunk_level:
            keys += [f"chunk_hit@{k}" for k in cfg.ks]
        for k in keys:
            m[k] = M.mean(x.get(k) for x in sc)
        m["retrieval_latency_p50"] = M.percentile(lat, 50)
        m["retrieval_latency_p95"] = M.percentile(lat, 95)
        per_mode[mode] = m
    primary = cfg.retrievers[0]
    out = dict(per_mode[primary])
    out["baselines"] = {k: v for k, v in per_mode.items() if k != primary}
    if not cfg.retrieval_only:
        out.update(answer_items(comp, collection, primary, cfg.llm, items, rows,
                                progress=(lambda j: progress(done + j, total, "answers")) if progress else None))
    return {"metrics": out, "rows": rows}


def _passage_of(c, passages) -> str:
    """The retrieved passage (chunk) a cited span was taken from."""
    return next((p.text for p in passages if p.doc_id == c.doc_id and p.start <= c.start and c.end <= p.end), c.text)


def answer_items(comp, collection: str, mode: str, llm: str | None, items: list[Item], rows: list[dict],
                 progress=None) -> dict:
    ans = comp.answerer(collection=collection, llm=llm, mode=mode)
    ha, f1, cp, pp, sp, cr, refused_unans, answered_ans, ttft, lat = [], [], [], [], [], [], [], [], [], []
    typed: list[dict] = []
    for j, (it, row) in enumerate(zip(items, rows), 1):
        t0 = time.perf_counter()
        a = ans.ask(it.question)
        total = time.perf_counter() - t0
        cited = [c.text for c in a.citations]
        sc = row["scores"]
        first = a.timings.get("first_token_s")
        lat.append(a.timings.get("total_s") or total)
        if first is not None:
            ttft.append(first)
        if it.answerable:
            answered_ans.append(0.0 if a.refused else 1.0)
            if it.answers:
                text = "" if a.refused else a.answer
                sc["has_answer"] = M.has_answer(text, it.answers)
                sc["token_f1"] = M.token_f1(text, it.answers)
                sc["citation_precision"] = M.citation_precision(cited, it.answers) if not a.refused else None
                sc["citation_recall"] = M.citation_recall(cited, it.answers)
                sc["passage_precision"] = M.citation_precision([_passage_of(c, a.passages) for c in a.citations],
                                                               it.answers) if not a.refused else None
                sc["source_precision"] = M.source_precision([c.doc_id for c in a.citations],
                                                            row["gold"]["doc_ids"]) if not a.refused else None
                ha.append(sc["has_answer"])
                f1.append(sc["token_f1"])
                cp.append(sc["citation_precision"])
                pp.append(sc["passage_precision"])
                cr.append(sc["citation_recall"])
                sp.append(sc["source_precision"])
                row["pass"] = bool(sc["has_answer"])
        else:
            refused_unans.append(1.0 if a.refused else 0.0)
            row["pass"] = bool(a.refused)
        typed.append(_typed_scores(it, a, sc, row))
        if it.answerable and it.answers:
            typed[-1]["right"] = sc["right"] = float(bool(row["pass"]))
        p = answer_payload(a)
        row.update({"answer": p["answer"], "refused": p["refused"], "mode": p["mode"], "question_type": p["question_type"],
                    "verdict": p["verdict"], "type": it.qtype, "citations": p["citations"],
                    "latency_s": round(lat[-1], 4), "ttft_s": first})
        if progress:
            progress(j)
    return {"llm": llm or comp.settings.llm, "answer_style": comp.settings.answer_style,
            "has_answer": M.mean(ha), "token_f1": M.mean(f1),
            "citation_precision": M.mean(cp), "citation_recall": M.mean(cr),
            "passage_precision": M.mean(pp), "source_precision": M.mean(sp),
            "refusal_rate": M.mean(refused_unans), "answered_rate": M.mean(answered_ans),
            "n_answerable": len(answered_ans), "n_unanswerable": len(refused_unans),
            "ttft_p50": M.percentile(ttft, 50), "latency_p50": M.percentile(lat, 50),
            "latency_p95": M.percentile(lat, 95), **({"by_type": by_type(typed)} if typed else {}),
            **({"by_format": by_type(typed, "format")} if any(x.get("format") for x in typed) else {})}


TYPED_KEYS = ("right", "type_accuracy", "has_answer", "answer_recall", "answer_precision", "token_f1", "verdict_accuracy", "key_sentences",
              "summary_3of5", "refusal_rate", "answered_rate", "latency_p50")


def _typed_scores(it: Item, a, sc: dict, row: dict) -> dict:
    """Scores of a question by its type: the set's type when it says one (then also recall and precision of
    the gold units, the key sentences of a summary), else the recognised type; the verdict where the set gives
    one, or where a yes/no question's gold answer is just "có" or "không" (ALQAC); also written into the row's
    scores."""
    out = {"type": it.qtype or a.question_type, "format": it.doc_format, "latency": row.get("latency_s"),
           "type_accuracy": float(a.question_type == it.qtype) if it.qtype in QUESTION_TYPES else None,
           "has_answer": sc.get("has_answer")}
    verdict = it.verdict
    if not verdict and a.question_type == "yesno" and len(it.answers) == 1:
        verdict = {"có": "có", "không": "không"}.get(M.normalize_answer(it.answers[0]).strip(" ."))
    if not it.answerable:
        out["refusal_rate"] = 1.0 if a.refused else 0.0
    else:
        out["answered_rate"] = 0.0 if a.refused else 1.0
    text = "" if a.refused else a.answer
    if it.qtype and it.answerable and it.answers:
        out["answer_recall"] = M.answer_recall(text, it.answers)
        out["answer_precision"] = M.answer_precision([c.text for c in a.citations], it.answers)
        out["token_f1"] = M.token_f1(text, [" ".join(it.answers)])
        if it.qtype == "summary":
            out["key_sentences"] = float(M.key_sentences(text, it.answers))
            out["summary_3of5"] = float(out["key_sentences"] >= min(3, len(it.answers)))
    if verdict:
        out["verdict_accuracy"] = float(M.verdict_of(a.answer, a.refused) == verdict)
    sc.update({k: v for k, v in out.items() if k not in ("type", "format", "latency") and v is not None})
    if it.qtype == "summary" and it.answerable and it.answers:
        row["pass"] = bool(out["summary_3of5"])
    elif it.qtype and it.qtype != "factoid" and it.answerable and it.answers:
        row["pass"] = (out.get("answer_recall") or 0) >= 0.8 and out.get("verdict_accuracy", 1.0) == 1.0
    elif verdict:
        row["pass"] = out["verdict_accuracy"] == 1.0
    return out


def by_type(typed: list[dict], key: str = "type") -> dict:
    """TYPED_KEYS averaged per question type, or per another label of the questions (`key`: "format"), and over
    all of them, under "all"."""
    out = {}
    for t in sorted({x[key] for x in typed if x.get(key)}) + ["all"]:
        xs = [x for x in typed if t in ("all", x.get(key))]
        m = {"n": len(xs)}
        for k in TYPED_KEYS:
            m[k] = M.percentile([x.get("latency") for x in xs], 50) if k == "latency_p50" else M.mean(x.get(k) for x in xs)
        out[t] = m
    return out
