"""Legal structure and document numbers of Vietnamese official documents.

* `LegalPath` follows Phần / Chương / Mục / Điều / Khoản ("1.") / Điểm ("a)", "đ)") / Phụ lục line by line and
  gives every line its label, e.g. "Chương II › Điều 14 › Khoản 1 › Điểm a".
* `document_number` reads a document's own symbol ("100/2019/NĐ-CP", "37-NQ/TW") from its first page.
* `reference_terms` turns symbols and loose references ("nghị định 100/2019", "nghi dinh 100 2019", "NĐ100",
  "Nghị quyết số 37-NQ/TW") into whole lexical terms, the same for a passage and a question, so a document
  is found by its number with or without diacritics; `article_terms` does the same for "khoản 2 điều 14".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.normalize import fold

SEP = " › "
_I = re.IGNORECASE
_ROMAN = r"[IVXLC]+"
# level, kind, pattern (matched on a stripped line); the number is group 1
_HEADINGS = [
    (1, "Phần", re.compile(rf"^phần\s+(thứ\s+[^\W\d_]+|{_ROMAN}|\d+)\b", _I)),
    (2, "Chương", re.compile(rf"^chương\s+({_ROMAN}|\d+)\b", _I)),
    (3, "Mục", re.compile(rf"^mục\s+(\d+|{_ROMAN})(?:\s*[.:\-–]|\s*$|\s+[A-ZĐÀ-Ỹ])", _I)),
    (4, "Điều", re.compile(r"^điều\s+(\d+[a-z]?)(?:\s*[.:\-–]|\s*$)", _I)),
    (2, "Phụ lục", re.compile(rf"^phụ\s+lục(?:\s+(số\s+\d+|{_ROMAN}|\d+|[A-Z]))?(?:\s*[.:\-–]|\s*$|\s+[A-ZĐÀ-Ỹ])", _I)),
]
_KHOAN = re.compile(r"^(\d{1,3})\.\s+\S")
_DIEM = re.compile(r"^([a-zđ])\)\s+\S")


def heading_of(line: str) -> tuple[int, str, str] | None:
    """(level, kind, number) when the line starts a Phần/Chương/Mục/Điều/Phụ lục."""
    s = line.strip()
    if not s or len(s) > 300:
        return None
    for level, kind, pat in _HEADINGS:
        m = pat.match(s)
        if m:
            number = (m.group(1) or "").strip()
            if kind in ("Chương", "Phần", "Phụ lục"):
                number = number.upper() if re.fullmatch(_ROMAN, number, _I) else number
            return level, kind, number
    return None


@dataclass
class LegalPath:
    """The structure stack while reading a document line by line."""

    stack: list[tuple[int, str]] = field(default_factory=list)  # (level, "Điều 14")
    _bare: bool = False  # the last line was a bare "Chương II" (its title follows on the next line)

    def feed(self, line: str) -> tuple[str, bool]:
        """The label of this line and whether the line is a heading (starts a Phần/Chương/Mục/Điều/Phụ lục)."""
        s = line.strip()
        h = heading_of(s)
        if h is not None:
            level, kind, number = h
            self._push(level, f"{kind} {number}".strip())
            self._bare = kind != "Điều" and len(s) <= len(f"{kind} {number}") + 2
            return self.label, True
        # "QUY ĐỊNH CHUNG" under a bare "Chương I" is that chapter's title
        title_of_bare = self._bare and 3 <= len(s) <= 160 and s == s.upper() and any(c.isalpha() for c in s)
        self._bare = False
        if title_of_bare:
            return self.label, True
        if self._in_article():
            m = _KHOAN.match(s)
            if m and not re.match(r"^\d+\.\d", s):
                self._push(5, f"Khoản {m.group(1)}")
            else:
                m = _DIEM.match(s)
                if m:
                    self._push(6, f"Điểm {m.group(1)}")
        return self.label, False

    def _in_article(self) -> bool:
        return any(name.startswith("Điều") for _, name in self.stack)

    def _push(self, level: int, name: str) -> None:
        self.stack = [s for s in self.stack if s[0] < level] + [(level, name)]

    @property
    def label(self) -> str:
        return SEP.join(name for _, name in self.stack)


def span_label(labels: list[str]) -> str:
    """One label for consecutive units: their common path, plus the range of the level where they differ."""
    labels = [x for x in labels if x]
    if not labels:
        return ""
    if all(x == labels[0] for x in labels):
        return labels[0]
    parts = [x.split(SEP) for x in labels]
    common = []
    for level in zip(*parts):
        if all(p == level[0] for p in level):
            common.append(level[0])
        else:
            break
    nxt = [p[len(common)] for p in parts if len(p) > len(common)]
    kinds = {n.rsplit(" ", 1)[0] for n in nxt}
    if len(kinds) == 1 and nxt:
        kind = kinds.pop()
        first, last = nxt[0].rsplit(" ", 1)[1], nxt[-1].rsplit(" ", 1)[1]
        common.append(f"{kind} {first}" if first == last else f"{kind} {first}–{last}")
    return SEP.join(common)


# -- document numbers and references ----------------------------------------------------------------

# type words and codes, folded and lowercased, to one canonical short type
_TYPES = {
    "nghi dinh": "nd", "nd": "nd", "nghi quyet": "nq", "nq": "nq", "thong tu lien tich": "tt", "ttlt": "tt",
    "thong tu": "tt", "tt": "tt", "quyet dinh": "qd", "qd": "qd", "chi thi": "ct", "ct": "ct", "luat": "luat",
    "bo luat": "luat", "ket luan": "kl", "kl": "kl", "phap lenh": "pl", "cong van": "cv",
}
# the type part of a symbol's code ("NĐ-CP" -> nd); a law's code is its legislature ("QH14"): no type
_CODES = {"nd": "nd", "nq": "nq", "tt": "tt", "ttlt": "tt", "qd": "qd", "ct": "ct", "kl": "kl", "pl": "pl"}
_TYPE_WORDS = "|".join(sorted((re.escape(t).replace(r"\ ", r"\s+") for t in _TYPES), key=len, reverse=True))
_YEAR = r"(?:19|20)\d\d"
# 100/2019/NĐ-CP, 45/2019/QH14, 01/2024/TT-BGDĐT (folded: nd-cp, qh14, tt-bgddt)
_STATE = re.compile(rf"\b(\d{{1,5}})\s*/\s*({_YEAR})\s*/\s*([a-z]{{1,8}})(?:\d{{0,2}})(?:-[a-z0-9]{{1,12}})*")
# 11-NQ/TW, 05-CT/TU
_PARTY = re.compile(r"\b(\d{1,4})\s*-\s*([a-z]{1,4})\s*/\s*([a-z]{1,8})\b")
# nghị định (số) 100(/2019), nghi dinh 100 2019, NĐ100, nd 100/2019
_LOOSE = re.compile(rf"\b({_TYPE_WORDS})\s*(?:so\s+)?(\d{{1,5}})(?:\s*[/\s-]\s*({_YEAR})\b)?")
_NUMBER_LINE = re.compile(r"\bsố\s*:?\s*(\d{1,5}\s*/\s*\d{4}\s*/\s*[A-ZĐ]{1,8}\d{0,2}(?:-[A-ZĐ0-9]{1,12})*"
                          r"|\d{1,4}\s*-\s*[A-ZĐ]{1,4}\s*/\s*[A-ZĐ]{1,8}"
                          r"|\d{1,5}\s*/\s*[A-ZĐ]{1,6}(?:-[A-ZĐ0-9]{1,12})+)", _I)
# 1024/QĐ-ĐHBK, 1234/UBND-VX: an administrative symbol without a year
_ADMIN = re.compile(r"(?<![/\d])\b(\d{1,5})\s*/\s*([a-z]{1,6})(?:-[a-z0-9]{1,12})+")
_ANY_SYMBOL = re.compile(r"\b(\d{1,5}/\d{4}/[A-ZĐ]{1,8}\d{0,2}(?:-[A-ZĐ0-9]{1,12})*|\d{1,4}-[A-ZĐ]{1,4}/[A-ZĐ]{1,8})\b")
_DOC_TYPES = ("NGHỊ ĐỊNH", "NGHỊ QUYẾT", "THÔNG TƯ LIÊN TỊCH", "THÔNG TƯ", "QUYẾT ĐỊNH", "CHỈ THỊ", "LUẬT",
              "KẾT LUẬN", "PHÁP LỆNH", "CÔNG VĂN", "QUY CHẾ", "QUY ĐỊNH", "HƯỚNG DẪN", "KẾ HOẠCH", "BÁO CÁO",
              "THÔNG BÁO", "TỜ TRÌNH")


def document_number(text: str) -> str:
    """The document's own symbol: "Số: 100/2019/NĐ-CP" on its first page, else the first symbol there."""
    head = text[:2500]
    m = _NUMBER_LINE.search(head)
    if m is None:
        m = _ANY_SYMBOL.search(head[:600])
    return re.sub(r"\s+", "", m.group(1)) if m else ""


