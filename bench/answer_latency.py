"""Answer latency on a collection of documents read in place: every question of a JSONL set asked once through
the product's answerer (bundled model unless --llm says otherwise), p50/p95 overall and per question type and
document format.  The collection is the one `hoidap eval SET --corpus DIR` builds (same name, so an evaluated
corpus is not ingested again).

    OMP_WAIT_POLICY=PASSIVE HOIDAP_HOME=/tmp/h .venv/bin/python bench/answer_latency.py \
        examples/datasets/dev-genuine.jsonl --corpus genuine [--llm local] [--limit N]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.offline import go_offline  # noqa: E402

go_offline()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set", type=Path)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--llm", default="local", choices=["local", "none", "openai"])
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()

    from eval.metrics import percentile
    from eval.run import index_corpus
    from eval.sets import load_set
    from rag.components import Components
    from rag.settings import load_settings

    comp = Components(load_settings())
    name, info = index_corpus(args.corpus, comp)
    answerer = comp.answerer(collection=name, llm=args.llm)
    items = load_set(args.set).items[: args.limit]
    groups: dict[str, list[float]] = defaultdict(list)
    for it in items:
        t0 = time.perf_counter()
        answerer.ask(it.question)
        took = time.perf_counter() - t0
        for g in ("all", f"type:{it.qtype}", f"format:{it.doc_format}"):
            groups[g].append(took)
    out = {g: {"n": len(v), "p50_s": round(percentile(v, 50), 3), "p95_s": round(percentile(v, 95), 3)}
           for g, v in sorted(groups.items())}
    print(json.dumps({"set": str(args.set), "collection": name, "llm": args.llm, "ingest": info,
                      "latency": out}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
