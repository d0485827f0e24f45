"""eval.metrics on hand-checked tiny cases."""
from __future__ import annotations

import math

import pytest

from eval import metrics as M


def test_doc_ranking_keeps_first_rank():
    assert M.doc_ranking(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_ndcg_of_known_rankings():
    assert M.ndcg_at_k(["g", "x", "y"], {"g"}) == 1.0
    assert M.ndcg_at_k(["x", "y", "g"], {"g"}) == pytest.approx(0.5)  # 1/log2(4)
    assert M.ndcg_at_k(["x", "g"], {"g"}) == pytest.approx(1 / math.log2(3))
    # two relevant at ranks 1 and 3: (1 + 0.5) / (1 + 1/log2(3))
    assert M.ndcg_at_k(["a", "x", "b"], {"a", "b"}) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert M.ndcg_at_k([f"x{i}" for i in range(10)] + ["g"], {"g"}) == 0.0  # rank 11 is outside @10


def test_mrr_p1_recall_hit():
    r = ["x", "g", "y", "h"]
    assert M.mrr_at_k(r, {"g"}) == 0.5
    assert M.mrr_at_k([f"x{i}" for i in range(10)] + ["g"], {"g"}) == 0.0
    assert M.precision_at_1(r, {"g"}) == 0.0 and M.precision_at_1(r, {"x"}) == 1.0
    assert M.recall_at_k(r, {"g", "h"}, 2) == 0.5 and M.recall_at_k(r, {"g", "h"}, 4) == 1.0
    assert M.hit_at_k(r, {"h"}, 3) == 0.0 and M.hit_at_k(r, {"h"}, 4) == 1.0
    assert M.first_rank(r, {"y"}) == 3 and M.first_rank(r, {"z"}) is None
    s = M.retrieval_scores(r, {"g"}, [1, 5])
    assert s == {"p@1": 0.0, "mrr@10": 0.5, "ndcg@10": pytest.approx(1 / math.log2(3)),
                 "recall@1": 0.0, "hit@1": 0.0, "recall@5": 1.0, "hit@5": 1.0}


def test_has_answer_normalizes_vietnamese():
    # old-style tone placement, NFD, case and spacing do not matter
    assert M.has_answer("Ông sinh ở  THANH HOÁ năm 1890.", ["Thanh Hóa"]) == 1.0
    import unicodedata

    assert M.has_answer(unicodedata.normalize("NFD", "ở Thanh Hóa"), ["thanh hóa"]) == 1.0
    assert M.has_answer("Hà Nội", ["Huế"]) == 0.0
    assert M.has_answer("308 điểm", ["308."]) == 1.0  # trailing punctuation of the gold is trimmed
    assert M.has_answer("anything", []) == 0.0


def test_token_f1_on_syllables():
    # pred 4 syllables, gold 2, 2 common: P=0.5 R=1 F1=2/3
    assert M.token_f1("năm 1890 tại Huế", ["tại Huế"]) == pytest.approx(2 / 3)
    assert M.token_f1("Huế", ["Hà Nội", "Huế"]) == 1.0
    assert M.token_f1("", ["Huế"]) == 0.0


def test_citation_precision_and_recall():
    cited = ["Huế là cố đô của Việt Nam.", "Sông Hương chảy qua.", "Hà Nội là thủ đô."]
    assert M.citation_precision(cited, ["cố đô"]) == pytest.approx(1 / 3)
    assert M.citation_precision([], ["x"]) is None
    assert M.citation_recall(cited, ["sông hương"]) == 1.0
    assert M.citation_recall(cited, ["Đà Nẵng"]) == 0.0


def test_source_precision_counts_citations_from_the_gold_document():
    assert M.source_precision(["hue", "hue", "hanoi"], ["hue"]) == pytest.approx(2 / 3)
    assert M.source_precision([], ["hue"]) is None


def test_mean_and_percentile():
    assert M.mean([1, None, 3]) == 2 and M.mean([None]) is None
    assert M.percentile([1, 2, 3, 4], 50) == 2.5
    assert M.percentile([5], 95) == 5 and M.percentile([], 50) is None
