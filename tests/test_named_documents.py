"""Answers about official documents the way issue #23 asks for them, through the CLI (`hoidap eval` of the
questions below over a folder, `--llm none`: one process answers them all), over documents written here: two
regulations that cite each other, and a regulation PDF whose articles cross pages.

One test per class: the document a question names decides the document (or the answer says the collection
does not have it); "… quy định về gì" / "… có hiệu lực từ khi nào" come from the scope article and the
effective-date clause, never a heading; a limit is not a denial and a conditional permission is a "Có, nếu …";
a figure for another year or province than the question's is refused; every quote of a composed answer from a
PDF carries its page."""
import json
from pathlib import Path

import pytest

import docmaker as dm
from conftest import run_cli

DECREE = """CHÍNH PHỦ
Số: 12/2021/NĐ-CP
NGHỊ ĐỊNH
Quy định về phí tham quan bảo tàng công lập
Căn cứ Luật Di sản văn hóa;
Điều 1. Phạm vi điều chỉnh
Nghị định này quy định mức phí tham quan và phí dịch vụ tại các bảo tàng công lập.
Điều 2. Mức phí
1. Từ năm 2021, phí tham quan bảo tàng là 30.000 đồng mỗi lượt.
2. Bảo tàng được thu phí trông giữ xe của khách tham quan nhưng không vượt quá 5.000 đồng mỗi lượt.
3. Trường hợp có đoàn khách đăng ký trước thì bảo tàng được mở cửa sau 17 giờ.
Điều 3. Hiệu lực thi hành
Nghị định này có hiệu lực thi hành kể từ ngày 01 tháng 3 năm 2021.
"""

CIRCULAR = """BỘ VĂN HÓA
Số: 34/2022/TT-BVH
THÔNG TƯ
Hướng dẫn giờ mở cửa bảo tàng
Căn cứ Nghị định số 12/2021/NĐ-CP quy định về phí tham quan bảo tàng công lập;
Điều 1. Phạm vi điều chỉnh
Thông tư này quy định giờ mở cửa của các bảo tàng công lập.
Điều 2. Giờ mở cửa
Bảo tàng mở cửa từ 8 giờ đến 17 giờ các ngày trong tuần.
Điều 3. Hiệu lực thi hành
Thông tư này có hiệu lực thi hành kể từ ngày 15 tháng 6 năm 2022.
"""


QUESTIONS = {
    "named": "Thông tư 34/2022/TT-BVH có hiệu lực từ ngày nào?",
    "named-unaccented": "nghi dinh 12/2021 co hieu luc tu ngay nao",
    "missing": "Nghị định 99/2020/NĐ-CP quy định phí tham quan bảo tàng là bao nhiêu?",
    "scope": "Thông tư 34/2022/TT-BVH quy định về gì?",
    "effect-pdf": "Quy chế 1024/QĐ-ĐHKT có hiệu lực từ khi nào?",
    "limit": "Bảo tàng có được thu phí trông giữ xe không?",
    "condition": "Bảo tàng có được mở cửa sau 17 giờ không?",
    "year": "Phí tham quan bảo tàng năm 2021 là bao nhiêu?",
    "other-year": "Phí tham quan bảo tàng năm 2019 là bao nhiêu?",
    "other-province": "Phí tham quan bảo tàng ở Đà Nẵng là bao nhiêu?",
    "list-pdf": "Sinh viên vi phạm quy định tại Điều 14 bị xử lý theo những hình thức nào?",
}


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict[str, dict]:
    d = tmp_path_factory.mktemp("named")
    docs = d / "docs"
    docs.mkdir()
    (docs / "nghi-dinh-phi-bao-tang.txt").write_text(DECREE, encoding="utf-8")
    (docs / "thong-tu-gio-mo-cua.txt").write_text(CIRCULAR, encoding="utf-8")
    dm.write_regulation_pdf(docs / "quy-che.pdf", filler=9)
    qs = d / "questions.jsonl"
    qs.write_text("".join(json.dumps({"id": k, "question": q}, ensure_ascii=False) + "\n"
                          for k, q in QUESTIONS.items()), encoding="utf-8")
    run_cli("eval", str(qs), "--corpus", str(docs), "--llm", "none", "--retriever", "hybrid", "--out",
            str(d / "run"), home=d / "data")
    rows = [json.loads(x) for x in (d / "run" / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    return {r["id"]: r for r in rows}


def sources(a: dict) -> set[str]:
    return {Path(c["source"]).name for c in a["citations"]}


def test_the_document_a_question_names_decides_the_answer(answers):
    circular, decree, missing = answers["named"], answers["named-unaccented"], answers["missing"]
    assert "15 tháng 6 năm 2022" in circular["answer"] and sources(circular) == {"thong-tu-gio-mo-cua.txt"}
    assert "01 tháng 3 năm 2021" in decree["answer"] and sources(decree) == {"nghi-dinh-phi-bao-tang.txt"}
    assert missing["refused"] and "99/2020" in missing["answer"] and "không có" in missing["answer"]


def test_scope_and_effect_come_from_their_clauses_not_a_heading(answers):
    scope = answers["scope"]
    assert scope["answer"].startswith("Thông tư này quy định giờ mở cửa")
    assert not any(c["text"].startswith("Điều") for c in scope["citations"])
    assert answers["effect-pdf"]["answer"].startswith("Quy chế này có hiệu lực kể từ ngày 01 tháng 9 năm 2025")


def test_a_limit_is_no_denial_and_a_condition_answers_yes_if(answers):
    limit = answers["limit"]
    assert limit["answer"].startswith("Có.") and "5.000 đồng" in limit["answer"]
    assert answers["condition"]["answer"].startswith("Có, nếu trường hợp có đoàn khách đăng ký trước")


def test_a_figure_for_another_year_or_province_is_refused(answers):
    assert "30.000 đồng" in answers["year"]["answer"]
    for near_miss in ("other-year", "other-province"):
        a = answers[near_miss]
        assert a["refused"] and not a["citations"], a


def test_every_quote_of_a_composed_answer_from_a_pdf_has_its_page(answers):
    a = answers["list-pdf"]
    assert len(a["citations"]) >= 3 and sources(a) == {"quy-che.pdf"}
    assert all(c["page"] for c in a["citations"]), a["citations"]
