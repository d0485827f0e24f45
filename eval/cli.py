"""`hoidap eval SET …` and `hoidap eval compare RUN_A RUN_B` (compare is the first positional value)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eval.data import resolve_set, squad_articles


def _ks(s: str) -> list[int]:
    try:
        ks = [int(x) for x in s.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k takes numbers separated by commas, not '{s}'") from None
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError("--k values must be >= 1")
    return ks


def _retrievers(s: str) -> list[str]:
    rs = [x.strip() for x in s.split(",") if x.strip()]
    bad = [r for r in rs if r not in ("hybrid", "dense", "bm25")]
    if bad or not rs:
        raise argparse.ArgumentTypeError(f"--retriever takes hybrid, dense, bm25 (comma-separated), not '{s}'")
    return list(dict.fromkeys(rs))


def add_eval_parser(sub, common) -> None:
    p = sub.add_parser(
        "eval", help="evaluate retrieval and answers on a question set; `eval compare RUN_A RUN_B` compares runs",
        description="hoidap eval SET [options]  |  hoidap eval compare RUN_A RUN_B  (see docs/evaluation.md)")
    p.add_argument("target", nargs="+", metavar="SET",
                   help="the set file (SQuAD JSON, ViRE CSV, JSONL), a public set by name (xquad-vi, alqac, vimedaqa: "
                        "read from the public_data folder), or: compare RUN_A RUN_B")
    p.add_argument("--format", choices=["squad", "vire", "jsonl"], default=None, help="default: from the file suffix")
    p.add_argument("--index-contexts", nargs="?", const="", default=None, metavar="NAME", dest="index_contexts",
                   help="index the set's unique contexts as documents (cached; NAME picks the collection). "
                        "Default when the set has contexts and no --collection is given")
    p.add_argument("--corpus", action="append", default=None, metavar="PATH",
                   help="ingest this folder into a collection of its own and evaluate against it (sets written over "
                        "documents, naming gold documents by file name, e.g. examples/corpus); repeatable; a SQuAD "
                        "JSON file or a public set's name (xquad-vi, genuine) adds its articles/documents")
    p.add_argument("--retrieval-only", action="store_true", dest="retrieval_only")
    p.add_argument("--k", type=_ks, default=[1, 3, 5, 10, 20], help="cut-offs for Recall@k/Hit@k (default 1,3,5,10,20)")
    p.add_argument("--retriever", type=_retrievers, default=None, dest="retrievers",
                   help="hybrid|dense|bm25, comma-separated; the first is the primary (it answers), the others are "
                        "reported beside it (default: hybrid,dense,bm25)")
    p.add_argument("--llm", choices=["local", "none", "openai"], default=None, help="generator (none = extractive)")
    p.add_argument("--answer-style", choices=["quote", "generated"], default=None, dest="answer_style",
                   help="quote (default): cited source sentences verbatim; generated: the model's wording")
    p.add_argument("--limit", type=int, default=None, help="a random sample of N questions")
    p.add_argument("--seed", type=int, default=0, help="seed of --limit and --holdout-articles (default 0)")
    p.add_argument("--holdout-articles", type=int, default=0, dest="holdout_articles", metavar="K",
                   help="SQuAD sets: leave K articles out of the index and ask their questions as unanswerable")
    p.add_argument("--strip-diacritics", choices=["all", "half"], default=None, dest="strip_diacritics",
                   help="ask every question without diacritics (all) or with diacritics on about half of its "
                        "words only (half, chosen with --seed): the accent-free comparison")
    p.add_argument("--chunk-tokens", type=int, default=None, dest="chunk_tokens")
    p.add_argument("--public-data", type=Path, default=None, dest="public_data", metavar="DIR",
                   help="folder of the public sets (default ../shared/data; setting public_data)")
    p.add_argument("--out", type=Path, default=None, help="write metrics.json, results.jsonl, report.md and plots here")
    common(p)


def run_eval_command(args, comp) -> int:
    t = args.target
    if t[0] == "compare" and not (len(t) == 1 and Path("compare").is_file()):
        if len(t) != 3:
            raise ValueError("usage: hoidap eval compare RUN_A RUN_B")
        return _compare(args, Path(t[1]), Path(t[2]))
    if len(t) != 1:
        raise ValueError("give one set file (or: hoidap eval compare RUN_A RUN_B)")
    return _run(args, comp, resolve_set(t[0], comp.settings))


def _corpus_paths(args, comp) -> list[Path]:
    """--corpus values as folders: a public set's name is looked up, a SQuAD file becomes its articles."""
    out = []
    for given in args.corpus:
        p = resolve_set(given, comp.settings)
        if p.is_file() and p.suffix == ".json":
            p = squad_articles(p, comp.settings.home / "eval")
        out.append(p)
    return out


