"""Each kind of question asked in the web chat (Chromium) over documents made here, as a user sees the answer:
the verdict first, items in document order, the items a long list left out shown on "thêm", a follow-up read as
the question it stands for, an unanswerable question refused.  The same documents as tests/test_question_types.py,
which checks the answers' JSON through the CLI."""
from __future__ import annotations

import re

import pytest

from conftest import served_app
from test_question_types import NEWS, REGULATION
from test_ui_browser import ask, browser, open_page  # noqa: F401  (browser is a fixture)

BOT = "#hd-chat .message.bot, #hd-chat [data-testid='bot']"


@pytest.fixture(scope="module")
def types_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("types-ui")
    docs = []
    for name, text in {"quy-che-thu-vien.txt": REGULATION, "le-hoi-hoa.txt": NEWS}.items():
        (d / name).write_text(text, encoding="utf-8")
        docs.append(d / name)
    with served_app(d, docs) as srv:
        yield srv


@pytest.fixture()
def chat(browser, types_server):  # noqa: F811
    with open_page(browser, types_server["url"]) as pg:
        turns = iter(range(100))

        def say(question: str | None = None) -> str:
            """Ask in the chat (None: press «Xem thêm»); the text of the answer bubble once its citation cards (or
            refusal) are shown."""
            turn = next(turns)
            if question is None:
                pg.locator("#hd-more").click()
                pg.wait_for_selector(f"#hd-cards [id^='hd-card-{turn}-'], #hd-cards #hd-refusal[data-turn='{turn}']")
            else:
                ask(pg, question, turn)
            return pg.locator(BOT).last.inner_text()

        say.page = pg
        yield say


def lines(answer: str) -> list[str]:
    return [x.strip() for x in answer.splitlines() if x.strip()]


def marks(answer: str) -> list[str]:
    """The clause/point marks of the quoted items, as shown ("1.", "a)"), in the order shown."""
    return [m.group(1) for x in lines(answer) if (m := re.match(r"^(\d+\.|[a-zđ]\))\s", x))]


def test_each_question_type_is_answered_in_its_shape(chat):
    yes_no = chat("Bạn đọc có được mang đồ ăn vào phòng đọc không?")
    assert yes_no.startswith("Không.") and "Mang đồ ăn vào phòng đọc" in yes_no

    article = chat("Điều 2 quy định gì?")
    assert marks(article) == ["1.", "2.", "3."], article  # the clauses, numbered as in the source

    procedure = chat("Thủ tục làm thẻ thư viện như thế nào?")
    assert marks(procedure) == ["1.", "2.", "3."], procedure
    assert procedure.index("điền phiếu đăng ký") < procedure.index("nộp một ảnh") < procedure.index("in thẻ")

    summary = chat("Tóm tắt bài viết về lễ hội hoa xuân")
    assert summary.index("sáng 2-2") < summary.index("50.000 lượt khách")  # key sentences in document order

    comparison = lines(chat("So sánh phí làm thẻ mới với phí cấp lại thẻ"))
    assert any("20.000" in x for x in comparison) and any("30.000" in x for x in comparison)

    definition = chat("Bạn đọc là gì?")
    assert definition.startswith("Bạn đọc là người sử dụng tài liệu và dịch vụ của thư viện"), definition


def test_a_long_list_shows_the_rest_on_more_and_a_follow_up_shows_how_it_was_read(chat):
    first = chat("Thư viện phục vụ những loại tài liệu nào?")
    assert marks(first) == ["a)", "b)", "c)", "d)", "đ)", "e)", "g)", "h)"], first
    assert lines(first)[8].startswith("… và 2 ý khác")  # its own line, not part of the last item
    more = chat.page.locator("#hd-more")
    more.get_by_text("Xem thêm 2 ý").wait_for()  # the chat offers what the answer left out
    assert marks(chat()) == ["i)", "k)"]
    more.wait_for(state="hidden")  # nothing is left out any more

    chat("Điều 2 quy định gì?")
    follow_up = chat("Còn Điều 3 thì sao?")
    # the question it was read as, shown: the article of the document the conversation is about
    assert lines(follow_up)[0] == "» Điều 3 của văn bản số 77/QĐ-TV quy định gì?", follow_up
    assert marks(follow_up) == ["a)", "b)", "c)"] and "Mang đồ ăn vào phòng đọc" in follow_up
    point = chat("còn điểm b thì sao?")  # a point of that article
    assert lines(point)[0] == "» Điểm b Điều 3 của văn bản số 77/QĐ-TV quy định gì?", point
    assert marks(point) == ["b)"] and "Mang đồ ăn vào phòng đọc" in point
    chat("Lễ hội hoa xuân được tổ chức khi nào?")
    pronoun = chat("lễ hội đó thu hút bao nhiêu lượt khách?")  # a reference back to the subject
    assert lines(pronoun)[0] == "» Lễ hội hoa xuân thu hút bao nhiêu lượt khách?" and "50.000" in pronoun, pronoun

    chat("Thư viện phục vụ những loại tài liệu nào?")
    more.wait_for()
    chat.page.locator("#hd-new").click()  # a new conversation has nothing left to show
    more.wait_for(state="hidden")


@pytest.mark.parametrize("question", [
    "Thủ tục mượn sách liên thư viện gồm những bước nào?",
    "Thư viện có mở cửa vào Chủ nhật không?",
    "Điều 9 quy định gì?",
])
def test_an_unanswerable_question_is_refused_in_the_chat(chat, question):
    answer = chat(question)
    assert "Không tìm thấy thông tin" in answer or answer.startswith("⚠ Tài liệu không nói rõ")
