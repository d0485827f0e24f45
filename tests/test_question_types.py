"""Answers shaped by the question's type, through the CLI as a user runs it, over documents made here: a
regulation with chapters, articles, clauses, points and a table, and a short news text.  Every quote must be a
whole unit of its source whose offsets slice the source exactly."""
import json
import re
from pathlib import Path

import pytest

from conftest import cli_json, run_cli

REGULATION = """QUY CHẾ THỬ NGHIỆM VỀ THƯ VIỆN
Số: 77/QĐ-TV

Chương I
QUY ĐỊNH CHUNG

Điều 1. Phạm vi áp dụng
Quy chế này áp dụng đối với bạn đọc của thư viện tỉnh.
Bạn đọc là người sử dụng tài liệu và dịch vụ của thư viện.
Thẻ thư viện còn có tên gọi khác là thẻ bạn đọc.

Điều 2. Quyền của bạn đọc
1. Bạn đọc được mượn tối đa 5 cuốn sách mỗi lần.
2. Bạn đọc được gia hạn mượn sách một lần, thêm 7 ngày.
3. Bạn đọc được sử dụng phòng đọc miễn phí.

Điều 3. Các hành vi bị cấm
Bạn đọc không được thực hiện các hành vi sau đây:
a) Làm rách, viết, vẽ lên sách;
b) Mang đồ ăn vào phòng đọc;
c) Cho người khác mượn thẻ thư viện.

Chương II
THỦ TỤC

Điều 4. Thủ tục làm thẻ thư viện
Thủ tục làm thẻ thư viện như sau:
1. Bạn đọc điền phiếu đăng ký tại quầy thủ thư.
2. Bạn đọc nộp một ảnh 3x4 và bản sao căn cước.
3. Thủ thư in thẻ và giao cho bạn đọc sau 2 ngày làm việc.

Điều 5. Phí dịch vụ
| Dịch vụ | Mức phí |
| Làm thẻ mới | 20.000 đồng |
| Cấp lại thẻ | 30.000 đồng |

Điều 6. Tài liệu phục vụ bạn đọc
Thư viện phục vụ bạn đọc các loại tài liệu sau đây:
a) Sách giáo khoa;
b) Sách tham khảo;
c) Báo in;
d) Tạp chí khoa học;
đ) Luận văn thạc sĩ;
e) Luận án tiến sĩ;
g) Bản đồ;
h) Tài liệu số;
i) Sách nói;
k) Tranh ảnh tư liệu.
"""

NEWS = """Lễ hội hoa xuân của thành phố được tổ chức vào sáng 2-2. Đây là lần đầu tiên lễ hội kéo dài suốt 10 ngày. \
Ban tổ chức cho biết lễ hội thu hút hơn 50.000 lượt khách.
Chủ tịch thành phố yêu cầu các sở ngành bảo đảm an toàn giao thông trong suốt lễ hội. \
Ngay sau lễ khai mạc, lực lượng chức năng tăng cường kiểm tra vệ sinh an toàn thực phẩm. \
Trong đó, đặc biệt chú ý các quầy hàng ăn uống tại khu vực trung tâm.
Năm nay, lễ hội có thêm khu trưng bày hoa lan và khu trò chơi dân gian cho thiếu nhi.
"""

# a table as ingest writes a DOCX table, one row a line, with its total row
REPORT = """Kết quả tuyển sinh năm 2025 của Trường Cao đẳng Nghề Biển Đông theo từng ngành như sau.
Ngành: Điều khiển tàu biển; Chỉ tiêu: 80; Nhập học: 74
Ngành: Khai thác máy tàu; Chỉ tiêu: 60; Nhập học: 95
Ngành: Logistics cảng biển; Chỉ tiêu: 1.200; Nhập học: 31
Ngành: Tổng cộng; Chỉ tiêu: 1.340; Nhập học: 200
"""


