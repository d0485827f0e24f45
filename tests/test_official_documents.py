"""Official documents as users hold them, built as real files here: a regulation PDF whose sentences wrap
across lines and pages, a scanned notice (OCR with Tesseract, for real), a DOCX and an HTML report with
merged-header tables, a decree with Chương/Điều/Khoản/Điểm, TCVN3 and VNI files. Asserted: what the user sees
(whole sentences quoted, the table row answered and cited, the page and OCR flag, the article label, the decree
found by its number with and without diacritics, offsets that slice the stored document text)."""
from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import docmaker as dm  # noqa: E402
from conftest import SEED, cli_json, run_cli  # noqa: E402

from ingest import legacy  # noqa: E402
from ingest.chunk import chunk_document, split_sentences  # noqa: E402
from ingest.load import load  # noqa: E402
from ingest.normalize import normalize  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("official") / "docs"
    d.mkdir()
    dm.write_regulation_pdf(d / "quy-che.pdf", filler=9)
    dm.write_scanned_pdf(d / "thong-bao.pdf", [dm.SCAN_TEXT])
    dm.write_report_docx(d / "bao-cao.docx")
    (d / "nghi-dinh.txt").write_text(dm.DECREE, encoding="utf-8")
    (d / "seed.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def home(corpus, tmp_path_factory) -> Path:
    h = tmp_path_factory.mktemp("official-home") / "data"
    s = cli_json("ingest", str(corpus), home=h)
    assert not s["failed"], s["failed"]
    return h


def _source_text(home: Path, doc_id: str) -> str:
    with sqlite3.connect(home / "hoidap.db") as db:
        return db.execute("SELECT text FROM documents WHERE doc_id=?", (doc_id,)).fetchone()[0]


def _ask(home: Path, question: str) -> dict:
    a = cli_json("ask", question, "--llm", "none", home=home)
    for c in a["citations"] + a["passages"]:
        assert _source_text(home, c["doc_id"])[c["start"]:c["end"]] == c["text"]  # offsets slice the source
    return a


# -- PDF text layer ------------------------------------------------------------------------------------

def test_pdf_reads_like_the_page(tmp_path):
    doc = load(dm.write_regulation_pdf(tmp_path / "q.pdf", filler=9))
    text = doc.text
    assert len(doc.page_starts) >= 2
    assert "Trang 1" not in text and "Trang 2" not in text  # page numbers dropped
    assert "Trường Đại học Kỹ thuật Miền Trung - " not in text  # the running header dropped
    assert dm.WRAPPED_SENTENCE in text  # a sentence wrapped over three lines reads as one
    spans = [text[a:b] for a, b in split_sentences(text)]
    assert "2. " + dm.WRAPPED_SENTENCE in spans  # the whole clause, its number included
    # a paragraph that runs on to the next page is joined across the break, not cut at it
    assert any(text[p - 1] == " " and text[p].islower() for p in doc.page_starts[1:])
    for s in spans:  # no sentence ends at a line wrap: each ends with punctuation or is a heading/title line
        assert s[-1] in ".;:!?" or len(s) < 90, s


def test_wrapped_sentence_answered_whole_with_page_and_article(home):
    a = _ask(home, "Nếu có sự cố trong phòng thí nghiệm thì sinh viên phải làm gì?")
    assert not a["refused"]
    c = a["citations"][0]
    assert c["text"] == "2. " + dm.WRAPPED_SENTENCE  # the whole clause, never its first line only
    assert c["source"].endswith("quy-che.pdf") and c["page"] == 2
    assert c["label"] == "Chương III › Điều 14 › Khoản 2"
    human = run_cli("ask", "Nếu có sự cố trong phòng thí nghiệm thì sinh viên phải làm gì?", "--llm", "none",
                    home=home).stdout
    assert "quy-che.pdf, trang 2, Chương III › Điều 14 › Khoản 2" in human


# -- OCR -----------------------------------------------------------------------------------------------

def test_scanned_pdf_answered_from_ocr_with_its_page(home):
    a = _ask(home, "Công ty Cấp nước tạm dừng cấp nước ở phường nào?")
    assert not a["refused"]
    c = a["citations"][0]
    assert c["source"].endswith("thong-bao.pdf") and c["page"] == 1 and c["ocr"] is True
    assert "phường An Mỹ" in c["text"] and c["text"].endswith("năm 2025.")


def test_image_file_read_by_ocr(tmp_path):
    img = dm.render_page(dm.SCAN_TEXT[2:5])
    img.save(tmp_path / "scan.png")
    doc = load(tmp_path / "scan.png")
    assert doc.ocr_pages == [1]
    assert "tạm dừng cấp nước sinh hoạt" in doc.text


def test_scan_without_tesseract_is_named_and_the_run_goes_on(tmp_path, corpus):
    d = tmp_path / "in"
    d.mkdir()
    (d / "scan.pdf").write_bytes((corpus / "thong-bao.pdf").read_bytes())
    (d / "ok.txt").write_text(dm.DECREE, encoding="utf-8")
    env = {"PATH": str(Path(sys.executable).parent)}  # no /usr/bin: no tesseract
    s = cli_json("ingest", str(d), home=tmp_path / "data", env=env)
    assert [Path(p).name for p in s["added"]] == ["ok.txt"]
    (failed,) = s["failed"]
    assert failed["path"].endswith("scan.pdf")
    assert "Tesseract OCR is not installed" in failed["error"] and "tesseract-ocr-vie" in failed["error"]


def test_image_that_is_not_a_page_gets_one_message(tmp_path):
    from PIL import Image

    Image.new("RGB", (400, 300), (30, 120, 200)).save(tmp_path / "photo.jpg")  # a plain photo: no text
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not an image" * 10)
    s = cli_json("ingest", str(tmp_path / "photo.jpg"), str(tmp_path / "broken.png"), home=tmp_path / "d",
                 check=False)
    errors = {Path(f["path"]).name: f["error"] for f in s["failed"]}
    assert "no text found" in errors["photo.jpg"]
    assert "corrupt or unreadable image" in errors["broken.png"]


# -- tables --------------------------------------------------------------------------------------------

def test_docx_table_row_answered_and_cited_whole(home):
    a = _ask(home, "Ngành An toàn thông tin có bao nhiêu thí sinh trúng tuyển?")
    assert not a["refused"]
    c = a["citations"][0]
    assert c["source"].endswith("bao-cao.docx")
    assert c["text"] == "Ngành: An toàn thông tin; Chỉ tiêu: 120; Kết quả › Trúng tuyển: 131; Kết quả › Nhập học: 118"


def test_html_table_with_merged_headers_one_line_per_row(tmp_path):
    doc = load(dm.write_report_html(tmp_path / "r.html"))
    lines = doc.text.splitlines()
    assert "Ngành: Kỹ thuật điện; Chỉ tiêu: 150; Kết quả › Trúng tuyển: 142; Kết quả › Nhập học: 127" in lines
    assert "Ngành: Tổng cộng; Chỉ tiêu: 470; Kết quả › Trúng tuyển: 487; Kết quả › Nhập học: 440" in lines
    assert "Trang chủ" not in doc.text  # navigation is not content


def test_huge_table_is_read_row_by_row(tmp_path):
    rows = "".join(f"<tr><td>Hộ {i}</td><td>{i * 7 % 1000}</td></tr>" for i in range(10_000))
    (tmp_path / "big.html").write_text(f"<html><body><h1>Danh sách hộ</h1><table><tr><th>Hộ</th><th>Số tiền</th>"
                                       f"</tr>{rows}</table></body></html>", encoding="utf-8")
    lines = load(tmp_path / "big.html").text.splitlines()
    assert "Hộ: Hộ 9999; Số tiền: 993" in lines and sum(x.startswith("Hộ: ") for x in lines) == 10_000


# -- legal structure and document numbers ------------------------------------------------------------

def test_decree_chunks_carry_their_article_path_and_never_mix_articles():
    norm = normalize(dm.DECREE)
    chunks = chunk_document(norm, lambda s: len(s.split()), 40)
    by_text = {c.text: c for c in chunks}
    point = next(c for t, c in by_text.items() if "Không chấp hành hiệu lệnh" in t)
    assert any(label == "Chương II › Điều 5 › Khoản 1 › Điểm a" for _, label in point.marks)
    clause2 = next(c for t, c in by_text.items() if t.startswith("2. Phạt tiền từ 6.000.000"))
    assert clause2.label == "Chương II › Điều 5 › Khoản 2"
    assert any("Điểm đ" in label for c in chunks for _, label in c.marks)  # the Vietnamese letter đ
    for c in chunks:  # "ĐIỀU  5." (capitals, two spaces) is an article too; no chunk holds two articles
        articles = {label.split(" › ")[1] for _, label in c.marks if "Điều" in label}
        assert len(articles) <= 1, (c.text, c.marks)


def test_decree_found_by_its_number_with_and_without_diacritics(home):
    docs = cli_json("docs", "list", home=home)
    decree = next(d for d in docs if d["source"].endswith("nghi-dinh.txt"))
    assert decree["number"] == "100/2019/NĐ-CP" and decree["doc_type"] == "NGHỊ ĐỊNH"
    assert "100/2019/NĐ-CP" in run_cli("docs", "list", home=home).stdout
    for q in ("Nghị định 100/2019 quy định hiệu lực thi hành từ ngày nào?",
              "nghi dinh 100 2019 co hieu luc thi hanh tu ngay nao"):
        a = _ask(home, q)
        assert a["passages"][0]["source"].endswith("nghi-dinh.txt"), (q, a["passages"][0])


def test_question_naming_the_decree_answered_without_or_with_some_diacritics(home):
    # typed without diacritics, and with diacritics on some words only (a half-typed question was refused)
    for q in ("nghi dinh 100/2019 co hieu luc tu ngay nao", "Nghị định 100 có hieu luc tu ngày nào?"):
        a = _ask(home, q)
        assert not a["refused"], q
        cited = a["citations"][0]
        assert "01 tháng 01 năm 2020" in cited["text"] and cited["source"].endswith("nghi-dinh.txt"), (q, cited)


def test_accent_free_question_naming_a_resolution_finds_its_passage(home):
    a = _ask(home, "nghi quyet 37 ban hanh ngay nao")
    assert not a["refused"]
    assert "37-NQ/TW" in a["citations"][0]["text"] and "01/7/2004" in a["citations"][0]["text"]


def test_article_question_retrieves_that_article_of_the_named_document(home):
    a = _ask(home, "Điều 14 quy định gì?")
    assert a["passages"][0]["source"].endswith("quy-che.pdf")
    assert "Điều 14" in a["passages"][0]["label"]
    # the answer quotes the article's content (its clauses), not its title line
    assert [c["label"] for c in a["citations"][:3]] == [f"Chương III › Điều 14 › Khoản {k}" for k in (1, 2, 3)]
    assert "2. " + dm.WRAPPED_SENTENCE in [c["text"] for c in a["citations"]]
    a = _ask(home, "khoan 2 dieu 5 nghi dinh 100 noi gi")
    top = a["passages"][0]
    assert top["source"].endswith("nghi-dinh.txt") and "Điều 5" in top["label"]


# -- legacy encodings ----------------------------------------------------------------------------------

PLAIN = "Điều 3. Sinh viên được hưởng chế độ ưu đãi khi học tập tại Trường; người học phải đóng học phí đúng hạn."


def test_tcvn3_and_vni_text_files_converted(tmp_path):
    (tmp_path / "abc.txt").write_bytes(legacy.to_tcvn3(PLAIN))
    (tmp_path / "vni.txt").write_bytes(legacy.to_vni(PLAIN))
    tcvn3, vni = load(tmp_path / "abc.txt"), load(tmp_path / "vni.txt")
    assert tcvn3.encoding == "tcvn3" and vni.encoding == "vni"
    assert vni.text == PLAIN
    assert tcvn3.text == PLAIN.replace("Điều", "Điều")  # TCVN3 has đ/Đ: nothing lost in this text


def test_docx_in_legacy_fonts_converted(tmp_path):
    import docx

    d = docx.Document()
    p = d.add_paragraph()
    r = p.add_run(legacy.to_tcvn3("quy định chung").decode("cp1252"))
    r.font.name = ".VnTimeH"  # the capitals font of TCVN3
    p2 = d.add_paragraph()
    p2.add_run(legacy.to_vni(PLAIN).decode("cp1252")).font.name = "VNI-Times"
    d.save(str(tmp_path / "old.docx"))
    text = load(tmp_path / "old.docx").text
    assert text.splitlines() == ["QUY ĐỊNH CHUNG", PLAIN]


def test_encoding_that_cannot_be_told_apart_names_its_candidates(tmp_path):
    # "ñi" reads "đi" in VNI and "ủi" in TCVN3: both Vietnamese, so the file is named, not guessed
    (tmp_path / "x.txt").write_bytes(b"\xf1i " * 50)
    (tmp_path / "ok.txt").write_bytes(legacy.to_vni(PLAIN))
    s = cli_json("ingest", str(tmp_path), home=tmp_path / "d")
    assert [Path(p).name for p in s["added"]] == ["ok.txt"]
    assert "cannot be told apart (candidates: TCVN3, VNI)" in s["failed"][0]["error"]


def test_old_word_doc_gets_one_clear_message(tmp_path):
    (tmp_path / "cu.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    s = cli_json("ingest", str(tmp_path / "cu.doc"), home=tmp_path / "d", check=False)
    assert "save it as .docx" in s["failed"][0]["error"]


def test_encrypted_pdf_named(tmp_path):
    dm.write_regulation_pdf(tmp_path / "locked.pdf", password="mat-khau")
    s = cli_json("ingest", str(tmp_path / "locked.pdf"), home=tmp_path / "d", check=False)
    assert "encrypted PDF (password protected)" in s["failed"][0]["error"]


def test_mixed_pdf_ocr_only_the_scanned_page(tmp_path):
    doc = load(dm.write_mixed_pdf(tmp_path / "mixed.pdf"))
    assert doc.ocr_pages == [2]
    page2 = doc.text[doc.page_starts[1]:]
    assert "Điều 1. Phạm vi điều chỉnh" in doc.text[:doc.page_starts[1]]
    assert "tạm dừng cấp nước" in page2 and "phường An Mỹ" in page2


def test_two_column_page_read_column_by_column(tmp_path):
    text = load(dm.write_two_column_pdf(tmp_path / "cols.pdf")).text
    left, right = dm.TWO_COLUMNS
    assert text.count(left) == 3 and text.count(right) == 3  # each paragraph whole, not interleaved
    assert text.index("BẢN TIN") < text.index(left) and text.rindex(left) < text.index(right)


def test_documents_indexed_in_an_older_format_are_read_again(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "nd.txt").write_text(dm.DECREE, encoding="utf-8")
    home = tmp_path / "data"
    cli_json("ingest", str(tmp_path / "in"), home=home)
    with sqlite3.connect(home / "hoidap.db") as db:  # as a data directory written before labels existed
        db.execute("UPDATE documents SET meta='{}'")
        db.execute("UPDATE chunks SET label='', marks='[]'")
    s = cli_json("ingest", str(tmp_path / "in"), home=home)
    assert len(s["updated"]) == 1 and not s["unchanged"]
    with sqlite3.connect(home / "hoidap.db") as db:
        labels = [r[0] for r in db.execute("SELECT label FROM chunks")]
    assert any("Điều 5" in x for x in labels)
    assert cli_json("ingest", str(tmp_path / "in"), home=home)["unchanged"]  # and only once


def test_pdf_ruled_table_one_line_per_row(tmp_path):
    doc = load(dm.write_table_pdf(tmp_path / "bang.pdf"))
    lines = doc.text.splitlines()
    assert "Ngành: An toàn thông tin; Chỉ tiêu: 120; Trúng tuyển: 131; Nhập học: 118" in lines
    assert lines.index(dm.ADMISSIONS_INTRO) < lines.index("Ngành: Tổng cộng; Chỉ tiêu: 470; Trúng tuyển: 487; "
                                                           "Nhập học: 440")
    assert "Số sinh viên nhập học đạt 93,6% số thí sinh trúng tuyển." in lines  # the text after the table


def test_chat_citation_shows_page_ocr_and_article(home):
    """The chat's citation card and source line show the page, the OCR badge and the article label."""
    from ui.render import answer_markdown, cards_html

    p = _ask(home, "Nếu có sự cố trong phòng thí nghiệm thì sinh viên phải làm gì?")
    p.update(question="Nếu có sự cố trong phòng thí nghiệm thì sinh viên phải làm gì?", citations=[
        {**c, "title": "", "heading": ""} for c in p["citations"]])
    assert "quy-che.pdf, trang 2, Chương III › Điều 14 › Khoản 2" in answer_markdown(p, 0)
    assert "Chương III › Điều 14 › Khoản 2" in cards_html(p, 0)
    p = _ask(home, "Công ty Cấp nước tạm dừng cấp nước ở phường nào?")
    p.update(question="?", citations=[{**c, "title": "", "heading": ""} for c in p["citations"]])
    assert "trang 1 (OCR)" in answer_markdown(p, 0) and 'class="hd-ocr"' in cards_html(p, 0)


def test_hard_wrapped_text_file_sentence_is_one_unit():
    """A .txt file wrapped at 70 columns (as exported from e-mail or old editors): a sentence never ends at a
    line wrap, while a list item and a new line in capitals still start a new unit."""
    text = ("Thông báo\nNếu có sự cố xảy ra trong phòng thí nghiệm, sinh viên phải báo cáo\nngay cho cán bộ "
            "hướng dẫn trong vòng 24 giờ. Sau đó ghi vào sổ.\n1. Khoản một.\nHọp lúc 8 giờ")
    spans = [text[a:b] for a, b in split_sentences(text)]
    assert spans == ["Thông báo", "Nếu có sự cố xảy ra trong phòng thí nghiệm, sinh viên phải báo cáo\nngay cho "
                     "cán bộ hướng dẫn trong vòng 24 giờ.", "Sau đó ghi vào sổ.", "1. Khoản một.", "Họp lúc 8 giờ"]


def test_mixed_pdf_without_tesseract_indexes_its_text_pages_with_a_warning(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    dm.write_mixed_pdf(d / "mixed.pdf")
    env = {"PATH": str(Path(sys.executable).parent)}  # no /usr/bin: no tesseract
    s = cli_json("ingest", str(d), home=tmp_path / "data", env=env)
    assert [Path(p).name for p in s["added"]] == ["mixed.pdf"] and not s["failed"]
    (w,) = s["warnings"]
    assert "page 2 has no text layer and was not indexed" in w["warning"] and "tesseract-ocr" in w["warning"]
    human = run_cli("ingest", str(d), "--reembed", home=tmp_path / "data", env=env).stdout
    assert "warning: " in human and "mixed.pdf" in human


def test_a_collection_made_again_never_reads_the_old_saved_lexical_index(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "nd.txt").write_text(dm.DECREE, encoding="utf-8")
    (tmp_path / "b" / "tb.txt").write_text("\n".join(dm.SCAN_TEXT), encoding="utf-8")
    home = tmp_path / "data"
    cli_json("ingest", str(tmp_path / "a"), home=home)
    assert cli_json("collections", "delete", "default", home=home)
    cli_json("ingest", str(tmp_path / "b"), home=home)  # same name, same number of changes as before
    from ingest.store import Store

    (coll,) = [Store(home).collection(c["name"], c["embed_model"]) for c in Store(home).collections()]
    hits = coll.lexical_search("Công ty Cấp nước tạm dừng cấp nước ở phường nào", 5)
    assert hits and set(coll.chunks([k for k, _ in hits])) == {k for k, _ in hits}  # every key is a live chunk
