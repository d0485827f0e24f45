"""How official documents are READ (issue #23), on real files: a saved law web page with its site chrome
and inline anchors, a consolidated-law PDF with raised footnote markers and a signature block, a scanned page
whose hidden text layer lost its diacritics, with a ruled table (OCR'd for real), and `hoidap docs show` through the CLI; plus the
genuine published documents in ../shared/data/genuine when they are there."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import docmaker as dm  # noqa: E402
from conftest import ROOT, cli_json, run_cli  # noqa: E402

from ingest.chunk import chunk_document  # noqa: E402
from ingest.load import load  # noqa: E402
from ingest.normalize import normalize  # noqa: E402
from ingest.structure import header, heading_of  # noqa: E402

GENUINE = Path(os.environ.get("HOIDAP_PUBLIC_DATA") or ROOT.parent / "shared" / "data") / "genuine" / "docs"


def _chunks(doc):
    return chunk_document(normalize(doc.text), lambda s: len(s.split()), 160, 1, doc.page_starts or None)


def _headings(text: str) -> list[str]:
    return [f"{h[1]} {h[2]}" for h in map(heading_of, text.splitlines()) if h]


def test_law_page_read_without_the_site_and_with_every_heading(tmp_path):
    doc = load(dm.write_law_page(tmp_path / "luat.html"))
    for chrome in ("Trang chủ", "Hiệu lực: Còn hiệu lực", "Mục lục", "Đơn vị chủ quản", "Điều 99"):
        assert chrome not in doc.text
    assert _headings(doc.text) == ["Chương I", "Điều 1", "Điều 2", "Chương II", "Điều 3", "Điều 4"]  # once each
    h = header(doc.text)
    assert (h.number, h.title) == ("88/2025/QH15", "Luật Tài nguyên nước ngầm")
    labels = {c.label for c in _chunks(doc)}
    assert {"Chương I › Điều 1", "Chương II › Điều 3 › Khoản 1–2", "Chương II › Điều 4"} <= labels


def test_footnotes_stay_notes_and_the_signature_is_no_article_item(tmp_path):
    doc = load(dm.write_footnoted_pdf(tmp_path / "vbhn.pdf"))
    assert "Nghị quyết số 43/2021/QH15[1], áp dụng từ ngày 01 tháng 3 năm 2026." in doc.text  # not "QH151"
    assert "130.000 đồng mỗi tháng[2]." in doc.text
    chunks = _chunks(doc)

    def label(start: str) -> str:
        return next(c.label for c in chunks if c.text.startswith(start))

    assert label("[1] Nghị quyết") == "Chú thích 1" and label("[2] Khoản này") == "Chú thích 2"
    assert label("Nơi nhận:") == "" and label("Luật này đã được") == ""
    assert label("Điều 2. Mức phí") == "Điều 2 › Khoản 1–2"


def test_scan_with_a_garbled_text_layer_is_read_by_ocr_with_its_header_and_table(tmp_path):
    doc = load(dm.write_scan_with_bad_text_layer(tmp_path / "tb.pdf"))
    assert doc.ocr_pages == [1] and "CHÍNH PHỦ" in doc.text
    h = header(doc.text)
    assert (h.number, h.doc_type) == ("153/TB-VPCP", "THÔNG BÁO")
    assert h.title == "Thông báo kết luận của Thủ tướng về phòng chống hạn hán" and h.title_confidence >= 0.8
    # the ruled table: rows with their column headers, not OCR fragments
    assert "Nhiệm vụ: Rà soát hồ chứa nước; Cơ quan chủ trì: Bộ Nông nghiệp; Năm: 2024" in doc.text
    assert "Nhiệm vụ: Khoan giếng dự phòng; Cơ quan chủ trì: Tỉnh Ninh Thuận; Năm: 2025" in doc.text


def test_a_doubtful_number_is_left_empty_never_one_the_body_cites():
    ocr_layer = ("CHINH PHU CQNG HOA XA HOI CHU NGHIA VIET NAM\n-,S6: '/gg/NQ-CP Ha N6i ngay £3 thdng 12\n"
                 "NGHỊ QUYẾT\nBan hành Chương trình hành động thực hiện\nNghị quyết số 26-NQ/TW của Bộ Chính trị")
    h = header(ocr_layer)
    assert h.number == "" and h.number_confidence == 0.0


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("reading")
    dm.write_law_page(d / "luat-nuoc-ngam.html")
    dm.write_footnoted_pdf(d / "vbhn-phi.pdf")
    h = d / "home"
    s = cli_json("ingest", str(d), home=h)
    assert not s["failed"], s["failed"]
    return h


def test_docs_show_gives_number_title_pages_and_labelled_chunks(home):
    shown = run_cli("docs", "show", "luat-nuoc-ngam.html", home=home).stdout
    assert re.search(r"number\s+88/2025/QH15\s+\(confidence 0\.\d\d\)", shown)
    assert re.search(r"title\s+Luật Tài nguyên nước ngầm\s+\(confidence 1\.00\)", shown)
    assert "Chương II › Điều 3 › Khoản 1–2" in shown
    d = cli_json("docs", "show", "vbhn-phi.pdf", home=home)
    assert d["pages"] == 1 and [c["page"] for c in d["chunk_list"]] == [1] * len(d["chunk_list"])
    assert "Chú thích 2" in [c["label"] for c in d["chunk_list"]]
    by_id = cli_json("docs", "show", d["doc_id"], home=home)
    assert by_id["chunk_list"] == d["chunk_list"]
    missing = run_cli("docs", "show", "khong-co.pdf", home=home, check=False)
    assert missing.returncode == 1 and "no document 'khong-co.pdf'" in missing.stderr


@pytest.mark.skipif(not GENUINE.is_dir(), reason=f"genuine documents absent ({GENUINE}); set HOIDAP_PUBLIC_DATA")
@pytest.mark.parametrize("name, number, title, articles, chapters", [
    ("tt-56-2025-tt-bct.vbpl.html", "56/2025/TT-BCT", "Thông tư quy định về quy trình kiểm tra chuyên ngành Công Thương",
     12, 3),
    ("nq-104-2025-ubtvqh15.vbpl.html", "104/2025/UBTVQH15", "Nghị quyết ban hành quy chế làm việc mẫu", 3 + 31, 5),
])
def test_genuine_law_pages(name, number, title, articles, chapters):
    doc = load(GENUINE / name)
    heads = _headings(doc.text.split("PHỤ LỤC")[0])  # the annex forms hold "Điều 1." lines of model decisions
    assert sum(h.startswith("Điều") for h in heads) == articles
    assert sum(h.startswith("Chương") for h in heads) == chapters
    h = header(doc.text)
    assert h.number == number and h.title.startswith(title)
    assert "Hiệu lực:" not in doc.text and "Trang chủ" not in doc.text
