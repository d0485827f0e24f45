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
import unicodedata
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
# where the articles end: the recipients, the signing authority, the adoption statement of a law
_CLOSING = re.compile(r"^(?:nơi nhận\s*:|xác thực văn bản hợp nhất\b|(?:tm|kt|tl|tuq|q)\s*\.\s*[A-ZĐÀ-Ỹ]{2,}"
                      r"|(?:bộ luật|luật|pháp lệnh|nghị quyết) này (?:đã )?được .{0,200}\bthông qua\b)", _I)
_NOTE_MARK = re.compile(r"(?<=\S)\[(\d{1,3})\]")  # a footnote marker after a word: "Đất đai[2]"
_NOTE_TEXT = re.compile(r"^\[(\d{1,3})\]\s*\S")  # a footnote's text, at the foot or the end of the document
_KHOAN = re.compile(r"^(\d{1,3})\.(?:\[\d{1,3}\])?\s+\S")  # "1. …", "10.[48] …" (amended, with its note)
_DIEM = re.compile(r"^([a-zđ])\)\s+\S")


def heading_of(line: str) -> tuple[int, str, str] | None:
    """(level, kind, number) when the line starts a Phần/Chương/Mục/Điều/Phụ lục."""
    s = line.strip()
    if not s:
        return None
    for level, kind, pat in _HEADINGS:
        m = pat.match(s)
        # a long line is a paragraph, except an article whose text runs on after its number ("Điều 2. Nghị
        # quyết này thay thế …", short resolutions are written so)
        if m and (len(s) <= 300 or kind == "Điều"):
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
    cited: set[str] = field(default_factory=set)  # footnote markers seen in the text ("đai[2]")
    in_notes: bool = False  # past the first footnote text: quoted "Điều 16." lines there are no articles
    note: bool = False  # this line starts a footnote text ("[2] Khoản này được sửa đổi …")
    closing: bool = False  # this line starts the signature block ("Nơi nhận:", "TM. CHÍNH PHỦ", "Luật này đã được … thông qua")

    def feed(self, line: str) -> tuple[str, bool]:
        """The label of this line and whether the line is a heading (starts a Phần/Chương/Mục/Điều/Phụ lục,
        or a footnote text)."""
        s = line.strip()
        note = _NOTE_TEXT.match(s)
        self.note = bool(note) and (self.in_notes or note.group(1) in self.cited)
        if self.note:
            self.in_notes, self.stack = True, [(1, f"Chú thích {note.group(1)}")]
            return self.label, True
        if self.in_notes:
            return self.label, False
        self.cited.update(_NOTE_MARK.findall(s))
        h = heading_of(s)
        if h is not None:
            level, kind, number = h
            self._push(level, f"{kind} {number}".strip())
            self._bare = kind != "Điều" and len(s) <= len(f"{kind} {number}") + 2
            return self.label, True
        self.closing = bool(_CLOSING.match(s))
        if self.closing:  # the signature block is not the last article's items (a form in an annex
            self.stack, self._bare = [x for x in self.stack if x[1].startswith("Phụ lục")], False  # stays there)
            return self.label, False
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
# 1024/QĐ-ĐHBK, 1234/UBND-VX: an administrative symbol without a year
_ADMIN = re.compile(r"(?<![/\d])\b(\d{1,5})\s*/\s*([a-z]{1,6})(?:-[a-z0-9]{1,12})+")
_DOC_TYPES = ("NGHỊ ĐỊNH", "NGHỊ QUYẾT", "THÔNG TƯ LIÊN TỊCH", "THÔNG TƯ", "QUYẾT ĐỊNH", "CHỈ THỊ", "LUẬT",
              "KẾT LUẬN", "PHÁP LỆNH", "CÔNG VĂN", "QUY CHẾ", "QUY ĐỊNH", "HƯỚNG DẪN", "KẾ HOẠCH", "BÁO CÁO",
              "THÔNG BÁO", "TỜ TRÌNH")


def document_number(text: str) -> str:
    """The document's own symbol, read from its header block (see `header`)."""
    return header(text).number


def document_type(text: str) -> str:
    """"NGHỊ ĐỊNH", "THÔNG TƯ"... when a line of the first page is that type word in capitals."""
    return header(text).doc_type


def official_title(text: str) -> str:
    """"Nghị định quy định xử phạt ..." from the type line of the first page and the subject lines after it."""
    return header(text).title


@dataclass
class Header:
    """What a document's header block says about it, each with how sure the reading is (0..1); a reading
    below `SURE` is left empty rather than risk a wrong number or a junk title."""

    number: str = ""
    number_confidence: float = 0.0
    doc_type: str = ""
    title: str = ""
    title_confidence: float = 0.0


SURE = 0.5
HEAD_CHARS = 2500  # the header block sits on the first page
# "Số: 100/2019/NĐ-CP" at the start of a line, or after the issuer on a line the two header columns
# share (OCR, plain-text extraction) -- never "Nghị quyết số 26-NQ/TW", a document the text cites
_OWN_NUMBER = re.compile(r"(?:^|\n|[A-ZĐÀ-Ỹ]{2,}\s+)(?:(?:Số|SỐ)\s*:?|(?:Nghị quyết|Quyết định|Luật|Pháp lệnh) số\s*:)\s*"
                         r"(\d{1,5}\s*/\s*\d{4}\s*/\s*[A-ZĐ]{1,8}\d{0,2}(?:-[A-ZĐ0-9]{1,12}g?)*"
                         r"|\d{1,4}\s*-\s*[A-ZĐ]{1,4}\s*/\s*[A-ZĐ]{1,8}"
                         r"|\d{1,5}\s*/\s*(?:[A-ZĐ]{1,8}\d{0,2})(?:-[A-ZĐ0-9]{1,12}g?)*)")  # QĐ-TTg
