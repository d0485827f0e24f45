"""`hoidap eval` end to end on tiny sets written here: real embedder, real Chroma, --llm none."""
from __future__ import annotations

import json

import pytest

from rag.doors.cli import main
from tests.conftest import run_cli

ARTICLES = {
    "Huế": ["Huế là cố đô của Việt Nam dưới triều Nguyễn. Sông Hương chảy qua giữa thành phố Huế.",
            "Đại Nội Huế được xây dựng từ năm 1805 dưới thời vua Gia Long."],
    "Phở": ["Phở là món ăn truyền thống của Việt Nam, gồm bánh phở và nước dùng nấu từ xương bò.",
            "Phở Nam Định nổi tiếng với nước dùng đậm vị nước mắm."],
    "Vịnh Hạ Long": ["Vịnh Hạ Long thuộc tỉnh Quảng Ninh, được UNESCO công nhận là di sản thiên nhiên thế giới năm 1994."],
}
QUESTIONS = [
    ("Huế", 0, "Sông nào chảy qua giữa thành phố Huế?", "Sông Hương"),
    ("Huế", 1, "Đại Nội Huế được xây dựng từ năm nào?", "1805"),
    ("Phở", 0, "Nước dùng phở được nấu từ gì?", "xương bò"),
    ("Phở", 1, "Phở Nam Định nổi tiếng với nước dùng đậm vị gì?", "nước mắm"),
    ("Vịnh Hạ Long", 0, "Vịnh Hạ Long thuộc tỉnh nào?", "Quảng Ninh"),
]


def squad_file(tmp_path):
    data = []
    for title, ctxs in ARTICLES.items():
        paras = []
        for pi, c in enumerate(ctxs):
            qas = [{"id": f"{title}-{pi}-{n}", "question": q, "answers": [{"answer_start": c.find(a), "text": a}]}
                   for n, (t, i, q, a) in enumerate(QUESTIONS) if t == title and i == pi]
            paras.append({"context": c, "qas": qas})
        data.append({"title": title, "paragraphs": paras})
    p = tmp_path / "tiny.json"
    p.write_text(json.dumps({"version": "1.1", "data": data}, ensure_ascii=False, indent=1), encoding="utf-8")
    return p


