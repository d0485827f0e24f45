"""Run outputs: metrics.json, results.jsonl, report.md with plots (matplotlib, Agg); comparing two runs."""
from __future__ import annotations

import json
from pathlib import Path

HEADLINE = ["p@1", "recall@10", "hit@5", "mrr@10", "ndcg@10"]
ANSWER_KEYS = ["has_answer", "token_f1", "citation_precision", "citation_recall", "passage_precision",
               "source_precision", "refusal_rate", "answered_rate", "ttft_p50", "latency_p50"]


def _fmt(v, pct: bool = True) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{100 * v:.2f}" if pct else f"{v:.3f}"
    return str(v)


def _ks(m: dict) -> list[int]:
    return sorted(int(k.split("@")[1]) for k in m if k.startswith("recall@"))


def retrieval_table(m: dict) -> str:
    modes = [m] + list(m.get("baselines", {}).values())
    cols = HEADLINE + [f"recall@{k}" for k in _ks(m) if f"recall@{k}" not in HEADLINE]
    chunk = [k for k in m if k.startswith("chunk_hit@")]
    cols += chunk
    lines = ["| retriever | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for x in modes:
        lines.append(f"| {x['retriever']} | " + " | ".join(_fmt(x.get(c)) for c in cols) + " |")
    return "\n".join(lines)


def type_table(m: dict, key: str = "by_type") -> str:
    """Per question type (or per document format, key "by_format"): the answer metrics of sets that say each
    question's type (format)."""
    from eval.run import TYPED_KEYS

    bt = m.get(key) or {}
    cols = [k for k in TYPED_KEYS if any(v.get(k) is not None for v in bt.values())]
    label = "format" if key == "by_format" else "type"
    lines = [f"| {label} | n | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for t, v in bt.items():
        lines.append(f"| {t} | {v['n']} | " + " | ".join(
            _fmt(v.get(c), False) if c in ("key_sentences", "latency_p50") else _fmt(v.get(c)) for c in cols) + " |")
    return "\n".join(lines)


def human_summary(m: dict) -> str:
    out = [f"{m.get('set', '')}: {m['n_questions']} questions scored for retrieval, collection "
           f"'{m.get('collection', '')}' (metrics in %)", retrieval_table(m)]
    if "has_answer" in m:
        out.append("answers (" + str(m.get("llm")) + "): " + ", ".join(
            f"{k} {_fmt(m.get(k), not k.endswith('_p50'))}" for k in ANSWER_KEYS))
    if m.get("by_type"):
        out += ["answers per question type (%; key_sentences and latency_p50 (s) as numbers):", type_table(m)]
    if m.get("by_format"):
        out += ["answers per document format:", type_table(m, "by_format")]
    return "\n".join(out)


def write_run(out: Path, metrics: dict, rows: list[dict]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    plots = _plots(out, metrics, rows)
    md = [f"# hoidap eval: {metrics.get('set', '')}", "",
          f"- set: `{metrics.get('set_path', '')}` ({metrics.get('format', '')}), {metrics.get('n_items', '')} questions, "
          f"{metrics['n_questions']} with gold documents; {metrics.get('bad_rows', 0)} bad rows skipped",
          f"- collection: `{metrics.get('collection', '')}`; embedder {metrics.get('embedder', '')}; "
          f"chunk_tokens {metrics.get('chunk_tokens', '')}",
          f"- command: `{metrics.get('command', '')}`", "",
          "## Retrieval (document level, ViRE definitions, %)", "", retrieval_table(metrics), ""]
    if "has_answer" in metrics:
        md += ["## Answers", "", "| metric | value |", "|---|---|"]
        md += [f"| {k} | {_fmt(metrics.get(k), not k.endswith('_p50'))}{' s' if k.endswith('_p50') else ''} |"
               for k in ANSWER_KEYS]
        md.append("")
    if metrics.get("by_type"):
        md += ["## Answers per question type", "", type_table(metrics), ""]
    if metrics.get("by_format"):
        md += ["## Answers per document format", "", type_table(metrics, "by_format"), ""]
    md += [f"![{p.stem}]({p.name})" for p in plots]
    fails = [r for r in rows if r.get("pass") is False][:20]
    if fails:
        md += ["", "## First failures", "", "| id | question | gold rank | answer |", "|---|---|---|---|"]
        md += [f"| {r['id']} | {r['question'][:80]} | {r.get('gold_rank') or '–'} | "
               f"{(r.get('answer') or '').replace('|', '/')[:80]} |" for r in fails]
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    return [out / "metrics.json", out / "results.jsonl", out / "report.md", *plots]


def _plots(out: Path, m: dict, rows: list[dict]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(figsize=(6, 4))
    for x in [m] + list(m.get("baselines", {}).values()):
        ks = _ks(x)
        ax.plot(ks, [100 * (x.get(f"recall@{k}") or 0) for k in ks], marker="o", label=x["retriever"])
    ax.set_xlabel("k (documents)")
    ax.set_ylabel("Recall@k (%)")
    ax.set_title(f"Recall@k: {m.get('set', '')}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "recall_at_k.png", dpi=100)
    plt.close(fig)
    paths.append(out / "recall_at_k.png")
    lat = [r["latency_s"] for r in rows if r.get("latency_s") is not None]
    label = "answer latency (s)"
    if not lat:
        lat = [r["retrieval_s"] for r in rows if r.get("retrieval_s") is not None]
        label = "retrieval latency (s)"
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(lat or [0], bins=30)
    ax.set_xlabel(label)
    ax.set_ylabel("questions")
    ax.set_title("Latency per question")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=100)
    plt.close(fig)
    paths.append(out / "latency.png")
    return paths


def load_run(path: Path) -> tuple[dict, list[dict]]:
    path = Path(path)
    if path.is_file():
        path = path.parent
    mf = path / "metrics.json"
    if not mf.exists():
        raise ValueError(f"{path}: not a run directory (no metrics.json)")
    m = json.loads(mf.read_text(encoding="utf-8"))
    rows = []
    rf = path / "results.jsonl"
    if rf.exists():
        rows = [json.loads(x) for x in rf.read_text(encoding="utf-8").splitlines() if x.strip()]
    return m, rows


def compare(a: Path, b: Path) -> dict:
    ma, ra = load_run(a)
    mb, rb = load_run(b)
    keys = [k for k in HEADLINE + [k for k in ma if k.startswith(("recall@", "hit@", "chunk_hit@"))] + ANSWER_KEYS
            + ["n_questions"] if k in ma or k in mb]
    keys = list(dict.fromkeys(keys))
    metrics = {k: {"a": ma.get(k), "b": mb.get(k),
                   "delta": (mb[k] - ma[k]) if isinstance(ma.get(k), (int, float)) and isinstance(mb.get(k), (int, float)) else None}
               for k in keys}
    ib = {r["id"]: r for r in rb}
    changed = []
    for r in ra:
        o = ib.get(r["id"])
        if o is None:
            continue
        if r.get("pass") != o.get("pass") or r.get("gold_rank") != o.get("gold_rank"):
            changed.append({"id": r["id"], "question": r["question"], "pass_a": r.get("pass"), "pass_b": o.get("pass"),
                            "rank_a": r.get("gold_rank"), "rank_b": o.get("gold_rank")})
    return {"a": str(a), "b": str(b), "metrics": metrics, "changed": changed,
            "fixed": sum(1 for c in changed if c["pass_b"] and not c["pass_a"]),
            "broken": sum(1 for c in changed if c["pass_a"] and not c["pass_b"]),
            "common_questions": len(set(ib) & {r["id"] for r in ra})}


def compare_text(c: dict, limit: int = 30) -> str:
    lines = [f"A = {c['a']}", f"B = {c['b']}", "", f"{'metric':<22}{'A':>10}{'B':>10}{'B-A':>10}"]
    for k, v in c["metrics"].items():
        pct = not k.endswith("_p50") and k != "n_questions"
        f = (lambda x: _fmt(x, pct)) if k != "n_questions" else str
        d = "–" if v["delta"] is None else (f"{100 * v['delta']:+.2f}" if pct else
                                            f"{v['delta']:+d}" if isinstance(v["delta"], int) else f"{v['delta']:+.3f}")
        lines.append(f"{k:<22}{f(v['a']):>10}{f(v['b']):>10}{d:>10}")
    lines += ["", f"{c['common_questions']} questions in both; {len(c['changed'])} changed "
                  f"(pass/fail or gold rank): {c['fixed']} fixed by B, {c['broken']} broken by B"]
    for x in c["changed"][:limit]:
        lines.append(f"  {x['id']}: rank {x['rank_a'] or '–'} -> {x['rank_b'] or '–'}, "
                     f"pass {x['pass_a']} -> {x['pass_b']}: {x['question'][:70]}")
    if len(c["changed"]) > limit:
        lines.append(f"  … {len(c['changed']) - limit} more (--json for all)")
    return "\n".join(lines)
