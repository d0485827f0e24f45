"""The refusal decision alone on eval samples: retrieval + `Answerer.decide`, no answer (issue #18).

Share of answerable questions the decision lets through, and of held-out questions it refuses, with the
questions as typed, without diacritics and half-typed.  Seconds per sample where a `--llm none` eval run takes
minutes (it also ranks sentences); the eval run remains the measure (docs/evaluation.md).

    HOIDAP_HOME=<eval data dir> .venv/bin/python bench/refusal_decision.py [--out FILE.json]
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from eval.data import public_path  # noqa: E402

from eval.run import index_contexts, retype_questions, select_items  # noqa: E402
from eval.sets import load_set  # noqa: E402
from rag.components import Components  # noqa: E402
from rag.question import understand  # noqa: E402
from rag.settings import load_settings  # noqa: E402

SAMPLES = (("alqac", 100, 0), ("vimedaqa", 100, 0), ("xquad-vi", 260, 10))  # (set, --limit, --holdout-articles), seed 0


def decisions(comp, path: str, strip: str | None, limit: int, holdout: int) -> list[dict]:
    es = load_set(public_path(path))
    items, held = select_items(es, limit, 0, holdout)
    items = retype_questions(items, strip, 0)
    name, _, _ = index_contexts(es, comp, exclude=held)
    ans = comp.answerer(collection=name, llm="none", mode="hybrid")
    rows = []
    for it in items:
        q = understand(it.question)
        hits, raw = ans.retriever.search(q.focus)
        ok, sig = ans.decide(q.focus, hits, raw)
        rows.append({"answerable": it.answerable, "let_through": ok, "signals": sig, "question": it.question})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    a = ap.parse_args()
    comp = Components(load_settings(llm="none"))
    out = {}
    for path, limit, holdout in SAMPLES:
        for strip in (None, "all", "half"):
            rows = out[f"{Path(path).stem}:{strip or 'accented'}"] = decisions(comp, path, strip, limit, holdout)
            ok = [r["let_through"] for r in rows if r["answerable"]]
            ref = [not r["let_through"] for r in rows if not r["answerable"]]
            print(json.dumps({"set": Path(path).stem, "questions": strip or "accented",
                              "let_through": round(sum(ok) / len(ok), 3),
                              "held_out_refused": round(sum(ref) / len(ref), 3) if ref else None}), flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps(out, ensure_ascii=False, default=float), encoding="utf-8")


if __name__ == "__main__":
    main()