def hoidap(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture()
def chdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOIDAP_CONFIG", raising=False)
    return tmp_path


def test_eval_squad_answers_holdout_out_and_cache(chdir, capsys):
    tmp = chdir
    s = squad_file(tmp)
    home = tmp / "home"
    args = [str(s), "--data-dir", str(home), "--llm", "none", "--holdout-articles", "1", "--seed", "1", "--json"]
    rc, out, _ = hoidap(capsys, "eval", *args, "--answer-style", "generated", "--out", str(tmp / "run1"))
    assert rc == 0
    m = json.loads(out)
    assert m["llm"] == "none" and m["answer_style"] == "generated", "the run records how it answered"
    for k in ("ndcg@10", "mrr@10", "recall@10", "p@1", "hit@5", "n_questions", "has_answer", "citation_precision",
              "passage_precision", "source_precision", "refusal_rate", "answered_rate", "ttft_p50", "latency_p50",
              "chunk_hit@1"):
        assert k in m, k
    for k in ("ndcg@10", "mrr@10", "recall@10", "p@1", "hit@5", "has_answer", "source_precision",
              "passage_precision"):
        assert 0.0 <= m[k] <= 1.0
    assert m["passage_precision"] >= m["citation_precision"], "a cited span's passage holds whatever the span holds"
    assert m["n_unanswerable"] >= 1 and m["n_questions"] + m["n_unanswerable"] == 5
    assert m["refusal_rate"] is not None
    assert set(m["baselines"]) == {"dense", "bm25"}
    assert not m["index"]["cached"] and m["index"]["documents"] < 5  # one article is held out
    run = tmp / "run1"
    for f in ("metrics.json", "results.jsonl", "report.md", "recall_at_k.png", "latency.png"):
        assert (run / f).stat().st_size > 0, f
    rows = [json.loads(x) for x in (run / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5 and {"question", "gold", "retrieved", "answer", "scores", "pass"} <= set(rows[0])
    assert "## Retrieval" in (run / "report.md").read_text(encoding="utf-8")

    # a second run re-embeds nothing, and compare shows the two runs side by side
    rc, out, _ = hoidap(capsys, "eval", *args, "--retrieval-only", "--retriever", "bm25", "--out", str(tmp / "run2"))
    m2 = json.loads(out)
    assert m2["index"]["cached"] and m2["retriever"] == "bm25" and "has_answer" not in m2
    rc, out, _ = hoidap(capsys, "eval", "compare", str(tmp / "run1"), str(tmp / "run2"), "--json")
    c = json.loads(out)
    assert rc == 0 and c["metrics"]["ndcg@10"]["a"] == m["ndcg@10"] and c["common_questions"] == 5
    rc, out, _ = hoidap(capsys, "eval", "compare", str(tmp / "run1"), str(tmp / "run2"))
    assert "ndcg@10" in out and "questions in both" in out


def test_eval_jsonl_against_a_collection_and_bad_rows(chdir, capsys):
    tmp = chdir
    home = tmp / "home"
    docs = tmp / "docs"
    docs.mkdir()
    for title, ctxs in ARTICLES.items():
        (docs / f"{title}.txt").write_text("\n\n".join(ctxs), encoding="utf-8")
    assert main(["ingest", str(docs), "--data-dir", str(home), "--collection", "kb"]) == 0
    lines = [json.dumps({"question": q, "answers": [a], "doc_ids": [f"{t}.txt"]}, ensure_ascii=False)
             for t, _, q, a in QUESTIONS]
    lines.insert(2, "{broken")
    lines.append(json.dumps({"question": "Giá cổ phiếu hôm nay bao nhiêu?", "answerable": False}, ensure_ascii=False))
    lines.append(json.dumps({"question": "Món ăn truyền thống nào nấu nước dùng từ xương bò?",
                             "passages": ["nước dùng nấu từ xương bò"]}, ensure_ascii=False))
    s = tmp / "own.jsonl"
    s.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rc, out, err = hoidap(capsys, "eval", str(s), "--data-dir", str(home), "--collection", "kb", "--retrieval-only",
                          "--k", "1,2", "--retriever", "hybrid,bm25", "--json")
    assert rc == 0
    m = json.loads(out)
    assert "line 3" in err and m["bad_rows"] == 1
    assert m["n_questions"] == 6 and m["n_items"] == 7  # the unanswerable one has no gold documents
    assert m["hit@5"] >= 0.8 and m["p@1"] >= 0.6 and "recall@2" in m and "chunk_hit@1" not in m
    assert list(m["baselines"]) == ["bm25"]

    # a set of conversations on the same collection: turns asked in order, scored turn by turn
    convs = tmp / "convs.jsonl"
    convs.write_text("\n".join([
        json.dumps({"id": "hue", "turns": [
            {"question": "Nước dùng phở được nấu từ gì?", "answers": ["xương bò"]},
            {"question": "Còn phở Nam Định thì sao?", "resolves_to": ["phở Nam Định"], "kind": "switch"},
            {"question": "Đại Nội Huế được xây dựng từ năm nào?", "answers": ["1805"]},
            {"question": "Giá cổ phiếu hôm nay bao nhiêu?", "answerable": False}]}, ensure_ascii=False),
        json.dumps({"id": "bad", "turns": [{"answers": ["x"]}]})]) + "\n", encoding="utf-8")
    rc, out, err = hoidap(capsys, "eval", str(convs), "--data-dir", str(home), "--collection", "kb", "--llm", "none",
                          "--json", "--out", str(tmp / "run"))
    m = json.loads(out)
    assert rc == 0 and "line 2: turn 1: no 'question'" in err and m["bad_rows"] == 1
    assert (m["n_conversations"], m["n_turns"]) == (1, 4) and m["resolution_accuracy"] == 1.0
    assert m["by_kind"]["switch"]["n"] == 1 and m["turn_accuracy"] >= 0.75
    rows = [json.loads(x) for x in (tmp / "run" / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[1]["standalone_question"] == "Nước dùng phở Nam Định được nấu từ gì?"


def test_eval_cli_subprocess_and_errors(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"question": "?", "context": "Huế là cố đô.", "answer": "Huế"}\n', encoding="utf-8")
    r = run_cli("eval", str(tmp_path / "missing.csv"), "--json", home=tmp_path / "h", check=False)
    assert r.returncode == 2 and "not found" in json.loads(r.stdout)["error"]
    r = run_cli("eval", "compare", str(tmp_path), "--json", home=tmp_path / "h", check=False)
    assert r.returncode == 2 and "compare" in json.loads(r.stdout)["error"]
    r = run_cli("eval", str(p), "--retrieval-only", "--k", "1,3", home=tmp_path / "h")
    assert "hybrid" in r.stdout and "ndcg@10" in r.stdout


def test_public_set_by_name_missing_names_the_file_and_its_source(tmp_path):
    r = run_cli("eval", "xquad-vi", "--public-data", str(tmp_path / "nowhere"), "--json", home=tmp_path / "h",
                check=False)
    err = json.loads(r.stdout)["error"]
    assert r.returncode == 2
    assert str(tmp_path / "nowhere" / "xquad-vi" / "xquad.vi.json") in err and "google-deepmind/xquad" in err


def test_squad_file_as_corpus_gives_gold_articles_by_file_name(tmp_path, chdir, capsys):
    """A set written over a SQuAD file's articles (dev-types.jsonl over XQuAD-vi) names them `Title.md`; the
    articles are built from the SQuAD file read in place, beside another corpus folder."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "ghi-chu.txt").write_text("Chợ Đông Ba mở cửa từ 6 giờ sáng.", encoding="utf-8")
    jl = tmp_path / "dev.jsonl"
    jl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"question": "Vịnh Hạ Long thuộc tỉnh nào?", "answers": ["Quảng Ninh"], "doc_ids": ["Vịnh-Hạ-Long.md"]},
        {"question": "Chợ Đông Ba mở cửa lúc mấy giờ?", "answers": ["6 giờ sáng"], "doc_ids": ["ghi-chu.txt"]},
    ]) + "\n", encoding="utf-8")
    rc, out, _ = hoidap(capsys, "eval", str(jl), "--corpus", str(own), "--corpus", str(squad_file(tmp_path)),
                        "--retrieval-only", "--retriever", "hybrid", "--data-dir", str(tmp_path / "h"), "--json")
    m = json.loads(out)
    assert rc == 0 and m["index"]["added"] == 4  # the note and the three articles
    assert m["n_questions"] == 2 and m["p@1"] == 1.0
