"""Issue 3: every supported format, encodings, folders with globs, and bad input named in the summary.

One mixed folder is ingested once through the CLI (as a user does); the tests read what the user sees:
the --json summary, `docs list`, and the stored chunks.
"""
from __future__ import annotations

import os
import sqlite3
import unicodedata
from pathlib import Path

import pytest

from conftest import cli_json, run_cli

VI = "Hội nghị quán triệt Nghị quyết 11-NQ/TW được tổ chức ngày 15-4 tại TP. Thái Nguyên."


def make_pdf(pages: list[str]) -> bytes:
    """A minimal PDF with a real text layer (Helvetica, ASCII text), one page per string."""
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    kids = []
    n = 4
    for text in pages:
        stream = b"BT /F1 12 Tf 72 720 Td (" + text.encode("ascii") + b") Tj ET"
        objs[n] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
        objs[n + 1] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>" % n)
        kids.append(n + 1)
        n += 2
    objs[2] = b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % len(kids)
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for i in sorted(objs):
        offsets[i] = len(out)
        out += b"%d 0 obj\n" % i + objs[i] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for i in sorted(objs):
        out += b"%010d 00000 n \n" % offsets[i]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letters precomposed, tones as combining marks."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in d if c not in "\u0300\u0301\u0303\u0309\u0323"))
            out += (base + "".join(c for c in d if c in "\u0300\u0301\u0303\u0309\u0323")).encode("cp1258")
    return out