def document_type(text: str) -> str:
    """"NGHỊ ĐỊNH", "THÔNG TƯ"... when a line of the first page is that type word in capitals."""
    for line in text[:2500].splitlines():
        s = line.strip().rstrip(":")
        if s in _DOC_TYPES:
            return s
    return ""


def official_title(text: str) -> str:
    """"Nghị định quy định xử phạt ..." from the type line of the first page and the subject line after it."""
    lines = [x.strip() for x in text[:3000].splitlines() if x.strip()]
    for i, line in enumerate(lines[:-1]):
        if line.rstrip(":") in _DOC_TYPES:
            subject = lines[i + 1]
            kind = line.rstrip(":").capitalize()
            if re.match(r"^(quy định|về|ban hành|hướng dẫn|sửa đổi|phê duyệt)\b", subject, _I):
                return f"{kind} {subject[0].lower()}{subject[1:]}"[:160]
            return f"{kind}: {subject}"[:160]
    return ""


def reference_terms(text: str) -> list[str]:
    """Whole terms for document symbols and loose references in a passage or a question."""
    f = fold(text).lower()
    out: list[str] = []
    for m in _STATE.finditer(f):
        num, year, code = m.group(1).lstrip("0") or "0", m.group(2), m.group(3)
        out.append(f"§{num}/{year}")
        kind = _CODES.get(code)
        if kind:
            out.append(f"§{kind}{num}")
    for m in _ADMIN.finditer(f):
        kind = _CODES.get(m.group(2))
        if kind:
            out.append(f"§{kind}{m.group(1).lstrip('0') or '0'}")
    for m in _PARTY.finditer(f):
        kind = _CODES.get(m.group(2))
        if kind:
            out.append(f"§{kind}{m.group(1).lstrip('0') or '0'}")
    for m in _LOOSE.finditer(f):
        kind = _TYPES[re.sub(r"\s+", " ", m.group(1))]
        num = m.group(2).lstrip("0") or "0"
        out.append(f"§{kind}{num}")
        if m.group(3):
            out.append(f"§{num}/{m.group(3)}")
    return list(dict.fromkeys(out))


