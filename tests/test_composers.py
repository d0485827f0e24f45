"""The fast layer: the question read once, and each composer on evidence held in memory (no store, no model).

A composer reads documents whole (rag.units.Library) and ranked sentences of the retrieved evidence; here the
documents are held in a dict and the evidence is each document whole, ranked lexically (no embedder).  Every
quoted passage must slice its document exactly, as every door shows it."""
from __future__ import annotations

import pytest

from rag.compose import COMPOSERS, NO, UNCLEAR, YES, Request, compose, compose_definition, compose_document_fact
from rag.compose import compose_superlative, extractive
from rag.evidence import Evidence
from rag.question import TYPES, asks_more, understand
from rag.rank import ranked_sentences
from rag.units import Library

RULES = """BỘ GIÁO DỤC VÀ ĐÀO TẠO
Số: 12/2024/TT-BGDĐT

THÔNG TƯ
Quy định về học bổng khuyến khích học tập

Điều 1. Phạm vi điều chỉnh
Thông tư này quy định về học bổng khuyến khích học tập đối với sinh viên.

Điều 2. Hồ sơ đề nghị học bổng
Hồ sơ đề nghị học bổng gồm:
a) Đơn đề nghị theo mẫu;
b) Bảng điểm học kỳ;
c) Giấy xác nhận của khoa.

Điều 3. Trình tự xét học bổng
Bước 1: Sinh viên nộp hồ sơ cho khoa.
Bước 2: Khoa lập danh sách đề nghị.
Bước 3: Hiệu trưởng ký quyết định cấp học bổng.

Điều 4. Mức học bổng
1. Học bổng loại giỏi bằng 120% mức học phí.
2. Học bổng loại khá bằng 100% mức học phí.
3. Sinh viên bị kỷ luật từ mức khiển trách trở lên không được xét học bổng.
4. Học bổng khuyến khích học tập là khoản tiền thưởng cho sinh viên có kết quả học tập tốt.

Điều 5. Hiệu lực thi hành
Thông tư này có hiệu lực thi hành kể từ ngày 01 tháng 3 năm 2024.

BỘ TRƯỞNG
Nguyễn Văn An
"""

QUOTAS = """Chỉ tiêu tuyển sinh năm 2024 của trường được phân bổ theo ngành như sau.
| Ngành | Chỉ tiêu |
| Luật | 200 |
| Kinh tế | 350 |
| Ngôn ngữ Anh | 120 |
"""


class Shelf:
    """Documents held in memory, read as rag.units.Library reads a collection."""

    def __init__(self, **docs: tuple[str, dict]):
        self.docs = docs

    def document_text(self, doc_id: str) -> str:
        return self.docs[doc_id][0]

    def documents(self) -> list[dict]:
        return [{"doc_id": d, "source": f"{d}.txt", "title": d, "status": "ok", "number": m.get("number", "")}
                for d, (_, m) in self.docs.items()]

    def document_meta(self, doc_id: str) -> dict:
        return self.docs[doc_id][1]


@pytest.fixture
def lib() -> Library:
    return Library(Shelf(rules=(RULES, {"number": "12/2024/TT-BGDĐT"}), quotas=(QUOTAS, {})))


def whole(lib: Library, doc_id: str, **fields) -> Evidence:
    text = lib.text(doc_id)
    return Evidence(doc_id=doc_id, source=f"{doc_id}.txt", title=doc_id, text=text, norm=text, start=0,
                    end=len(text), score=1.0, **fields)


def request(lib: Library, question: str, *docs: str) -> Request:
    q = understand(question)
    hits = [whole(lib, d) for d in docs or ("rules",)]
    return Request(q, question, hits, True, lib, None, lambda side: hits)


def exact(lib: Library, passages) -> list[str]:
    """The passages' texts, each checked to be the exact slice of its document that its offsets say."""
    for p in passages:
        assert lib.text(p.hit.doc_id)[p.start:p.end] == p.text
        c = p.citation()
        assert lib.text(c.doc_id)[c.start:c.end] == c.text
    return [p.text for p in passages]


# -- the question, read once ----------------------------------------------------------------------------------
@pytest.mark.parametrize("question, kind", [
    ("Hồ sơ đề nghị học bổng gồm những gì?", "list"),
    ("Trình tự xét học bổng như thế nào?", "procedure"),
    ("Điều 2 quy định gì?", "article"),
    ("Sinh viên bị kỷ luật có được xét học bổng không?", "yesno"),
    ("Học bổng khuyến khích học tập là gì?", "definition"),
    ("So sánh học bổng loại giỏi và học bổng loại khá", "comparison"),
    ("Tóm tắt Thông tư 12/2024/TT-BGDĐT", "summary"),
    ("Thông tư có hiệu lực từ ngày nào?", "factoid"),
])
def test_question_type_is_read_from_its_wording(question, kind):
    assert understand(question).type == kind


