"""Sentence vectors: what embedding them costs and what they add to dense retrieval (issue #18).

    HOIDAP_HOME=DIR .venv/bin/python bench/sentence_vectors.py SET [SET ...]
    .venv/bin/python bench/sentence_vectors.py --cost SET   # embedder seconds: chunks vs their sentences

Runs on an eval index already built by `hoidap eval SET` under the same data dir (it asserts the index is
cached).  Every sentence of every chunk (split by the product's `split_sentences`, each sentence of a document
once) is embedded as a passage; then, per question, dense-only document-level nDCG@10 with
A: the stored chunk vectors (Chroma), B: a chunk's vector = token-weighted mean of its sentences' vectors,
C: a document's score = its best sentence, D: a chunk's score = 0.5 chunk cosine + 0.5 its best sentence's.
Prints one JSON line per set (with the seconds spent embedding the sentences).
"""
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from eval.run import index_contexts
from eval.data import resolve_set
from eval.sets import load_set
from ingest.chunk import split_sentences
from rag.components import Components
from rag.settings import load_settings


def sentences_of(rows: dict, ids: list[str]) -> tuple[list[str], list[list[int]]]:
    """Each document's sentences once, and the indexes of each chunk's sentences."""
    sents, index, of_chunk = [], {}, []
    for cid in ids:
        r = rows[cid]
        mine = []
        for a, b in split_sentences(r.text):
            key = (r.doc_id, r.text[a:b])
            if key not in index:
                index[key] = len(sents)
                sents.append(r.text[a:b])
            mine.append(index[key])
        of_chunk.append(mine)
    return sents, of_chunk


def ndcg10(scores: np.ndarray, chunk_doc: list[str], gold: str) -> float:
    docs: list[str] = []
    for c in np.argsort(-scores):
        if chunk_doc[c] not in docs:
            docs.append(chunk_doc[c])
        if len(docs) == 10:
            break
    return 1 / math.log2(docs.index(gold) + 2) if gold in docs else 0.0


def cached_index(comp, path: Path):
    """A set's cached eval index: (set, context key -> doc id, chunk rows, chunk ids, their stored vectors,
    their documents)."""
    es = load_set(resolve_set(str(path)))
    name, key2doc, info = index_contexts(es, comp)
    assert info["cached"], "build the index first with `hoidap eval SET` under the same data dir"
    coll = comp.collection(name, create=False)
    got = coll.chroma.get(include=["embeddings"])
    rows = coll.chunks(got["ids"])
    keep = [k for k, cid in enumerate(got["ids"]) if cid in rows]
    ids = [got["ids"][k] for k in keep]
    return es, key2doc, rows, ids, np.asarray(got["embeddings"], np.float32)[keep], [rows[c].doc_id for c in ids]


def measure(comp, path: Path) -> dict:
    emb = comp.embedder
    es, key2doc, rows, ids, chunk_vecs, chunk_doc = cached_index(comp, path)
    sents, of_chunk = sentences_of(rows, ids)
    t = time.perf_counter()
    sent_vecs = np.concatenate([emb.embed_passages(sents[k:k + 64]) for k in range(0, len(sents), 64)])
    embed_s = time.perf_counter() - t
    ntok = np.array([emb.count_tokens(x) for x in sents], np.float32)
    mean_vecs = np.stack([(sent_vecs[m] * ntok[m, None]).sum(0) for m in of_chunk])
    mean_vecs /= np.linalg.norm(mean_vecs, axis=1, keepdims=True)
    owner = np.concatenate([[c] * len(m) for c, m in enumerate(of_chunk)]).astype(int)
    flat = np.concatenate(of_chunk).astype(int)
    res: dict[str, list[float]] = {k: [] for k in "ABCD"}
    for it in es.items:
        if not (it.answerable and it.context_key in key2doc):
            continue
        q = emb.embed_query(it.question)
        a = chunk_vecs @ q
        best = np.full(len(ids), -1.0, np.float32)
        np.maximum.at(best, owner, (sent_vecs @ q)[flat])
        for k, sc in (("A", a), ("B", mean_vecs @ q), ("C", best), ("D", 0.5 * a + 0.5 * best)):
            res[k].append(ndcg10(sc, chunk_doc, key2doc[it.context_key]))
    return {"set": es.name, "chunks": len(ids), "sentences": len(sents), "sentence_embed_s": round(embed_s, 1),
            **{k: round(100 * float(np.mean(v)), 2) for k, v in res.items()}}


def cost(comp, path: Path, n_docs: int = 120) -> dict:
    """Embedder time for the chunks of the set's first contexts against their sentences embedded one by one
    (each document's sentences once), best of two passes each, batches as in ingest."""
    from ingest.normalize import normalize
    from ingest.chunk import chunk_document
    from ingest.pipeline import EMBED_BATCH, embed_text

    emb = comp.embedder
    es = load_set(resolve_set(str(path)))
    chunks, sents = [], []
    for k in sorted(es.contexts)[:n_docs]:
        norm = normalize(es.contexts[k])
        chunks += [embed_text(c) for c in chunk_document(norm, emb.count_tokens, 160, 1)]
        sents += list(dict.fromkeys(norm.text[a:b] for a, b in split_sentences(norm.text)))

    def timed(texts: list[str]) -> float:
        t = time.perf_counter()
        for i in range(0, len(texts), EMBED_BATCH):
            emb.embed_passages(texts[i:i + EMBED_BATCH])
        return time.perf_counter() - t

    emb.embed_passages(["khởi động"])
    runs = [(timed(chunks), timed(sents)) for _ in range(2)]
    tc, ts = min(r[0] for r in runs), min(r[1] for r in runs)
    tokens = lambda ts_: sum(emb.count_tokens(t) for t in ts_)  # noqa: E731
    return {"set": es.name, "documents": n_docs, "chunks": len(chunks), "sentences": len(sents),
            "chunk_tokens": tokens(chunks), "sentence_tokens": tokens(sents), "chunks_s": round(tc, 2),
            "sentences_s": round(ts, 2), "ratio": round(ts / tc, 3)}


def main() -> None:
    comp = Components(load_settings())
    if sys.argv[1] == "--cost":
        print(json.dumps(cost(comp, Path(sys.argv[2]))))
        return
    for path in sys.argv[1:]:
        print(json.dumps(measure(comp, Path(path))), flush=True)


if __name__ == "__main__":
    main()
