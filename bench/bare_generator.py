"""The bare generator: what the answering pipeline is measured against (docs/evaluation.md, "Answers: bare
generator, extractive, full pipeline").

The generator alone reads the top chunks whole and answers: no refusal decision, no composition by type, no
verification of what it cites.  It runs as `hoidap eval` with every option that command takes, only the answerer
replaced:

    .venv/bin/python bench/bare_generator.py xquad-vi --llm local --limit 100 --seed 0 --holdout-articles 10 \
        --retriever hybrid --out runs/ans-bare --json
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.answer import Answer, Answerer  # noqa: E402
from rag.generate import GeneratorError  # noqa: E402
from rag.question import understand  # noqa: E402
from rag.verify import parse_markers  # noqa: E402

BARE_REFUSAL = "không tìm thấy thông tin"


class BareAnswerer(Answerer):
    """The top chunks to the generator, its words as the answer, its [n] markers as the citations."""

    def ask(self, question: str, history=None, llm=..., on_token=None, state=None) -> Answer:
        llm = self.llm if llm is ... else llm
        if llm is None:
            raise SystemExit("the bare generator needs a generator: --llm local|openai")
        t0 = time.perf_counter()
        q = understand(question)
        hits, raw_signals = self.retriever.search(q.focus)
        related = [h.citation(i + 1) for i, h in enumerate(hits)]
        _, sig = self.decide(q.focus, hits, raw_signals)
        timings = {"retrieve_s": round(time.perf_counter() - t0, 3)}
        top = hits[: self.context_passages]
        try:
            raw = self._generate(llm, [h.text for h in top], question, on_token, t0, timings)
        except GeneratorError as e:
            return Answer(question, "", True, [], related, "refused", str(e), question, sig, timings)
        timings["total_s"] = round(time.perf_counter() - t0, 3)
        refused = BARE_REFUSAL in raw.lower()
        marks = sorted({n for n in parse_markers(raw) if 1 <= n <= len(top)})
        cites = [] if refused else [top[n - 1].citation(n) for n in marks]
        return Answer(question, raw.strip(), refused, cites, related, "bare", "", question, sig, timings,
                      q.type, understood=q.as_dict())


def main(argv: list[str] | None = None) -> int:
    from rag.doors import cli
    from rag.components import Components

    answerer = Components.answerer

    def bare(self, *args, **kw):
        a = answerer(self, *args, **kw)
        return BareAnswerer(a.retriever, a.llm, context_passages=a.context_passages, max_tokens=a.max_tokens,
                            answerable_threshold=a.answerable_threshold)

    Components.answerer = bare
    return cli.main(["eval", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