@pytest.fixture(scope="module")
def docs_home(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    d = tmp_path_factory.mktemp("types")
    (d / "docs").mkdir()
    texts = {"quy-che-thu-vien.txt": REGULATION, "le-hoi-hoa.txt": NEWS, "tuyen-sinh.txt": REPORT}
    for name, text in texts.items():
        (d / "docs" / name).write_text(text, encoding="utf-8")
    home = d / "data"
    run_cli("ingest", str(d / "docs"), home=home)
    return home, texts


def ask(home: Path, question: str) -> dict:
    return cli_json("ask", question, "--llm", "none", home=home)


def assert_whole_units(a: dict, texts: dict[str, str]) -> None:
    """Every quote slices its source exactly and is a whole line or sentence of it (no cut words)."""
    assert a["citations"], a
    for c in a["citations"] + a["more"]:
        src = texts[Path(c["source"]).name]
        assert src[c["start"]:c["end"]] == c["text"]
        before, after = src[:c["start"]], src[c["end"]:]
        assert before == "" or before[-1] in " \n|", c  # starts where a unit starts
        assert after == "" or after[0] in " \n.;:|", c  # ends where a unit ends


def quoted(a: dict) -> list[str]:
    return [c["text"] for c in a["citations"]]


@pytest.mark.parametrize("question, kind, marks", [
    ("Điều 2 quy định gì?", "article", ["1.", "2.", "3."]),  # the clauses, not the title line
    ("khoan 2 dieu 2 noi gi", "article", ["2."]),
    ("Bạn đọc bị cấm những hành vi nào?", "list", ["a)", "b)", "c)"]),
    ("Thủ tục làm thẻ thư viện như thế nào?", "procedure", ["1.", "2.", "3."]),
])
def test_items_are_quoted_whole_and_in_document_order(docs_home, question, kind, marks):
    home, texts = docs_home
    a = ask(home, question)
    assert a["question_type"] == kind
    assert [t[:2] for t in quoted(a)] == marks
    assert not any(t.startswith("Điều ") for t in quoted(a))
    assert_whole_units(a, texts)


def test_list_written_as_sentences_is_answered_with_all_of_them(docs_home):
    home, texts = docs_home
    a = ask(home, "Chủ tịch thành phố yêu cầu các sở ngành làm những gì?")
    assert a["question_type"] == "list"
    assert len(a["citations"]) == 3 and quoted(a)[0].startswith("Chủ tịch thành phố yêu cầu")
    assert quoted(a)[2].startswith("Trong đó, đặc biệt chú ý")
    assert_whole_units(a, texts)


def test_yes_no_question_starts_with_the_verdict_the_sentence_supports(docs_home):
    home, texts = docs_home
    no = ask(home, "Bạn đọc có được mang đồ ăn vào phòng đọc không?")
    assert no["question_type"] == "yesno" and no["answer"].startswith("Không.") and no["verdict"] == "Không."
    assert_whole_units(no, texts)
    yes = ask(home, "Bạn đọc được sử dụng phòng đọc miễn phí phải không?")
    assert yes["answer"].startswith("Có.")
    wrong_figure = ask(home, "Bạn đọc được mượn tối đa 10 cuốn sách mỗi lần đúng không?")
    assert wrong_figure["answer"].startswith("Không.") and "5 cuốn" in wrong_figure["answer"]


def test_summary_quotes_key_sentences_in_document_order(docs_home):
    home, texts = docs_home
    a = ask(home, "Tóm tắt bài viết về lễ hội hoa xuân")
    assert a["question_type"] == "summary"
    starts = [c["start"] for c in a["citations"]]
    assert 2 <= len(starts) <= 5 and starts == sorted(starts)
    assert all(Path(c["source"]).name == "le-hoi-hoa.txt" for c in a["citations"])
    assert_whole_units(a, texts)


def test_comparison_groups_sentences_by_side(docs_home):
    home, texts = docs_home
    a = ask(home, "So sánh phí làm thẻ mới với phí cấp lại thẻ")
    assert a["question_type"] == "comparison"
    first, second = a["answer"].split("\n")[0], a["answer"].split("\n")[2]
    assert first.endswith(":") and second.endswith(":")
    assert any("20.000" in t for t in quoted(a)) and any("30.000" in t for t in quoted(a))
    assert_whole_units(a, texts)


@pytest.mark.parametrize("question", [
    "Điều 40 quy định gì?",
    "Những loại sách nào được mượn về nhà?",
    "Các bước đăng ký thi bằng lái xe như thế nào?",
    "Bạn đọc có được mang thú cưng vào thư viện không?",
    "Tóm tắt bài viết về giải bóng đá mùa hè",
    "So sánh xe buýt điện và tàu điện ngầm",
    "Thẻ tín dụng là gì?",
])
def test_unanswerable_question_of_each_type_is_refused(docs_home, question):
    home, _ = docs_home
    a = ask(home, question)
    assert a["refused"], (question, a["answer"])
    assert a["answer"] in ("Không tìm thấy thông tin này trong tài liệu.", "Tài liệu không nói rõ.")


def test_chat_resolves_follow_ups_and_shows_the_standalone_question(docs_home):
    home, _ = docs_home
    p = run_cli("chat", "--llm", "none", "--json", home=home,
                input="Điều 4 quy định gì?\nđiều đó quy định mấy bước?\nthêm\n")
    turns = [json.loads(line) for line in p.stdout.strip().splitlines()]
    assert turns[0]["question_type"] == "article"
    assert turns[1]["standalone_question"] == "Điều 4 của văn bản số 77/QĐ-TV quy định mấy bước?"
    assert turns[2]["refused"] and turns[2]["answer"] == "Câu trả lời trước đã nêu đủ các ý tìm thấy trong tài liệu."
    human = run_cli("chat", "--llm", "none", home=home,
                    input="Quy chế thử nghiệm về thư viện số 77/QĐ-TV áp dụng cho ai?\nCòn Điều 2 thì sao?\n")
    assert re.search(r"^» .*Điều 2", human.stdout, re.M), human.stdout


# each kind of follow-up, asked in one `hoidap chat`: (question, the standalone question, a phrase of the answer)
FOLLOW_UPS = [
    ("Điều 2 quy định gì?", "Điều 2 quy định gì?", "mượn tối đa 5 cuốn sách"),
    ("còn khoản 2 thì sao?", "Khoản 2 Điều 2 của văn bản số 77/QĐ-TV quy định gì?", "gia hạn mượn sách một lần"),
    ("Còn Điều 3 thì sao?", "Điều 3 của văn bản số 77/QĐ-TV quy định gì?", "Mang đồ ăn vào phòng đọc"),
    ("điểm c thì sao?", "Điểm c Điều 3 của văn bản số 77/QĐ-TV quy định gì?", "Cho người khác mượn thẻ thư viện"),
    ("Ngành Khai thác máy tàu có bao nhiêu sinh viên nhập học?", None, "Nhập học: 95"),
    ("Còn ngành Logistics cảng biển thì sao?", "Ngành Logistics cảng biển có bao nhiêu sinh viên nhập học?",
     "Nhập học: 31"),
    ("ngành đó có chỉ tiêu bao nhiêu?", "Ngành Logistics cảng biển có chỉ tiêu bao nhiêu?", "Chỉ tiêu: 1.200"),
    ("Lễ hội hoa xuân được tổ chức khi nào?", None, "sáng 2-2"),
    ("lễ hội đó thu hút bao nhiêu lượt khách?", "Lễ hội hoa xuân thu hút bao nhiêu lượt khách?", "50.000 lượt khách"),
]


def test_chat_resolves_each_kind_of_follow_up_against_the_conversation(docs_home):
    home, _ = docs_home
    p = run_cli("chat", "--llm", "none", "--json", home=home, input="\n".join(q for q, _, _ in FOLLOW_UPS) + "\n")
    turns = [json.loads(line) for line in p.stdout.strip().splitlines()]
    for (question, standalone, phrase), t in zip(FOLLOW_UPS, turns, strict=True):
        assert t["standalone_question"] == (standalone or question), t
        assert not t["refused"] and phrase in t["answer"], (question, t["answer"])


def test_a_long_list_is_capped_and_more_shows_the_rest_in_order(docs_home):
    home, texts = docs_home
    p = run_cli("chat", "--llm", "none", "--json", home=home,
                input="Thư viện phục vụ những loại tài liệu nào?\nthêm\nxem thêm\n")
    first, more, again = [json.loads(line) for line in p.stdout.strip().splitlines()]
    assert first["question_type"] == "list"
    assert [c["text"] for c in first["citations"]][:2] == ["a) Sách giáo khoa;", "b) Sách tham khảo;"]
    assert len(first["citations"]) == 8 and first["answer"].endswith("… và 2 ý khác (hỏi «thêm» để xem).")
    assert [c["text"] for c in more["citations"]] == ["i) Sách nói;", "k) Tranh ảnh tư liệu."]
    assert more["answer"] == "- i) Sách nói [1];\n- k) Tranh ảnh tư liệu [2]."
    assert not more["refused"]
    assert_whole_units(more, texts)
    assert again["refused"]  # everything was shown at the first "thêm"


@pytest.mark.llm
def test_generated_style_words_a_summary_and_keeps_the_items_of_a_list(docs_home, model_path):
    """With `answer_style = "generated"` the model words a composed answer, every sentence cited and verified;
    a list it words with items missing is not the list: the quoted items answer instead, with a notice."""
    from rag.components import Components
    from rag.settings import load_settings

    home, texts = docs_home
    comp = Components(load_settings(home=home, llm_model_path=model_path, answer_style="generated"))
    tokens: list[str] = []
    summary = comp.answerer().ask("Tóm tắt bài viết về lễ hội hoa xuân", on_token=tokens.append)
    assert summary.mode == "generated" and "".join(tokens) == summary.timings["generated"], summary
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", summary.answer) if s]
    assert sentences and all(re.search(r"\[\d+\][.!?]$", s) for s in sentences), summary.answer
    assert {int(n) for n in re.findall(r"\[(\d+)\]", summary.answer)} == {c.n for c in summary.citations}
    for c in summary.citations:
        assert texts[Path(c.source).name][c.start:c.end] == c.text

    demands = comp.answerer().ask("Chủ tịch thành phố yêu cầu các sở ngành làm những gì?")
    assert demands.timings.get("generated"), "the model was asked"
    assert demands.mode == "composed" and "left out 2 of the 3 items" in demands.notice, demands
    assert len(demands.citations) == 3


def test_a_question_asking_for_a_name_is_a_fact_not_a_definition(docs_home):
    """"Tên gọi khác của X là gì?" asks for a name in the text; read as "what does X mean" it would be refused
    (no sentence defines "tên gọi khác của thẻ thư viện")."""
    home, texts = docs_home
    a = ask(home, "Tên gọi khác của thẻ thư viện là gì?")
    assert a["question_type"] == "factoid" and not a["refused"], a["answer"]
    assert "thẻ bạn đọc" in a["answer"]
    d = ask(home, "Bạn đọc là gì?")
    assert d["question_type"] == "definition" and d["answer"].startswith("Bạn đọc là người sử dụng"), d["answer"]


@pytest.mark.parametrize("question, row", [
    ("Ngành nào có chỉ tiêu cao nhất?", "Logistics cảng biển"),  # 1.200 is twelve hundred, the total is no ngành
    ("Ngành nào có số sinh viên nhập học ít nhất?", "Logistics cảng biển"),
    ("nganh nao co so nhap hoc nhieu nhat", "Khai thác máy tàu"),
    ("Dịch vụ nào có mức phí cao nhất?", "Cấp lại thẻ"),  # a bar table under its header row
])
def test_highest_or_lowest_is_the_table_row_with_that_figure(docs_home, question, row):
    home, texts = docs_home
    a = ask(home, question)
    assert not a["refused"] and len(a["citations"]) == 1, a["answer"]
    assert row in a["citations"][0]["text"], a["answer"]
    assert_whole_units(a, texts)


def test_a_model_rewrite_is_kept_only_when_well_formed_and_faithful():
    """The generator's standalone question (the fallback when no rule reads a follow-up) is kept only when it
    keeps the follow-up's own words, repeats no phrase and invents nothing (the rewrites of issue #25)."""
    from rag.conversation_state import acceptable_rewrite

    before = "Điều 14 quy định gì? Nghị quyết 11-NQ/TW ban hành ngày nào?"
    assert acceptable_rewrite("Khoản 3 Điều 14 quy định gì?", "còn khoản 3 thì sao?", before)
    assert not acceptable_rewrite("Nghị quyết 37 thì ban hành ngày nào ban hành ngày nào?",
                                  "Còn Nghị quyết 37 thì ban hành ngày nào?", before)  # a repeated phrase
    assert not acceptable_rewrite("Sinh viên có thể bị xử lý theo hình thức nào?", "còn khoản 3 thì sao?",
                                  before)  # drops "khoản 3", invents the rest
    assert not acceptable_rewrite("Khoản 3 Điều 14 quy định gì? [1]", "còn khoản 3 thì sao?", before)


def test_a_subject_ends_at_its_predicate_not_at_a_word_that_only_folds_to_one():
    """"Đảng" folds to the predicate word "đang", "cán bộ" to "cần", "bí mật" to "bị": typed with diacritics they
    are part of the subject a follow-up replaces or refers back to."""
    from rag.conversation_state import ConversationState

    state = ConversationState()
    state.add("Tổng Bí thư yêu cầu các cấp ủy Đảng làm gì?")
    assert state.resolve("Còn các bộ ngành, địa phương thì sao?")[0] == \
        "Tổng Bí thư yêu cầu các bộ ngành, địa phương làm gì?"
    state.add("Các cán bộ cơ quan có được nghỉ phép không?")
    assert state.resolve("còn sinh viên thì sao?")[0] == "Sinh viên có được nghỉ phép không?"


def test_which_in_order_is_answered_by_an_ordinal_word():
    """"… thứ mấy?" asks for a place in order: "đầu tiên" answers it though it is no figure; a sentence with
    neither is no answer."""
    from rag.question import understand
    from rag.rank import answer_type_ok

    question = understand("Hội nghị là hội nghị toàn quốc thứ mấy?").asks
    assert answer_type_ok(question, "Đây là hội nghị toàn quốc đầu tiên về phát triển vùng.")
    assert answer_type_ok(question, "Đây là hội nghị toàn quốc thứ 3 về phát triển vùng.")
    assert not answer_type_ok(question, "Hội nghị được tổ chức sáng 15-4 tại Hà Nội.")