# the type part of a symbol ("NĐ" in 100/2019/NĐ-CP) for each type line, to check one against the other
_TYPE_CODE = {"NGHỊ ĐỊNH": "NĐ", "NGHỊ QUYẾT": "NQ|QH", "THÔNG TƯ": "TT", "THÔNG TƯ LIÊN TỊCH": "TTLT",
              "QUYẾT ĐỊNH": "QĐ", "CHỈ THỊ": "CT", "KẾT LUẬN": "KL", "THÔNG BÁO": "TB", "KẾ HOẠCH": "KH",
              "BÁO CÁO": "BC", "TỜ TRÌNH": "TTr", "HƯỚNG DẪN": "HD", "LUẬT": "QH", "PHÁP LỆNH": "UBTVQH"}
_SUBJECT_STOP = re.compile(r"^(?:căn cứ|theo đề nghị|xét đề nghị|kính gửi|thực hiện|ngày \d|trong (?:những|thời)"
                           r"|quốc hội|chính phủ|bộ trưởng|thủ tướng|ủy ban|hội đồng|chủ tịch)\b", _I)


def header(text: str) -> Header:
    """The number, type and title a document gives itself in its header block, with confidences."""
    head = unicodedata.normalize("NFC", text[:HEAD_CHARS]).replace("\u00d0", "Đ")  # Ð (eth) typed for Đ
    lines = [x.strip() for x in head.splitlines() if x.strip()]
    h = Header()
    type_at = next((i for i, x in enumerate(lines) if _type_line(x)), None)
    if type_at is not None:
        h.doc_type = _type_line(lines[type_at])
    h.number, h.number_confidence = _own_number(head, h.doc_type)
    h.title, h.title_confidence = _title(lines, type_at, h.doc_type)
    if h.number_confidence < SURE:
        h.number = ""
    if h.title_confidence < SURE:
        h.title = ""
    return h


def _type_line(line: str) -> str:
    s = line.strip().rstrip(":").strip()
    return s if s in _DOC_TYPES else ""


def _own_number(head: str, doc_type: str) -> tuple[str, float]:
    m = _OWN_NUMBER.search(head)
    if m is None:
        return "", 0.0
    number = re.sub(r"\s+", "", m.group(1))
    confidence = 0.9
    code = _TYPE_CODE.get(doc_type)
    if code and not re.search(code, number):
        confidence = 0.6  # "Số:" says so, but the type line disagrees: an OCR slip or an odd symbol
    if not re.search(r"[/-][A-ZĐ]", number):
        confidence = 0.3
    return number, confidence


def readable(text: str) -> float:
    """How much of a line reads as Vietnamese: the share of its words that are well-formed syllables,
    halved when none carries a diacritic (an OCR layer that lost them, "CQNG HOA XA HOI")."""
    from ingest.legacy import _syllable

    words = re.findall(r"[^\W\d_]+", text)
    if not words:
        return 0.0
    share = sum(1 for w in words if _syllable(w)) / len(words)
    accented = sum(1 for w in words if not w.isascii())
    return share if accented or len(words) < 3 else share / 2


def _title(lines: list[str], type_at: int | None, doc_type: str) -> tuple[str, float]:
    """The type line and the subject lines under it ("NGHỊ ĐỊNH" / "Quy định về …"), or a letter's "V/v …"."""
    if type_at is None:
        vv = next((x for x in lines[:25] if re.match(r"^v/v\b|^về việc\b", x, _I)), "")
        if not vv:
            return "", 0.0
        subject = re.sub(r"^(?:v/v|về việc)\s*:?\s*", "", vv, flags=_I)
        return _cased("Công văn", "về việc " + subject), readable(subject) * 0.9
    subject: list[str] = []
    for line in lines[type_at + 1:type_at + 6]:
        if _SUBJECT_STOP.match(line) or heading_of(line) or _type_line(line) or line.endswith(";"):
            break
        if subject and (line.isupper() != subject[-1].isupper() or re.search(r"[.:;]$", line)):
            break  # a title line ends without punctuation; a sentence after it is the body
        subject.append(line)
        if len(" ".join(subject)) > 300:
            break
    if not subject:
        return doc_type.capitalize(), 0.5
    text = " ".join(subject)
    return _cased(doc_type.capitalize(), text), readable(text)


def _cased(kind: str, subject: str) -> str:
    """"Nghị định quy định …", "Luật Đất đai"; a subject set in capitals is put in sentence case."""
    if subject.isupper():
        subject = subject.lower()
    if kind in ("Luật", "Bộ luật", "Pháp lệnh"):  # the subject is the law's name
        return f"{kind} {subject[0].upper()}{subject[1:]}"[:200]
    if re.match(r"^(quy định|về|ban hành|hướng dẫn|sửa đổi|phê duyệt|công bố|giao|kết luận)\b", subject, _I):
        return f"{kind} {subject[0].lower()}{subject[1:]}"[:200]
    return f"{kind}: {subject}"[:200]


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
