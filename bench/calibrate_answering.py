"""Calibration of the answering pipeline's two tuned parts, on questions OUTSIDE the evaluation sample.

1. The refusal decision (`Answerer.decide`): share of answerable questions that pass it and share of
   held-out-article questions it refuses, at several thresholds (the default is chosen here).
2. Sentence ranking (`rag.rank.ranked_sentences`): how often the best sentence, or one of the best three,
   contains the gold answer; and how often the extractive answer does.
3. With `--fit-ranker`: the ranking weights (`rag.rank.WEIGHTS`) fit anew on these questions by a listwise
   softmax (the log-likelihood of the candidates holding the gold answer, L2 0.01), with the top-1 rate of
   the fit and of the current weights in 5-fold cross-validation.

The evaluation sample of docs/evaluation.md (`--limit 260 --seed 0 --holdout-articles 10`) is left out, so
the figures reported there are not tuned on.  Uses the cached evaluation index of `hoidap eval`.

    .venv/bin/python bench/calibrate_answering.py xquad-vi [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from eval.data import resolve_set  # noqa: E402

from rag.offline import go_offline  # noqa: E402

go_offline()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set", type=resolve_set, help="a set file or a public set's name (eval/data.py)")
    ap.add_argument("--exclude-limit", type=int, default=260, help="size of the evaluation sample left out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--holdout-articles", type=int, default=10)
    ap.add_argument("--limit", type=int, default=None, help="calibrate on at most N questions")
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--fit-ranker", action="store_true", help="fit the sentence ranking weights anew")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)

    from tqdm import tqdm

    from eval import metrics as M
    from eval.run import index_contexts, select_items
    from eval.sets import load_set
    from rag.compose import extractive
    from rag.rank import candidate_features, rank
    from rag.components import Components
    from rag.settings import load_settings

    s = load_settings(**({"home": a.data_dir} if a.data_dir else {}), llm="none")
    comp = Components(s)
    es = load_set(a.set, None)
    sample, held = select_items(es, a.exclude_limit, a.seed, a.holdout_articles)
    everything, _ = select_items(es, None, a.seed, a.holdout_articles)
    left_out = {i.qid for i in sample}
    items = [i for i in everything if i.qid not in left_out][: a.limit]
    name, _, _ = index_contexts(es, comp, None, exclude=held)
    ans = comp.answerer(collection=name, llm="none")
    emb = ans.retriever.embedder

    scores = {True: [], False: []}
    top1 = top3 = extr = n = 0
    lists = []  # (features, labels) of every answerable question's candidate sentences, for --fit-ranker
    for it in tqdm(items, desc="calibrating", unit="q"):
        hits, raw = ans.retriever.search(it.question)
        _, sig = ans.decide(it.question, hits, raw)
        scores[it.answerable].append(sig["answerable_score"])
        if not it.answerable:
            continue
        cands, features = candidate_features(it.question, hits, emb)
        ranked = rank(cands, features)
        pos = next((i for i, (_, c) in enumerate(ranked) if M.contains_answer(c[3], it.answers)), None)
        n += 1
        if a.fit_ranker and cands:
            lists.append((features, [M.contains_answer(c[3], it.answers) for c in cands]))
        top1 += pos == 0
        top3 += pos is not None and pos < 3
        extr += M.contains_answer(extractive(it.question, hits, emb, ranked=ranked)[0], it.answers)
    ths = [0.45, 0.5, 0.55, 0.57, 0.6, 0.65, 0.7]
    gate = [{"threshold": t,
             "answered": round(sum(x >= t for x in scores[True]) / max(1, len(scores[True])), 4),
             "refused": round(sum(x < t for x in scores[False]) / max(1, len(scores[False])), 4)} for t in ths]
    out = {"questions": len(items), "answerable": len(scores[True]), "unanswerable": len(scores[False]),
           "current_threshold": s.answerable_threshold, "gate": gate,
           "sentence_top1": round(top1 / max(1, n), 4), "sentence_top3": round(top3 / max(1, n), 4),
           "extractive_has_answer": round(extr / max(1, n), 4)}
    if a.fit_ranker:
        out["ranker_fit"] = fit_ranker(lists)
    if a.json:
        print(json.dumps(out))
        return 0
    print(f"{out['answerable']} answerable + {out['unanswerable']} held-out-article questions "
          f"(the evaluation sample left out)")
    print("threshold  answered  refused")
    for g in gate:
        mark = "  <- default" if abs(g["threshold"] - s.answerable_threshold) < 1e-9 else ""
        print(f"{g['threshold']:9.2f}  {g['answered']:8.3f}  {g['refused']:7.3f}{mark}")
    print(f"best sentence holds the answer: {out['sentence_top1']:.3f} (top 3: {out['sentence_top3']:.3f}); "
          f"extractive answer: {out['extractive_has_answer']:.3f}")
    if a.fit_ranker:
        f = out["ranker_fit"]
        print(f"ranker fit: weights {f['weights']}; 5-fold top-1 {f['cv_top1']:.3f} "
              f"(current weights {f['cv_top1_current']:.3f})")
    return 0


def fit_ranker(lists: list, l2: float = 0.01, folds: int = 5) -> dict:
    """Listwise softmax over each question's candidate sentences; folds are contiguous blocks of questions
    (the set is ordered by article, so a fold mostly holds articles the fit did not see)."""
    import numpy as np
    from scipy.optimize import minimize

    from rag.rank import FEATURES, WEIGHTS

    data = [(f, np.array(y, float)) for f, y in lists]
    current = np.array(WEIGHTS)

    def nll(w, part):
        total = 0.0
        for f, y in part:
            if y.max() == 0:
                continue
            s = f @ w
            s = s - s.max()
            lp = s - np.log(np.exp(s).sum())
            total -= np.log(np.exp(lp[y > 0]).sum())
        return total / max(1, len(part)) + l2 * (w ** 2).sum()

    def top1(w, part):
        return float(np.mean([y[np.argmax(f @ w)] for f, y in part]))

    def fit(part):
        return minimize(lambda w: nll(w, part), current, method="L-BFGS-B").x

    blocks = np.array_split(np.arange(len(data)), folds)
    cv, cv_cur = [], []
    for b in blocks:
        held = set(b.tolist())
        test = [data[i] for i in held]
        train = [data[i] for i in range(len(data)) if i not in held]
        cv.append(top1(fit(train), test))
        cv_cur.append(top1(current, test))
    w = fit(data)
    return {"features": list(FEATURES), "weights": [round(float(x), 3) for x in w],
            "cv_top1": float(np.mean(cv)), "cv_top1_current": float(np.mean(cv_cur))}


if __name__ == "__main__":
    raise SystemExit(main())
