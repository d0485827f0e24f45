"""The web chat's pure parts: upload safety, serving policy, escaping, highlighting (no server, no model)."""
import pytest

from rag.highlight import supporting_spans
from rag.doors.api import check_serving, is_loopback, parse_auth
from ui.render import answer_markdown, cards_html, source_html
from rag.service.uploads import UploadError, collection_dir, safe_name, store_upload


@pytest.mark.parametrize("name,expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    ("/abs/path/tài liệu.pdf", "tài liệu.pdf"),
    ("a<b>|c?.txt", "a_b_c_.txt"),
    ("...hidden.txt", "hidden.txt"),
])
def test_safe_name_strips_paths_and_odd_characters(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["..", "/", "", "...", "a/.."])
def test_safe_name_refuses_empty_names(name):
    with pytest.raises(UploadError):
        safe_name(name)


def test_store_upload_stays_inside_the_data_dir(tmp_path):
    src = tmp_path / "x"
    src.write_text("Xin chào", encoding="utf-8")
    dest = collection_dir(tmp_path / "data", "../../outside")
    assert (tmp_path / "data").resolve() in dest.parents
    p = store_upload(src, "../../../escape.txt", dest, 1)
    assert p.parent == dest and p.name == "escape.txt" and p.read_text(encoding="utf-8") == "Xin chào"
    assert not (tmp_path / "escape.txt").exists()


def test_store_upload_checks_type_and_size(tmp_path):
    src = tmp_path / "x"
    src.write_bytes(b"MZ\x00\x00binary")
    with pytest.raises(UploadError, match="không được hỗ trợ"):
        store_upload(src, "virus.exe", tmp_path / "d", 1)
    with pytest.raises(UploadError, match="không khớp"):
        store_upload(src, "fake.pdf", tmp_path / "d", 1)
    with pytest.raises(UploadError, match="không khớp"):
        store_upload(src, "fake.txt", tmp_path / "d", 1)
    big = tmp_path / "big"
    big.write_bytes(b"a" * 2_000_000)
    with pytest.raises(UploadError, match="quá lớn"):
        store_upload(big, "big.txt", tmp_path / "d", 1)


def test_serving_policy_needs_a_login_off_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert check_serving("127.0.0.1", None) is None
    assert check_serving("0.0.0.0", "an:mật-khẩu") == ("an", "mật-khẩu")
    with pytest.raises(ValueError, match="without a login"):
        check_serving("0.0.0.0", None)
    with pytest.raises(ValueError):
        parse_auth("no-colon")


def _payload(text, answer="Hội nghị được tổ chức sáng 15-4 [1].", refused=False):
    c = {"n": 1, "doc_id": "d", "source": "/x/<b>evil</b>.txt", "title": "<i>t</i>", "text": text, "start": 0,
         "end": len(text), "score": 0.5, "page": None, "heading": "<h1>"}
    return {"question": "Hội nghị tổ chức khi nào?", "answer": answer, "refused": refused, "mode": "extractive",
            "notice": "", "citations": [] if refused else [c], "passages": [c]}


def test_document_text_is_escaped_everywhere():
    text = "Hội nghị được tổ chức sáng 15-4. <script>alert(1)</script> <img src=x onerror=alert(2)>"
    p = _payload(text)
    for out in (cards_html(p, 0), answer_markdown(p, 0), source_html("<t>", "/a/<s>.txt", text, 0, 10)):
        assert "<script" not in out and "<img" not in out and "<b>evil" not in out and "<h1>" not in out
    assert "&lt;script&gt;" in cards_html(p, 0)


def test_answer_markers_link_to_cards_and_refusal_is_marked():
    p = _payload("Hội nghị được tổ chức sáng 15-4.")
    md = answer_markdown(p, 3)
    assert 'href="#hd-card-3-1"' in md and "15-4" in md.split("title=")[1]
    r = _payload("x", answer="Không tìm thấy thông tin này trong tài liệu.", refused=True)
    assert "hd-refusal" in answer_markdown(r, 0) and 'id="hd-refusal"' in cards_html(r, 0)


def test_supporting_words_are_highlighted():
    text = "Đây là hội nghị đầu tiên. Hội nghị được tổ chức sáng 15-4 tại Hà Nội."
    spans = supporting_spans(text, "Hội nghị được tổ chức sáng 15-4 [1].", "khi nào?")
    words = [text[a:b] for a, b in spans]
    assert any("15-4" in w for w in words) and any("tổ chức" in w for w in words)
    assert not any("Đây" in w for w in words)
    html = cards_html(_payload(text), 0)
    assert '<mark class="hd-hl">' in html and "15-4</mark>" in html


def test_card_shows_pdf_page_and_heading():
    p = _payload("Hội nghị được tổ chức sáng 15-4.")
    p["citations"][0].update(page=2, heading="Phần I")
    html = cards_html(p, 0)
    assert "trang 2" in html and "Phần I" in html
