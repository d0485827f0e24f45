"""Late-chunked sentence vectors against sentences embedded one by one (issue #18).

    HOIDAP_HOME=DIR .venv/bin/python -m bench.late_chunking SET [SET ...]
    .venv/bin/python -m bench.late_chunking --cost SET   # ingest's embedding CPU time with and without

On an eval index already built by `hoidap eval SET` under DIR.  Every chunk is run once through
`ingest.late_chunking.SpanModel` (chunk vector + one vector per sentence); every sentence is also embedded
alone (`E5.passage`).  Per set: seconds of each; dense-only document nDCG@10 with the chunk vectors, with
0.5 chunk + 0.5 best sentence (separate / late); and sentence choice: over the sentences of the question's
own context, how often the best-scoring sentence holds the gold answer (questions whose answer is found
verbatim in one sentence only).  One JSON line per set.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

from bench.sentence_vectors import cached_index, ndcg10
from eval.data import resolve_set
from eval.sets import load_set
from ingest.chunk import split_sentences
from ingest.late_chunking import SpanModel
from ingest.pipeline import embed_text
from rag.components import Components
from rag.settings import load_settings


LAMBDA = float(__import__("os").environ.get("LATE_LAMBDA", "0"))


def measure(comp, model: SpanModel, path: Path) -> dict:
    emb = comp.embedder
    es, key2doc, rows, ids, chunk_vecs, chunk_doc = cached_index(comp, path)
    texts, spans, sents = [], [], []
    for c in ids:
        r = rows[c]
        et = embed_text(r)
        off = len(et) - len(r.text)
        ss = [(off + a, off + b) for a, b in split_sentences(r.text)]
        texts.append(et), spans.append(ss), sents.append([r.text[a - off:b - off] for a, b in ss])
    flat = [s for ss in sents for s in ss]
    cache = Path(f"/tmp/late_chunking-{es.name}-{len(ids)}.npz")
    if cache.exists():
        z = np.load(cache)
        late_chunk, late_flat, sep_flat = [z["late_chunk"]], z["late"], z["sep"]
        late_s, chunks_s, sep_s = (float(x) for x in z["seconds"])
    else:
        t = time.perf_counter()
        late_chunk, late = [], []
        for k in range(0, len(texts), 64):
            tv, sv = model.embed(texts[k:k + 64], spans[k:k + 64])
            late_chunk.append(tv), late.extend(sv)
        late_s = time.perf_counter() - t
        t = time.perf_counter()
        for k in range(0, len(texts), 64):
            emb.embed_passages(texts[k:k + 64])
        chunks_s = time.perf_counter() - t
        t = time.perf_counter()
        sep_flat = np.concatenate([emb.embed_passages(flat[k:k + 64]) for k in range(0, len(flat), 64)])
        sep_s = time.perf_counter() - t
        late_flat = np.concatenate(late)
        np.savez(cache, late_chunk=np.concatenate(late_chunk), late=late_flat, sep=sep_flat,
                 seconds=np.array([late_s, chunks_s, sep_s]))
    bounds = np.cumsum([0] + [len(s) for s in sents])
    sep = [sep_flat[bounds[i]:bounds[i + 1]] for i in range(len(ids))]
    late_chunk = np.concatenate(late_chunk)
    # a sentence's own part: its late vector less a share of its chunk's
    late = [late_flat[bounds[i]:bounds[i + 1]] - LAMBDA * late_chunk[i] for i in range(len(ids))]
    by_doc: dict[str, list[int]] = {}
    for i, d in enumerate(chunk_doc):
        by_doc.setdefault(d, []).append(i)
    res = {k: [] for k in ("chunk", "sep", "late", "late_chunk")}
    pick = {k: [] for k in ("sep", "late", "mix")}
    for it in es.items:
        if not (it.answerable and it.context_key in key2doc):
            continue
        q = emb.embed_query(it.question)
        a = chunk_vecs @ q
        best_sep = np.array([(v @ q).max() if len(v) else -1 for v in sep])
        best_late = np.array([(v @ q).max() if len(v) else -1 for v in late])
        gold = key2doc[it.context_key]
        for k, sc in (("chunk", a), ("sep", 0.5 * a + 0.5 * best_sep), ("late", 0.5 * a + 0.5 * best_late),
                      ("late_chunk", late_chunk @ q)):
            res[k].append(ndcg10(sc, chunk_doc, gold))
        ans = [x for x in it.answers if x]
        if not ans:
            continue
        cand = [(s, sv, lv) for i in by_doc.get(gold, []) for s, sv, lv in zip(sents[i], sep[i], late[i])]
        holds = [any(x in s for x in ans) for s, _, _ in cand]
        if sum(holds) == 0 or len({s for (s, _, _), h in zip(cand, holds) if h}) > 1 or len(cand) < 2:
            continue
        s_sep = np.array([sv @ q for _, sv, _ in cand])
        s_late = np.array([lv @ q for _, _, lv in cand])
        for k, sc in (("sep", s_sep), ("late", s_late), ("mix", s_sep + s_late)):
            pick[k].append(holds[int(np.argmax(sc))])
    return {"set": es.name, "chunks": len(ids), "sentences": len(flat), "chunks_s": round(chunks_s, 1),
            "late_s": round(late_s, 1), "separate_sentences_s": round(sep_s, 1),
            **{f"ndcg_{k}": round(100 * float(np.mean(v)), 2) for k, v in res.items()},
            "choice_questions": len(pick["sep"]),
            **{f"choice_{k}": round(float(np.mean(v)), 3) for k, v in pick.items()}}


def cost(comp, model: SpanModel, path: Path, n_docs: int = 120) -> dict:
    """Ingest's embedding step for the set's first contexts, chunk vectors only (`E5.passage`, today's
    ingest before sentence vectors) against chunk + sentence vectors (`embed_with_sentences`, spans
    included), process CPU seconds, interleaved, best of three each."""
    from ingest.chunk import chunk_document
    from ingest.normalize import normalize
    from ingest.pipeline import EMBED_BATCH, sentence_spans

    emb = comp.embedder
    es = load_set(resolve_set(str(path)))
    work = []
    for k in sorted(es.contexts)[:n_docs]:
        text = es.contexts[k]
        work += [(text, c) for c in chunk_document(normalize(text), emb.count_tokens, 160, 1)]

    def plain():
        for i in range(0, len(work), EMBED_BATCH):
            emb.embed_passages([embed_text(c) for _, c in work[i:i + EMBED_BATCH]])

    def late():
        for i in range(0, len(work), EMBED_BATCH):
            part = work[i:i + EMBED_BATCH]
            spans = [[s[1] for s in sentence_spans(t, c)] for t, c in part]
            emb.embed_with_sentences([embed_text(c) for _, c in part], spans)

    def cpu(fn) -> float:
        t = time.process_time()
        fn()
        return time.process_time() - t

    late()  # builds the library, warms both
    runs = [(cpu(plain), cpu(late)) for _ in range(3)]
    tp, tl = min(r[0] for r in runs), min(r[1] for r in runs)
    return {"set": es.name, "documents": n_docs, "chunks": len(work), "chunk_vectors_cpu_s": round(tp, 2),
            "with_sentence_vectors_cpu_s": round(tl, 2), "ratio": round(tl / tp, 3)}


def main() -> None:
    comp = Components(load_settings())
    model = SpanModel()
    if sys.argv[1] == "--cost":
        print(json.dumps(cost(comp, model, Path(sys.argv[2]))))
        return
    for path in sys.argv[1:]:
        print(json.dumps(measure(comp, model, Path(path))), flush=True)


if __name__ == "__main__":
    main()