def test_what_a_factoid_asks_is_read_once_with_the_question():
    count = understand("Hội nghị có bao nhiêu đại biểu tham dự?").asks
    assert (count.kind, count.counted) == ("number", "đại")
    assert understand("Ngành nào có chỉ tiêu thấp nhất?").asks.extreme == "min"
    assert understand("Quyết định số mấy quy định việc này?").asks.doc_number
    assert understand("Lễ hội diễn ra khi nào?").asks.kind == "time"
    assert asks_more("xem thêm") and not asks_more("thêm điều kiện gì?")


def test_every_composed_type_has_a_composer():
    assert set(COMPOSERS) == set(TYPES) - {"factoid", "definition"}


# -- each composer --------------------------------------------------------------------------------------------
def test_list_is_the_items_under_the_lead_in_in_order(lib):
    c = compose(request(lib, "Hồ sơ đề nghị học bổng gồm những gì?"))
    assert exact(lib, c.passages) == ["a) Đơn đề nghị theo mẫu;", "b) Bảng điểm học kỳ;", "c) Giấy xác nhận của khoa."]
    assert [p.citation().label for p in c.passages] == ["Điều 2 › Điểm a", "Điều 2 › Điểm b", "Điều 2 › Điểm c"]


def test_procedure_is_the_steps(lib):
    c = compose(request(lib, "Trình tự xét học bổng như thế nào?"))
    assert [t.split(":")[0] for t in exact(lib, c.passages)] == ["Bước 1", "Bước 2", "Bước 3"]


def test_article_is_its_clauses_led_by_its_title_and_document_number(lib):
    c = compose(request(lib, "Điều 2 quy định gì?"))
    assert c.text.startswith("Điều 2 (Hồ sơ đề nghị học bổng) của văn bản số 12/2024/TT-BGDĐT quy định:")
    assert exact(lib, c.passages)[0] == "Hồ sơ đề nghị học bổng gồm:"


def test_article_of_the_document_named_by_title_is_not_ambiguous():
    """Two documents have an Điều 2: a question naming neither is told the other exists; one naming its document
    (by title, as the answerer resolves it) is not."""
    other = "NGHỊ ĐỊNH\nSố: 7/2023/NĐ-CP\n\nĐiều 2. Đối tượng áp dụng\nNghị định này áp dụng đối với cơ quan nhà nước.\n"
    lib = Library(Shelf(rules=(RULES, {"number": "12/2024/TT-BGDĐT"}), other=(other, {"number": "7/2023/NĐ-CP"})))
    r = request(lib, "Điều 2 quy định gì?", "rules")
    assert "văn bản khác cũng có Điều 2: 7/2023/NĐ-CP" in compose(r).text
    r.named = ["rules"]
    c = compose(r)
    assert "văn bản khác" not in c.text and exact(lib, c.passages)[0] == "Hồ sơ đề nghị học bổng gồm:"


def test_a_number_with_its_year_names_only_that_document():
    """"văn bản số 29/2018/QH14" names the law numbered so, not a consolidated text whose opening lines list a
    law 29/2023/QH15 among its amendments (seen over genuine documents: "còn khoản 3 thì sao?" after Điều 20
    of 29/2018/QH14 was told "văn bản khác cũng có khoản 3 Điều 20: 44/VBHN-VPQH")."""
    law = ("LUẬT\nSố: 29/2018/QH14\nLuật Bảo vệ bí mật nhà nước\n\nĐiều 20. Gia hạn\n"
           "3. Bí mật nhà nước sau khi gia hạn phải được đóng dấu.\n")
    land = ("LUẬT ĐẤT ĐAI\nđược sửa đổi, bổ sung bởi Luật Kinh doanh bất động sản số 29/2023/QH15.\n\n"
            "Điều 20. Hòa giải\n3. Việc hòa giải được lập thành biên bản.\n")
    lib = Library(Shelf(law=(law, {"number": "29/2018/QH14"}), land=(land, {"number": "44/VBHN-VPQH"})))
    c = compose(request(lib, "Khoản 3 Điều 20 của văn bản số 29/2018/QH14 quy định gì?", "law", "land"))
    assert "văn bản khác" not in c.text and exact(lib, c.passages) == ["3. Bí mật nhà nước sau khi gia hạn phải được đóng dấu."]
    assert lib.named(understand("Nghị định 29/QH quy định gì?").documents) == ["law", "land"]  # no year: either


def test_yesno_verdict_follows_the_sentence_that_decides_it(lib):
    denied = compose(request(lib, "Sinh viên bị kỷ luật khiển trách có được xét học bổng không?"))
    assert denied.verdict == NO and "không được xét học bổng" in exact(lib, denied.passages)[0]
    wrong_figure = compose(request(lib, "Học bổng loại giỏi bằng 150% mức học phí phải không?"))
    assert wrong_figure.verdict == NO and "120%" in exact(lib, wrong_figure.passages)[0]
    affirmed = compose(request(lib, "Học bổng loại khá bằng 100% mức học phí phải không?"))
    assert affirmed.verdict == YES


