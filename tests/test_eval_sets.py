"""eval.sets: each reader on tiny hand-written files, bad rows reported by line number."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.sets import QUESTION_TYPES, context_key, detect_format, load_set

SQUAD = {
    "version": "1.1",
    "data": [
        {"title": "Huế", "paragraphs": [
            {"context": "Huế là cố đô của Việt Nam. Sông Hương chảy qua thành phố.",
             "qas": [
                 {"id": "q1", "question": "Cố đô của Việt Nam là gì?", "answers": [{"answer_start": 0, "text": "Huế"}]},
                 {"id": "q2", "question": "Sông nào chảy qua Huế?", "answers": [{"answer_start": 99, "text": "Sông Hương"}]},
                 {"id": "bad1", "question": "Không có đáp án?", "answers": []},
             ]}]},
        {"title": "Hà Nội", "paragraphs": [
            {"context": "Hà Nội là thủ đô.", "qas": [
                {"id": "q3", "question": "Thủ đô là gì?", "answers": [{"answer_start": 0, "text": "Hà Nội"}]}]},
            {"qas": []}]},
    ],
}


def test_squad_reader(tmp_path):
    p = tmp_path / "tiny.json"
    p.write_text(json.dumps(SQUAD, ensure_ascii=False, indent=1), encoding="utf-8")
    es = load_set(p)
    assert es.format == "squad" and [i.qid for i in es.items] == ["q1", "q2", "q3"]
    assert len(es.contexts) == 2
    q2 = es.items[1]
    ctx = es.contexts[q2.context_key]
    # a wrong answer_start is repaired from the text
    assert ctx[q2.answer_start:q2.answer_start + len("Sông Hương")] == "Sông Hương"
    assert q2.article == "Huế"
    msgs = {str(e.line): e.message for e in es.errors}
    bad_line = next(n for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if '"bad1"' in line)
    assert str(bad_line) in msgs and "no answer" in msgs[str(bad_line)]
    assert any("without a context" in e.message for e in es.errors)


def test_vire_csv_reader_bom_and_bad_rows(tmp_path):
    p = tmp_path / "tiny.csv"
    rows = [
        "idx,question,answer,context",
        'a1,Thủ đô là gì?,Hà Nội,"Hà Nội là thủ đô,\nmột thành phố lớn."',
        "a2,,Huế,Huế là cố đô.",
        "a3,Cố đô là gì?,Huế,Huế là cố đô.",
        "a4,Câu hỏi thiếu cột",
        "a5,Câu hỏi nữa?,Huế, Huế là cố đô. ",
    ]
    p.write_bytes(b"\xef\xbb\xbf" + "\n".join(rows).encode("utf-8") + b"\n")
    es = load_set(p)
    assert es.format == "vire"
    assert [i.qid for i in es.items] == ["a1", "a3", "a5"]
    assert es.items[0].answers == ["Hà Nội"] and es.items[0].answer_start == 0
    # the same passage (up to whitespace) is one document
    assert es.items[1].context_key == es.items[2].context_key and len(es.contexts) == 2
    lines = {e.line: e.message for e in es.errors}
    assert lines == {4: "empty question", 6: "2 fields, expected 4"}  # a1 spans lines 2-3


def test_vire_extractive_answer_column(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("question,context,extractive answer\nAi?,Nam đi học.,Nam\n", encoding="utf-8")
    es = load_set(p)
    assert es.items[0].answers == ["Nam"] and es.items[0].qid == "line-2"


def test_jsonl_reader(tmp_path):
    p = tmp_path / "own.jsonl"
    lines = [
        json.dumps({"question": "Hội nghị diễn ra khi nào?", "answers": ["ngày 5/3"], "doc_ids": ["a.txt"]}),
        "",
        "# a comment",
        "{not json",
        json.dumps({"answer": "x"}),
        json.dumps({"question": "Giá vàng hôm nay?", "answerable": False}),
        json.dumps({"question": "Ở đâu?", "answer": "Huế", "context": "Ở Huế.", "passages": "Ở Huế"}),
        json.dumps({"question": "Sai kiểu", "answerable": "no"}),
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    es = load_set(p)
    assert [i.question for i in es.items] == ["Hội nghị diễn ra khi nào?", "Giá vàng hôm nay?", "Ở đâu?"]
    a, b, c = es.items
    assert a.gold_docs == ["a.txt"] and a.answers == ["ngày 5/3"] and a.qid == "line-1"
    assert not b.answerable
    assert c.context_key == context_key("Ở Huế.") and c.gold_passages == ["Ở Huế"] and c.answer_start == 2
    assert sorted(e.line for e in es.errors) == [4, 5, 8]


def test_detect_format(tmp_path):
    assert detect_format(tmp_path / "a.csv") == "vire"
    assert detect_format(tmp_path / "a.jsonl") == "jsonl"
    assert detect_format(tmp_path / "a.json") == "squad"
    with pytest.raises(ValueError):
        detect_format(tmp_path / "a.txt")


PUBLIC = Path(__file__).resolve().parents[2] / "shared" / "data"  # ../shared/data beside the checkout


@pytest.mark.skipif(not PUBLIC.is_dir(), reason=f"{PUBLIC} is absent: the public sets are read in place from there")
def test_public_sets_read_cleanly_in_place():
    from eval.data import public_path
    from rag.settings import Settings

    s = Settings(public_data=PUBLIC)
    x = load_set(public_path("xquad-vi", s))
    assert len(x.items) == 1190 and len(x.contexts) == 240 and not x.errors
    assert all(x.contexts[i.context_key][i.answer_start:].startswith(i.answers[0]) for i in x.items)
    v = load_set(public_path("vimedaqa", s))
    assert len(v.items) == 1000 and len(v.contexts) == 1000 and not v.errors
    a = load_set(public_path("alqac", s))
    assert len(a.items) == 530 and not a.errors


def test_genuine_set_reads_cleanly_with_every_type_and_format():
    """The genuine dev set (documents read in place from ../shared/data/genuine/docs): every question type,
    every document format labelled, the near misses unanswerable; its scores group by format."""
    from pathlib import Path

    from eval.run import by_type

    es = load_set(Path(__file__).resolve().parent.parent / "examples" / "datasets" / "dev-genuine.jsonl")
    assert not es.errors and len(es.items) >= 80
    assert {i.qtype for i in es.items} == set(QUESTION_TYPES) | {"date", "scope"}
    assert {i.doc_format for i in es.items} == {"text-pdf", "scan-pdf", "docx", "vbpl-html", "ocr-md"}
    assert sum(not i.answerable for i in es.items) >= 10
    assert len({d for i in es.items for d in i.gold_docs}) >= 10
    rows = [{"type": i.qtype, "format": i.doc_format, "right": 1.0 if i.answerable else None} for i in es.items]
    per_format = by_type(rows, "format")
    assert set(per_format) == {"text-pdf", "scan-pdf", "docx", "vbpl-html", "ocr-md", "all"}
    assert per_format["all"]["n"] == len(es.items) and per_format["docx"]["right"] == 1.0