def _compare(args, a: Path, b: Path) -> int:
    from eval.report import compare, compare_text

    c = compare(a, b)
    if getattr(args, "json", False):
        print(json.dumps(c, ensure_ascii=False))
    else:
        print(compare_text(c))
    return 0


def _bar(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=0, desc=desc, file=sys.stderr, disable=None, unit="q")

    def update(i, n, what=""):
        bar.total = n
        bar.n = i
        if what:
            bar.set_postfix_str(str(what)[:24])
        bar.refresh()

    return bar, update


def _run(args, comp, path: Path) -> int:
    from eval.report import human_summary, write_run
    from eval.run import RunConfig, index_contexts, index_corpus, retype_questions, run_eval, select_items
    from eval.sets import load_set

    s = comp.settings
    es = load_set(path, args.format)
    for e in es.errors[:20]:
        print(f"hoidap eval: {path.name}: skipped {e}", file=sys.stderr)
    if len(es.errors) > 20:
        print(f"hoidap eval: … {len(es.errors) - 20} more bad rows", file=sys.stderr)
    if es.conversations and not es.items:
        return _run_conversations(args, comp, path, es)
    if not es.items:
        raise ValueError(f"{path.name}: no usable questions")
    cfg = RunConfig(retrievers=args.retrievers or ["hybrid", "dense", "bm25"], ks=args.k,
                    retrieval_only=args.retrieval_only, llm=args.llm, limit=args.limit, seed=args.seed,
                    holdout_articles=args.holdout_articles, strip_diacritics=args.strip_diacritics)
    items, held = select_items(es, cfg.limit, cfg.seed, cfg.holdout_articles)
    items = retype_questions(items, cfg.strip_diacritics, cfg.seed)
    named_coll = hasattr(args, "collection")
    key2doc, info = None, {}
    if args.corpus:
        bar, up = _bar("index")
        coll, info = index_corpus(_corpus_paths(args, comp), comp, progress=up)
        bar.close()
    elif args.index_contexts is not None or (not named_coll and es.contexts):
        bar, up = _bar("index")
        name = args.index_contexts or (s.collection if named_coll else None)
        coll, key2doc, info = index_contexts(es, comp, name, exclude=held, progress=up)
        bar.close()
    else:
        if held:
            raise ValueError("--holdout-articles needs --index-contexts")
        coll = s.collection
    bar, up = _bar("eval")
    res = run_eval(es, comp, cfg, coll, key2doc, items, progress=up)
    bar.close()
    m = res["metrics"]
    m.update({"set": es.name, "set_path": str(path), "format": es.format, "collection": coll,
              "n_items": len(items), "bad_rows": len(es.errors), "embedder": comp.embedder.model_id,
              "chunk_tokens": s.chunk_tokens, "index": info,
              "config": {"retrievers": cfg.retrievers, "ks": cfg.ks, "limit": cfg.limit, "seed": cfg.seed,
                         "holdout_articles": cfg.holdout_articles,
                         "strip_diacritics": cfg.strip_diacritics, "retrieval_only": cfg.retrieval_only,
                         "dense_weight": s.dense_weight, "fusion": s.fusion, "candidates": s.candidates},
              "command": "hoidap " + " ".join(sys.argv[1:])})
    return _emit(args, m, res["rows"], write_run, human_summary)


def _emit(args, m: dict, rows: list[dict], write, summary) -> int:
    """Write the run (--out) and print its metrics: JSON with --json, else the summary."""
    if args.out:
        write(args.out, m, rows)
    if getattr(args, "json", False):
        print(json.dumps(m, ensure_ascii=False))
    else:
        print(summary(m) + (f"\nrun written to {args.out}" if args.out else ""))
    return 0


def _run_conversations(args, comp, path: Path, es) -> int:
    """A set of conversations (JSONL rows with `turns`): turn-level accuracy (eval/conversations.py)."""
    from eval.conversations import conversation_summary, run_conversations, write_conversation_run
    from eval.run import index_corpus

    coll = comp.settings.collection
    if args.corpus:
        bar, up = _bar("index")
        coll, _ = index_corpus(args.corpus, comp, progress=up)
        bar.close()
    bar, up = _bar("turns")
    res = run_conversations(comp, coll, args.llm, es.conversations, progress=up)
    bar.close()
    m = res["metrics"]
    m.update({"set": es.name, "set_path": str(path), "format": "conversations", "collection": coll,
              "bad_rows": len(es.errors), "command": "hoidap " + " ".join(sys.argv[1:])})
    return _emit(args, m, res["rows"], write_conversation_run, conversation_summary)
