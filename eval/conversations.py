"""Conversations as an evaluation set: JSONL rows with `turns`, each turn asked after the ones before it, the way
`hoidap chat` asks them (one conversation state, follow-ups resolved against it).

    {"id": "c01", "turns": [
        {"question": "Điều 14 quy định gì?", "answers": ["…"], "kind": "first"},
        {"question": "còn khoản 3 thì sao?", "resolves_to": ["khoản 3", "Điều 14"], "answers": ["…"],
         "kind": "clause"},
        {"question": "…", "answerable": false}]}

A turn passes when its standalone question holds every fragment of `resolves_to` (accents and case aside) and its
answer does: it contains one of `answers` (or, with `"type"` other than factoid, at least 80% of them), or, for
an unanswerable turn, it is refused.  Turn accuracy is the share of turns that pass; a conversation passes when
all its turns do.
"""
from __future__ import annotations

import time

from eval import metrics as M
from ingest.normalize import fold

KINDS = ("first", "switch", "clause", "pronoun", "subject", "more", "compare", "standalone")


def _folded(text: str) -> str:
    return fold(M.normalize_answer(text))


def resolved_ok(standalone: str, fragments: list[str]) -> bool:
    s = _folded(standalone)
    return all(_folded(f) in s for f in fragments)


def answer_ok(turn: dict, a) -> bool:
    if turn.get("answerable", True) is False:
        return bool(a.refused)
    golds = turn.get("answers") or []
    if not golds:
        return not a.refused
    text = "" if a.refused else a.answer
    if turn.get("type") not in (None, "factoid"):
        return (M.answer_recall(text, golds) or 0) >= 0.8
    return bool(M.has_answer(text, golds))


def run_conversations(comp, collection: str, llm: str | None, conversations: list[dict], progress=None) -> dict:
    """Ask every conversation turn by turn; returns {"metrics": …, "rows": one row per turn}."""
    from llama_index.core.base.llms.types import ChatMessage

    from rag.conversation_state import ConversationState
    from rag.service import answer_payload

    ans = comp.answerer(collection=collection, llm=llm)
    rows, total, done = [], sum(len(c["turns"]) for c in conversations), 0
    for conv in conversations:
        state, history = ConversationState(), []
        for i, turn in enumerate(conv["turns"]):
            t0 = time.perf_counter()
            a = ans.ask(turn["question"], history=history or None, state=state)
            history += [ChatMessage(role="user", content=a.standalone_question or turn["question"]),
                        ChatMessage(role="assistant", content=a.answer)]
            res = resolved_ok(a.standalone_question or turn["question"], turn.get("resolves_to") or [])
            ok = answer_ok(turn, a)
            p = answer_payload(a)
            rows.append({"id": f"{conv['id']}#{i + 1}", "conversation": conv["id"], "turn": i + 1,
                         "kind": turn.get("kind") or ("first" if i == 0 else "standalone"),
                         "question": turn["question"], "standalone_question": p["standalone_question"],
                         "resolved_by": p["understood"].get("resolved", ""), "resolves_to": turn.get("resolves_to"),
                         "resolution_pass": res, "answer_pass": ok, "pass": res and ok, "answer": p["answer"],
                         "refused": p["refused"], "citations": p["citations"],
                         "latency_s": round(time.perf_counter() - t0, 3)})
            done += 1
            if progress:
                progress(done, total, conv["id"])
    return {"metrics": conversation_metrics(rows, llm or comp.settings.llm), "rows": rows}


def conversation_metrics(rows: list[dict], llm: str) -> dict:
    convs = {}
    for r in rows:
        convs.setdefault(r["conversation"], []).append(r["pass"])
    with_gold = [r for r in rows if r["resolves_to"]]
    follow = [r for r in rows if r["turn"] > 1]
    by_kind = {}
    for k in sorted({r["kind"] for r in rows}):
        xs = [r for r in rows if r["kind"] == k]
        by_kind[k] = {"n": len(xs), "turn_accuracy": M.mean(float(r["pass"]) for r in xs)}
    return {"llm": llm, "n_conversations": len(convs), "n_turns": len(rows),
            "turn_accuracy": M.mean(float(r["pass"]) for r in rows),
            "follow_up_accuracy": M.mean(float(r["pass"]) for r in follow),
            "resolution_accuracy": M.mean(float(r["resolution_pass"]) for r in with_gold),
            "answer_accuracy": M.mean(float(r["answer_pass"]) for r in rows),
            "conversation_accuracy": M.mean(float(all(v)) for v in convs.values()),
            "latency_p50": M.percentile([r["latency_s"] for r in rows], 50), "by_kind": by_kind}


def conversation_summary(m: dict) -> str:
    pct = lambda v: "–" if v is None else f"{100 * v:.1f}"  # noqa: E731
    out = [f"{m.get('set', '')}: {m['n_conversations']} conversations, {m['n_turns']} turns, collection "
           f"'{m.get('collection', '')}', llm {m['llm']} (%)",
           f"turn accuracy {pct(m['turn_accuracy'])}, follow-ups {pct(m['follow_up_accuracy'])}, resolution "
           f"{pct(m['resolution_accuracy'])}, answers {pct(m['answer_accuracy'])}, whole conversations "
           f"{pct(m['conversation_accuracy'])}, latency p50 {m['latency_p50']:.2f} s",
           "| turn kind | n | turn accuracy |", "|---|---|---|"]
    out += [f"| {k} | {v['n']} | {pct(v['turn_accuracy'])} |" for k, v in m["by_kind"].items()]
    return "\n".join(out)


def write_conversation_run(out, m: dict, rows: list[dict]) -> None:
    """metrics.json, results.jsonl (one row per turn) and report.md with the failed turns."""
    import json
    from pathlib import Path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(m, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "results.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    fails = [r for r in rows if not r["pass"]]
    md = [f"# hoidap eval: {m.get('set', '')}", "", f"- command: `{m.get('command', '')}`", "",
          conversation_summary(m), "", "## Failed turns", "", "| turn | question | read as | answer |", "|---|---|---|---|"]
    md += [f"| {r['id']} | {r['question']} | {r['standalone_question']} | {r['answer'][:90].replace('|', '/')} |"
           for r in fails]
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