def test_yesno_about_what_the_documents_do_not_say_is_unclear(lib):
    c = compose(request(lib, "Sinh viên nước ngoài có được miễn phí ký túc xá không?"))
    assert c.verdict == UNCLEAR


def test_comparison_answers_each_side(lib):
    c = compose(request(lib, "So sánh học bổng loại giỏi và học bổng loại khá"))
    texts = exact(lib, c.passages)
    assert any("loại giỏi bằng 120%" in t for t in texts) and any("loại khá bằng 100%" in t for t in texts)


def test_summary_is_key_sentences_of_the_named_document_in_order(lib):
    c = compose(request(lib, "Tóm tắt Thông tư 12/2024/TT-BGDĐT"))
    starts = [p.start for p in c.passages]
    assert 2 <= len(starts) <= 5 and starts == sorted(starts)
    exact(lib, c.passages)


def test_no_evidence_is_no_composition(lib):
    r = request(lib, "Hồ sơ đề nghị học bổng gồm những gì?")
    r.answerable = False
    assert compose(r) is None


def test_definition_is_the_sentence_defining_the_term(lib):
    q = understand("Học bổng khuyến khích học tập là gì?")
    c = compose_definition(q, ranked_sentences(q.text, [whole(lib, "rules")]), lib=lib)
    assert exact(lib, c.passages) == ["4. Học bổng khuyến khích học tập là khoản tiền thưởng cho sinh viên có kết "
                                      "quả học tập tốt."]


def test_superlative_is_the_extreme_row_of_the_column_asked(lib):
    for question, branch in (("Ngành nào có chỉ tiêu cao nhất?", "Kinh tế"),
                             ("Ngành nào có chỉ tiêu thấp nhất?", "Ngôn ngữ Anh")):
        q = understand(question)
        hits = [whole(lib, "quotas")]
        c = compose_superlative(q, ranked_sentences(q.text, hits), lib, hits)
        assert branch in exact(lib, c.passages)[0]


def test_document_facts_effect_date_and_signer(lib):
    hits = [whole(lib, "rules")]
    effect = compose_document_fact("effect", "rules", lib, hits)
    assert "kể từ ngày 01 tháng 3 năm 2024" in exact(lib, effect.passages)[0]
    assert exact(lib, compose_document_fact("signer", "rules", lib, hits).passages) == ["Nguyễn Văn An"]
    assert "học bổng khuyến khích" in exact(lib, compose_document_fact("scope", "rules", lib, hits).passages)[0]


def test_a_count_is_answered_by_a_sentence_stating_an_amount(lib):
    text, ps = extractive("Học bổng loại giỏi bằng bao nhiêu phần trăm mức học phí?", [whole(lib, "rules")])
    assert "120%" in exact(lib, ps)[0] and text.endswith("[1].")


def test_the_number_a_clause_starts_with_is_no_amount():
    """"2. Bảo vệ bí mật nhà nước là …" says what the protection is, "Bước 3: …" is a step and "03 độ mật" is a
    count, not a sum: none answers "bao nhiêu tiền" (over genuine documents the first and then the last answered
    "Mức phạt vi phạm bí mật nhà nước là bao nhiêu tiền?"); the fine stated in the same shape of clause does."""
    text = ("Điều 2. Giải thích từ ngữ\n1. Bí mật nhà nước là thông tin có nội dung quan trọng.\n"
            "2. Bảo vệ bí mật nhà nước là việc phòng, chống xâm phạm bí mật nhà nước.\n"
            "Điều 3. Trình tự xử lý vi phạm bí mật nhà nước\nBước 3: Lập biên bản vi phạm bí mật nhà nước.\n"
            "Điều 4. Phân loại\nBí mật nhà nước về vi phạm được phân loại thành 03 độ mật.\n")
    shelf = Library(Shelf(law=(text, {})))
    question = "Mức phạt vi phạm bí mật nhà nước là bao nhiêu tiền?"
    assert extractive(question, [whole(shelf, "law")]) == ("", [])
    fined = Library(Shelf(law=(text + "3. Mức phạt vi phạm bí mật nhà nước là 20 triệu đồng.\n", {})))
    assert "20 triệu đồng" in exact(fined, extractive(question, [whole(fined, "law")])[1])[0]


def test_a_citation_is_on_the_page_its_own_sentence_is_on(lib):
    """A chunk that begins on page 1 and quotes a sentence from page 2 cites page 2."""
    page2 = RULES.index("Điều 4.")
    e = whole(lib, "rules", page=1, page_starts=[0, page2], ocr_pages=[2])
    text, ps = extractive("Học bổng loại giỏi bằng bao nhiêu phần trăm mức học phí?", [e])
    c = ps[0].citation()
    assert (c.page, c.ocr) == (2, True)
    first = e.citation(1)
    assert (first.page, first.ocr) == (1, False)