def number_terms(number: str, doc_type: str = "") -> list[str]:
    """Terms for a document's own number, given to every chunk of it (a question naming it finds them all)."""
    typed = f"{doc_type} {number}" if doc_type else number
    return reference_terms(typed)


_ART = re.compile(r"\b(?:dieu)\s+(\d+[a-z]?)\b")
_CLAUSE = re.compile(r"\b(?:khoan)\s+(\d+)\b")
_POINT = re.compile(r"\b(?:diem)\s+([a-z])\b")


def label_terms(label: str) -> list[str]:
    """Terms for one structure label: "Điều 14 › Khoản 1 › Điểm a" -> §d14, §d14k1, §d14k1pa."""
    f = fold(label).lower()
    art = _ART.search(f)
    if not art:
        return [f"§pl{m.group(1).lower()}" for m in re.finditer(r"phu luc\s+(\w+)", f)]
    out = [f"§d{art.group(1)}"]
    k = _CLAUSE.search(f)
    if k:
        out.append(f"§d{art.group(1)}k{k.group(1)}")
        p = _POINT.search(f)
        if p:
            out.append(f"§d{art.group(1)}k{k.group(1)}p{p.group(1)}")
    return out


def combined_terms(numbers: list[str], articles: list[str]) -> list[str]:
    """One term per (document number, article) pair: "§nd100:§d1"."""
    return [f"{n}:{a}" for n in numbers for a in articles]


def article_terms(question: str) -> list[str]:
    """Terms for the articles a question names: "khoản 2 điều 14", "dieu 5", "điểm a khoản 1 Điều 3"."""
    f = fold(question).lower()
    out: list[str] = []
    for art in _ART.finditer(f):
        before = f[max(0, art.start() - 40):art.start()]
        k = re.search(r"khoan\s+(\d+)\s*(?:cua\s+)?$", before)
        p = re.search(r"diem\s+([a-z])\s*(?:cua\s+)?(?:khoan\s+\d+\s*(?:cua\s+)?)?$", before)
        after = f[art.end():art.end() + 30]
        k = k or re.match(r"\s*(?:,\s*)?khoan\s+(\d+)", after)
        out.append(f"§d{art.group(1)}")
        if k:
            out.append(f"§d{art.group(1)}k{k.group(1)}")
            if p:
                out.append(f"§d{art.group(1)}k{k.group(1)}p{p.group(1)}")
    return out
