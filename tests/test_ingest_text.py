"""Issue 3: Vietnamese normalization for search with offsets into the ORIGINAL text, and chunking."""
from __future__ import annotations

import sqlite3
import unicodedata

from conftest import cli_json
from ingest.chunk import chunk_document, split_sentences
from ingest.normalize import normalize

OLD_STYLE = ("Chương II\nĐiều 15. Quy hoạch thuỷ lợi\nHoà Bình là tỉnh có nhà máy thuỷ điện lớn. "
             "Qúy khách đến TP. Hoà Bình vào ngày 15-4 theo Nghị quyết 11-NQ/TW. TS. Nguyễn Văn Hoà phát biểu.\n"
             "Điều 16. Điều khoản thi hành\nQuy định này có hiệu lực từ ngày ký.")


def test_tone_placements_map_to_one_form():
    for a, b in (("hoà", "hòa"), ("thuỷ", "thủy"), ("qúy", "quý"), ("Hoà Bình", "Hòa Bình")):
        assert normalize(a).text == normalize(b).text == unicodedata.normalize("NFC", b)
        assert normalize(unicodedata.normalize("NFD", a)).text == normalize(b).text


def test_zero_width_and_control_chars_removed_offsets_kept():
    src = "thu\u200bỷ\u0007 đi\u200dện\ufeff"
    n = normalize(src)
    assert n.text == "thủy điện"
    a, b = n.span(0, len(n.text))
    assert src[a:b].startswith("thu") and src[a:b].endswith("ện")


def test_sentences_keep_abbreviations_and_numbers_whole():
    t = "TP. Hồ Chí Minh mời TS. Lê Văn Hoà. Nghị quyết 11-NQ/TW ban hành ngày 15-4. Câu cuối!"
    assert [t[a:b] for a, b in split_sentences(t)] == [
        "TP. Hồ Chí Minh mời TS. Lê Văn Hoà.", "Nghị quyết 11-NQ/TW ban hành ngày 15-4.", "Câu cuối!"]


def test_commas_do_not_end_a_sentence():
    t = "Hà Nội, Huế và Đà Nẵng có 2.290,5 km đường, theo báo cáo năm 2023. Câu cuối, ngắn."
    assert [t[a:b] for a, b in split_sentences(t)] == [
        "Hà Nội, Huế và Đà Nẵng có 2.290,5 km đường, theo báo cáo năm 2023.", "Câu cuối, ngắn."]


def test_headings_stay_with_their_chunk_and_path_recorded():
    n = normalize(unicodedata.normalize("NFD", OLD_STYLE))
    chunks = chunk_document(n, lambda s: len(s.split()), max_tokens=14, overlap_sentences=1)
    for c in chunks:  # no chunk is made of headings only
        assert any(not line.startswith(("Chương", "Điều")) for line in c.text.split("\n")), c.text
    d15 = [c for c in chunks if "Điều 15" in c.heading]
    assert d15 and d15[0].text.startswith("Chương II\nĐiều 15. Quy hoạch thủy lợi")
    assert d15[0].heading == "Chương II > Điều 15. Quy hoạch thủy lợi"
    d16 = [c for c in chunks if "Điều 16" in c.heading]
    assert d16[0].text.startswith("Điều 16.") and "hiệu lực" in d16[0].text
    assert all(c.hash for c in chunks) and len({c.hash for c in chunks}) == len(chunks)


def test_overlap_repeats_a_sentence_between_neighbours():
    text = " ".join(f"Câu số {i} nói về chè Thái Nguyên." for i in range(12))
    chunks = chunk_document(normalize(text), lambda s: len(s.split()), max_tokens=20, overlap_sentences=1)
    assert len(chunks) > 2
    for a, b in zip(chunks, chunks[1:]):
        assert a.text.split(". ")[-1].rstrip(".") in b.text


def test_original_offsets_hold_for_nfd_and_old_tone_input_end_to_end(tmp_path):
    for name, text in (("nfd.txt", unicodedata.normalize("NFD", OLD_STYLE)), ("old.txt", OLD_STYLE)):
        f = tmp_path / name
        f.write_text(text, encoding="utf-8")
        home = tmp_path / ("data-" + name)
        cli_json("ingest", str(f), "--chunk-tokens", "24", home=home)
        db = sqlite3.connect(home / "hoidap.db")
        rows = db.execute('SELECT c.start, c."end", c.text, c.heading, c.idx, c.doc_id FROM chunks c').fetchall()
        assert len(rows) >= 2
        for start, end, norm, heading, idx, doc_id in rows:
            assert normalize(text[start:end]).text == norm  # the indexed text is the normalized original span
        # search with the modern spelling finds the old spelling; the shown text is the original bytes
        a = cli_json("ask", "thủy điện Hòa Bình", "--llm", "none", "--retriever", "bm25", home=home)
        assert a["citations"] or a["passages"]
        for c in a["citations"] + a["passages"]:
            assert text[c["start"]:c["end"]] == c["text"]
        assert any("thuỷ điện" in unicodedata.normalize("NFC", c["text"]) for c in a["passages"])


def test_questions_typed_without_some_diacritics_are_searched_accent_free():
    from ingest.lexical import is_unaccented

    # wholly bare, or bare on some words: a bare "quyet" / "hieu" / "luc" is never written so in Vietnamese
    for q in ("nghi quyet 37 ban hanh ngay nao", "Nghị quyet 37 ban hành ngay nào", "Nghị định 100 có hieu luc tu ngày nào"):
        assert is_unaccented(q), q
    # typed with diacritics: bare words that Vietnamese does write bare, names, acronyms and loanwords stay exact
    for q in ("Nghị định 100 có hiệu lực từ ngày nào?", "DEC ban đầu có 3 lớp?", "Ai đã giành Super Bowl XLIX?",
              "Vitamin D và natri có tác dụng gì?"):
        assert not is_unaccented(q), q


def test_accent_free_question_takes_the_spelling_of_the_passages_it_matched():
    from rag.retrieve.accents import restore

    passages = ["Nghị quyết 37-NQ/TW được ban hành ngày 01/7/2004.", "Bản đồ vùng trung du có bạn đọc."]
    # "ban" folds to "bản", "bạn" and "ban": its neighbour "hanh" picks "ban hành"; a word the passages do not
    # hold, a number and the punctuation stay as typed
    assert restore("Nghi quyet 37 ban hanh ngay nao?", passages) == "Nghị quyết 37 ban hành ngày nao?"
    assert restore("ban do vung trung du", passages) == "bản đồ vùng trung du"