def make_docx(path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Chương II", level=1)
    d.add_heading("Điều 15. Quyền của người lao động", level=2)
    d.add_paragraph("Người lao động được nghỉ hằng năm mười hai ngày làm việc.")
    d.add_paragraph("Trường hợp làm việc trong điều kiện nặng nhọc thì được nghỉ mười bốn ngày.")
    d.save(path)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("formats")
    c = root / "docs"
    (c / "sub" / "deeper").mkdir(parents=True)
    (c / "skip").mkdir()
    (c / "a.txt").write_text(VI + "\nĐây là văn bản thuần.", encoding="utf-8")
    (c / "b.md").write_text("# Tiêu đề Markdown\n\nNội dung về thủy điện Hòa Bình.\n", encoding="utf-8")
    (c / "c.html").write_text(
        "<html><head><title>Trang tin</title><script>var secret='KICHBAN_KHONG_LAY';</script>"
        "<style>.x{color:red}</style></head><body><nav><a href='/'>MENU_DIEU_HUONG</a></nav>"
        "<article><h1>Tin tức địa phương</h1><p>Ủy ban nhân dân tỉnh đã phê duyệt quy hoạch vùng chè "
        "Tân Cương với diện tích hơn một nghìn héc-ta trong giai đoạn mới.</p><p>Người dân phấn khởi "
        "vì giá chè tăng cao so với năm trước, đời sống được cải thiện rõ rệt.</p></article>"
        "<footer>FOOTER</footer></body></html>", encoding="utf-8")
    (c / "sub" / "d.pdf").write_bytes(make_pdf(["Page one talks about apples.", "Page two talks about oranges.",
                                                "Page three talks about grapes."]))
    make_docx(c / "sub" / "deeper" / "e.docx")
    (c / "sub" / "f16.txt").write_bytes("Văn bản UTF-16 có dấu: Đà Nẵng.".encode("utf-16"))
    (c / "sub" / "g1258.txt").write_bytes(cp1258("Văn bản Windows-1258: Hà Nội mùa thu, những người ở phố cổ."))
    (c / "skip" / "h.txt").write_text("không được lấy", encoding="utf-8")
    (c / "notes.log").write_text("unsupported extension", encoding="utf-8")
    return c


@pytest.fixture(scope="module")
def ingested(corpus, tmp_path_factory):
    home = tmp_path_factory.mktemp("fmt-home") / "data"
    summary = cli_json("ingest", str(corpus), "--exclude", "*/skip/*", home=home)
    return home, summary


def _chunks(home: Path, name: str) -> list[dict]:
    db = sqlite3.connect(home / "hoidap.db")
    rows = db.execute('SELECT c.text, c.start, c."end", c.page, c.heading, d.text, d.title FROM chunks c JOIN documents d '
                      "ON d.doc_id=c.doc_id AND d.collection=c.collection WHERE d.source LIKE ? ORDER BY c.idx",
                      ("%/" + name,)).fetchall()
    return [dict(zip(("text", "start", "end", "page", "heading", "doc", "title"), r)) for r in rows]


def test_folder_recursive_with_exclude_glob(ingested):
    home, s = ingested
    names = sorted(Path(p).name for p in s["added"])
    assert names == ["a.txt", "b.md", "c.html", "d.pdf", "e.docx", "f16.txt", "g1258.txt"], s
    assert s["failed"] == [] and s["chunks"] >= 7
    docs = cli_json("docs", "list", home=home)
    assert len(docs) == 7 and all(d["status"] == "ok" and d["chunks"] >= 1 for d in docs)


def test_include_glob_takes_only_matching_files(corpus, tmp_path):
    s = cli_json("ingest", str(corpus), "--include", "*.md", "--include", "*.docx", home=tmp_path / "d")
    assert sorted(Path(p).name for p in s["added"]) == ["b.md", "e.docx"]


def test_html_main_text_without_nav_script_or_style(ingested):
    home, _ = ingested
    chunks = _chunks(home, "c.html")
    body = " ".join(c["text"] for c in chunks)
    assert "phê duyệt quy hoạch vùng chè" in body
    for junk in ("KICHBAN_KHONG_LAY", "MENU_DIEU_HUONG", "color:red"):
        assert junk not in body


def test_pdf_chunks_carry_their_page_number(ingested):
    home, _ = ingested
    chunks = _chunks(home, "d.pdf")
    pages = {c["page"] for c in chunks}
    by_word = {w: next(c["page"] for c in chunks if w in c["text"]) for w in ("apples", "oranges", "grapes")}
    assert by_word == {"apples": 1, "oranges": 2, "grapes": 3}, chunks
    assert pages == {1, 2, 3}


def test_pdf_page_shown_in_answer(ingested):
    home, _ = ingested
    a = cli_json("ask", "oranges", "--llm", "none", "--retriever", "bm25", home=home)
    pdf = [c for c in a["passages"] + a["citations"] if c["source"].endswith("d.pdf")]
    assert pdf, a
    out = run_cli("ask", "oranges", "--llm", "none", "--retriever", "bm25", home=home).stdout
    assert "d.pdf, trang 2" in out


def test_docx_headings_become_heading_path(ingested):
    home, _ = ingested
    chunks = _chunks(home, "e.docx")
    c = next(c for c in chunks if "mười hai ngày" in c["text"])
    assert c["heading"] == "Chương II > Điều 15. Quyền của người lao động"
    assert "Điều 15." in c["text"]  # the heading is kept with its text


def test_utf16_and_windows1258_decoded(ingested):
    home, _ = ingested
    assert "Đà Nẵng" in _chunks(home, "f16.txt")[0]["text"]
    c = _chunks(home, "g1258.txt")[0]
    assert "Hà Nội mùa thu" in c["text"]  # cp1258 decodes to combining marks; indexed text is NFC
    assert unicodedata.normalize("NFC", c["doc"][c["start"]:c["end"]]) == c["text"]


def test_offsets_point_into_original_text(ingested):
    home, _ = ingested
    for name in ("a.txt", "b.md", "e.docx"):
        for c in _chunks(home, name):
            assert c["doc"][c["start"]:c["end"]] == c["text"]


# -- bad input: each named with its reason, nothing lost, exit code --------------------------------

VNI = b"Vie\xe4t Nam la\xf8 mo\xe4t quo\xe1c gia. Ha\xf8 No\xe4i la\xf8 thu\xfb \xf1o\xe2. " * 20
TCVN3 = "ViÖt Nam lµ mét quèc gia. Hµ Néi lµ thñ ®«. ".encode("cp1252", errors="replace") * 20


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    c = root / "in"
    c.mkdir()
    (c / "good.txt").write_text(VI, encoding="utf-8")
    (c / "empty.txt").write_bytes(b"")
    (c / "blank.md").write_text("   \n\n  ", encoding="utf-8")
    (c / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (c / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ngarbage" * 3)
    (c / "corrupt.docx").write_bytes(b"PK\x03\x04 not really a zip archive" * 10)
    (c / "vni.txt").write_bytes(VNI)
    (c / "tcvn3.txt").write_bytes(TCVN3)
    (c / "unknown.txt").write_bytes(bytes([0x81, 0x8d, 0x8f, 0x90, 0x9d, 0x41]) * 200)
    with open(c / "huge.txt", "wb") as f:  # 50 MB, over the default max_file_mb=25
        f.write(("Dòng văn bản rất dài số %d.\n" % 1).encode() * (50_000_000 // 30))
    (c / "loop.txt").symlink_to(c / "loop.txt")  # a symlink to itself
    (c / "loopdir").symlink_to(c)  # a folder symlink back to its parent
    home = root / "data"
    s = cli_json("ingest", str(c), home=home)
    return c, home, s


def test_bad_files_each_named_with_reason(bad_run):
    c, home, s = bad_run
    failed = {Path(f["path"]).name: f["error"] for f in s["failed"]}
    assert sorted(Path(p).name for p in s["added"]) == ["good.txt", "tcvn3.txt", "vni.txt"], s
    assert "empty" in failed["empty.txt"]
    assert "empty" in failed["blank.md"]
    assert "binary" in failed["binary.txt"]
    assert "corrupt PDF" in failed["corrupt.pdf"] or "no text" in failed["corrupt.pdf"]
    assert "corrupt DOCX" in failed["corrupt.docx"]
    assert "unknown text encoding" in failed["unknown.txt"]
    assert "too large" in failed["huge.txt"] and "25 MB" in failed["huge.txt"]
    assert "symbolic links" in failed["loop.txt"]
    assert len(s["failed"]) == 8


def test_bad_files_shown_in_human_summary_and_exit_zero(bad_run, tmp_path):
    c, home, _ = bad_run
    p = run_cli("ingest", str(c), home=tmp_path / "h2")
    assert p.returncode == 0
    assert "3 added" in p.stdout and "8 failed" in p.stdout
    assert "failed: " in p.stdout and "unknown.txt: unknown text encoding" in p.stdout


def test_exit_nonzero_only_when_everything_failed(bad_run, tmp_path):
    c, _, _ = bad_run
    p = run_cli("ingest", str(c / "empty.txt"), str(c / "unknown.txt"), "--json", home=tmp_path / "h3", check=False)
    assert p.returncode != 0
    assert len(__import__("json").loads(p.stdout)["failed"]) == 2


def test_bad_rerun_keeps_what_is_indexed(bad_run):
    c, home, _ = bad_run
    (c / "good.txt").chmod(0o644)
    s = cli_json("ingest", str(c), home=home)
    assert sorted(Path(p).name for p in s["unchanged"]) == ["good.txt", "tcvn3.txt", "vni.txt"]
    a = cli_json("ask", "Nghị quyết 11-NQ/TW được quán triệt ngày nào?", "--llm", "none", home=home)
    assert "15-4" in a["answer"]


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: chmod 000 does not stop root from reading")
def test_unreadable_file_named(tmp_path):
    f = tmp_path / "secret.txt"
    f.write_text(VI, encoding="utf-8")
    f.chmod(0)
    s = cli_json("ingest", str(f), home=tmp_path / "d", check=False)
    assert "permission denied" in s["failed"][0]["error"]


def test_unreadable_folder_entry_named_even_as_root(tmp_path):
    """As root, a path that cannot be read as a file (a FIFO named .txt) is reported, not hung on."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "ok.txt").write_text(VI, encoding="utf-8")
    os.mkfifo(d / "pipe.txt")
    s = cli_json("ingest", str(d), home=tmp_path / "d", timeout=120)
    assert [Path(p).name for p in s["added"]] == ["ok.txt"]
    assert [Path(f["path"]).name for f in s["failed"]] == ["pipe.txt"]
