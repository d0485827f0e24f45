"""Understanding a question once: its type, whether it was typed without diacritics, and the articles,
clauses and document numbers it names.  The `Question` travels through retrieval, ranking, composing and
verification, so no stage has to re-read the question's wording.

Matching is done on the accent-folded, lowercased text ("Điều 5" and "dieu 5" are the same reference), with
patterns for the Vietnamese ways of asking each type, not for the wording of any one document set.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.lexical import is_unaccented
from ingest.normalize import fold, normalize_text

TYPES = ("factoid", "yesno", "list", "procedure", "article", "definition", "summary", "comparison")


@dataclass(frozen=True)
class ArticleRef:
    """"khoản 2 Điều 14" -> ArticleRef(14, 2); "điểm a khoản 2 Điều 14" -> ArticleRef(14, 2, "a")."""
    article: int
    clause: int | None = None
    point: str | None = None

    def __str__(self) -> str:
        parts = ([f"điểm {self.point}"] if self.point else []) + ([f"khoản {self.clause}"] if self.clause else [])
        return " ".join(parts + [f"Điều {self.article}"])


@dataclass(frozen=True)
class DocRef:
    """A document number as named: "Nghị định 100/2019/NĐ-CP" -> kind "nghi dinh", number "100", year "2019",
    code "ND-CP"; "37-NQ/TW" -> number "37", code "NQ/TW"."""
    kind: str  # folded ("nghi quyet"), "" when only the code says what it is
    number: str
    year: str = ""
    code: str = ""

    def pattern(self) -> re.Pattern:
        """How the number is written in a document's folded text: the number, then its year or code (any
        separators), or the kind of document before it."""
        tail = [re.escape(self.year)] if self.year else []
        if self.code:
            tail.append(r"[\s/-]*".join(re.escape(p) for p in re.split(r"[-/ ]+", self.code.lower()) if p))
        # a year the question gives must be the document's: "29/2018/QH14" is not "29/2023/QH15"
        year = re.escape(self.year) if self.year else r"\d{4}"
        alts = [rf"\b{self.number}\s*[/-]\s*(?:{year}\s*[/-]\s*)?{t}" for t in tail]
        if self.kind:
            alts.append(rf"\b{self.kind}\s+(?:so\s+)?{self.number}\b")
        return re.compile("|".join(alts) or rf"\b{self.number}\b")

    def __str__(self) -> str:
        return " ".join(x for x in (self.kind, "/".join(x for x in (self.number, self.year, self.code) if x)) if x)


# -- what the answer must state ------------------------------------------------------------------------------
_Q_TIME = re.compile(r"\b(khi nào|lúc nào|bao giờ|(năm|ngày|tháng|thời gian|thời điểm|thế kỷ|thập kỷ|giai đoạn) nào"
                     r"|năm bao nhiêu|when|what year)\b")
_Q_NUMBER = re.compile(r"\b(bao nhiêu|mấy|số lượng|tỷ lệ|phần trăm|how many|how much)\b")
_Q_NAME = re.compile(r"\b(ai|(người|tên|đội|nước|quốc gia|công ty|thành phố|tỉnh|tổ chức|cơ quan|trường|ban nhạc"
                     r"|bang|vua|tướng) nào|tên (của|là gì|gì)|who)\b")
_COUNTED = re.compile(r"\b(?:bao nhiêu|mấy)\s+(\w+)")
# after "bao nhiêu": words that do not name what is counted ("bao nhiêu là", "bao nhiêu tiền" is kept)
_NOT_COUNTED = {"là", "thì", "mà", "được", "đã", "sẽ", "vậy", "nữa", "lâu", "xa", "cao", "rộng", "dài", "sâu",
                "nặng", "lớn", "nhỏ"}
_Q_DOC_NUMBER = re.compile(r"\b(quyết định|nghị định|nghị quyết|thông tư|thông báo|công văn|văn bản|chỉ thị|luật)\s+"
                           r"(số\s+)?(mấy|bao nhiêu)\b|\bsố hiệu\b")
_Q_ORDINAL = re.compile(r"\bthứ (mấy|bao nhiêu)\b")
# "số hiệu", "ký hiệu", "số mấy": a header's number line ("Số: 215/TB-UBND") may answer
_Q_NUMBER_LINE = re.compile(r"\b(so hieu|so van ban|ky hieu|so may|so bao nhieu|so la gi|mang so)\b")
# "ngành nào có chỉ tiêu cao nhất": the row of a table whose value in the column asked about is the extreme
_SUPERLATIVE = re.compile(r"\b(cao|lon|nhieu|dong|dai|thap|nho|it|ngan)\s+nhat\b")
_LOWEST = {"thap", "nho", "it", "ngan"}
# "thêm", "xem thêm", "còn gì nữa": the items the previous answer left out ("… và N ý khác")
MORE = ("thêm", "xem thêm", "còn gì nữa", "còn nữa", "còn ý nào nữa", "them", "xem them", "con gi nua", "con nua",
        "con y nao nua")


@dataclass(frozen=True)
class Asks:
    """What a factoid's answer must state, read from the question's words once."""
    text: str  # the question as read
    kind: str | None = None  # "time" | "number" | "name" | None
    counted: str | None = None  # what "bao nhiêu X" counts: "bao nhiêu đại biểu" -> "đại"
    doc_number: bool = False  # "quyết định số mấy": a document's number ("29/QĐ-BNN-TCCB") answers
    ordinal: bool = False  # "thứ mấy": an ordinal ("đầu tiên", "thứ 3") answers
    number_line: bool = False  # "số hiệu là gì": a header's number line answers
    extreme: str = ""  # "max" | "min": "… cao nhất", "ít nhất"


def answer_kind(question: str) -> str | None:
    """What a factoid question asks for: 'time', 'number', 'name', or None."""
    q = question.lower()
    for kind, pat in (("time", _Q_TIME), ("number", _Q_NUMBER), ("name", _Q_NAME)):
        if pat.search(q):
            return kind
    return None


def counted(question: str) -> str | None:
    """What a 'how many' question counts: "bao nhiêu đại biểu" -> "đại"; None when it names nothing."""
    m = _COUNTED.search(question.lower())
    if not m or m.group(1) in _NOT_COUNTED:
        return None
    return m.group(1)


def superlative(question: str) -> str:
    """"max" or "min" for a question asking for the highest or lowest ("… cao nhất", "ít nhất"), else ""."""
    m = _SUPERLATIVE.search(fold(question.lower()))
    return "" if not m else "min" if m.group(1) in _LOWEST else "max"


def asks(question: str, focus: str | None = None) -> Asks:
    """What the question asks for; the extreme ("cao nhất") is read on its `focus` when given (the question
    without its type cue and references: what ranking looks for)."""
    low = question.lower()
    return Asks(question, answer_kind(question), counted(question), bool(_Q_DOC_NUMBER.search(low)),
                bool(_Q_ORDINAL.search(low)), bool(_Q_NUMBER_LINE.search(fold(low))),
                superlative(question if focus is None else focus))


def asks_more(question: str) -> bool:
    """"thêm": the items the previous answer left out."""
    return question.lower().strip(" ?.!…") in MORE


@dataclass
class Question:
    text: str  # as asked (after follow-up resolution: the standalone question)
    type: str = "factoid"
    unaccented: bool = False
    articles: list[ArticleRef] = field(default_factory=list)
    documents: list[DocRef] = field(default_factory=list)
    sides: list[str] = field(default_factory=list)  # comparison: the two things compared
    focus: str = ""  # the question without its type cue and references: what retrieval and ranking look for
    asks: Asks = field(default_factory=lambda: Asks(""))  # what a factoid's answer must state

    def as_dict(self) -> dict:
        return {"type": self.type, "unaccented": self.unaccented, "articles": [str(a) for a in self.articles],
                "documents": [str(d) for d in self.documents], "sides": self.sides, "focus": self.focus}


# -- references ------------------------------------------------------------------------------------------
_ARTICLE = re.compile(r"(?:\bdiem\s+([a-z])\s*[,]?\s*)?(?:\bkhoan\s+(\d+)\s*[,]?\s*(?:cua\s+)?)?\bdieu\s+(\d+)"
                      r"(?:\s*[,]?\s*khoan\s+(\d+))?(?:\s*[,]?\s*diem\s+([a-z])\b)?")
_KINDS = ("bo luat", "luat", "nghi dinh", "nghi quyet", "thong tu lien tich", "thong tu", "quyet dinh", "chi thi",
          "cong van", "thong bao", "phap lenh", "ket luan", "quy dinh", "quy che", "van ban hop nhat", "hien phap")
_KIND = "|".join(k.replace(" ", r"\s+") for k in _KINDS)
# "nghị định 100/2019/NĐ-CP", "nghi dinh 100 2019", "Nghị quyết số 11-NQ/TW", "Nghị quyết 37", "37-NQ/TW"
_DOCNUM = re.compile(
    rf"(?:\b({_KIND})\s+(?:so\s+)?)?\b(\d{{1,5}})(?:\s*[/ ]\s*((?:19|20)\d\d))?(?:\s*[/-]\s*([a-z]{{1,6}}(?:\s*[-/]\s*[a-z0-9]{{1,8}})*))?")
_CODE = re.compile(r"^(?:nq|nd|tt|qd|ct|kl|ttg|cp|qh|tw|bgd|bgddt|btc|ubnd|ubtvqh|hd|tb)", re.I)


def article_refs(folded: str) -> list[ArticleRef]:
    out = []
    for m in _ARTICLE.finditer(folded):
        point = m.group(1) or m.group(5)
        clause = m.group(2) or m.group(4)
        out.append(ArticleRef(int(m.group(3)), int(clause) if clause else None, point))
    return list(dict.fromkeys(out))


_UNITS = {"ngay", "thang", "nam", "lan", "gio", "phut", "tuan", "nguoi", "truong", "hop", "%", "trieu", "ty", "dong"}


def document_refs(folded: str) -> list[DocRef]:
    """Document numbers: a number after a kind of document ("nghi dinh 100"), or with a code ("37-NQ/TW")."""
    out = []
    for m in _DOCNUM.finditer(folded):
        kind, number, year, code = m.group(1), m.group(2), m.group(3) or "", m.group(4) or ""
        if code and not _CODE.match(code):
            code = ""
        if not kind and not code:
            continue
        # "Điều 5" is an article, not a document; "năm 2019" is a year
        before = folded[:m.start(2)].split()[-1:] or [""]
        if before[0] in ("dieu", "khoan", "chuong", "muc", "nam", "ngay", "thang"):
            continue
        kind = " ".join(kind.split()) if kind else ""
        after = folded[m.end():].split()[:1] or [""]
        if kind == "thong bao" and not code and (re.fullmatch(r"(19|20)\d\d", number) or after[0] in _UNITS):
            continue  # "thông báo 2024", "thông báo 25 ngày trước": a year, a verb; not notice number 2024 or 25
        out.append(DocRef(kind, number, year, re.sub(r"\s+", "", code).upper()))
    return list(dict.fromkeys(out))


# -- type cues (folded) -----------------------------------------------------------------------------------
_SUMMARY = re.compile(r"\b(tom tat|tom luoc|noi dung chinh|y chinh|cac y chinh|tong quan|khai quat|noi dung co ban"
                      r"|noi dung cot loi|de cap (den )?nhung (van de|noi dung) (chinh|gi)|tom gon)\b")
_COMPARE = re.compile(r"\b(so sanh|khac nhau|khac gi|khac biet|khac (nhau )?(o|the nao|ra sao|cho nao)|giong nhau"
                      r"|giong va khac|diem (giong|khac)|phan biet)\b")
_PROCEDURE = re.compile(r"\b(cac buoc|nhung buoc|trinh tu|thu tuc|quy trinh|lam the nao de|lam sao de|cach thuc"
                        r"|cach (de |nao de )?(dang ky|nop|xin|lam|thuc hien|giai quyet|tien hanh)|tien hanh (nhu )?the nao"
                        r"|thuc hien (nhu )?the nao|phai lam gi|can lam gi|lam gi de|buoc (nao|dau tien))\b")
_LIST = re.compile(r"\b(nhung gi|gom nhung|bao gom (nhung )?(gi|nao)|nhung (\w+ ){0,3}nao|cac (\w+ ){0,3}nao|nhung ai"
                   r"|liet ke|ke ten|ke ra|gom (nhung )?(gi|ai)|co nhung|lam nhung gi|nhung (yeu cau|nhiem vu|giai phap"
                   r"|noi dung|viec|truong hop|hanh vi|doi tuong|quyen|nghia vu|dieu kien|muc tieu|giay to|ho so)\b"
                   r"|(ho so|giay to|dieu kien|nhiem vu|giai phap|quyen|nghia vu|hanh vi bi cam|tieu chuan|yeu cau)"
                   r" (gom|bao gom|la) gi)"
                   # "có trách nhiệm gì", "có quyền gì": duties and rights are enumerated
                   r"|\bco (nhung )?(trach nhiem|nhiem vu|quyen han|quyen loi|quyen|nghia vu)( va \w+ \w+)? gi\b")
_DEFINITION = re.compile(r"(\bla gi|\bnghia la gi|\bduoc hieu (la|nhu the nao|the nao)|\bdinh nghia|\bkhai niem"
                         r"|\bco nghia (la )?gi|\bduoc dinh nghia)\s*\??\s*$|^(the nao la|dinh nghia|khai niem)\b")
# "điều kiện ... là gì" asks for several things, "X là gì" for one definition
# "Tên của X là gì", "X được gọi là gì", "quan điểm của ông là gì": a name or a fact about something, not what a
# term means; so is a subject too long to be a term
_NAME_ASK = re.compile(r"\b(ten|ten goi|duoc goi|goi la|duoc coi|duoc dat ten|co ten|cua|so dien thoai|dia chi|email"
                       r"|ma so|so tai khoan)\b")
_TERM_MAX = 8  # syllables


def _asks_a_fact(folded: str) -> bool:
    subject = _DEFINITION.sub("", folded.rstrip(" ?.!")).strip()
    return bool(_NAME_ASK.search(subject)) or len(subject.split()) > _TERM_MAX


_LIST_NOUN = re.compile(r"^(\w+ ){0,3}(dieu kien|ho so|giay to|nhiem vu|quyen|nghia vu|tieu chuan|yeu cau|giai phap"
                        r"|muc tieu|hanh vi|doi tuong|truong hop|noi dung|che do|chinh sach|hinh thuc|bien phap)\b")
_YESNO_END = re.compile(r"\b(khong|chua|chang|phai khong|dung khong|dung chu|phai chu|hay khong|co dung khong"
                        r"|co phai khong|duoc khong|khong nhi)\s*[?.!]*\s*$")
_YESNO_START = re.compile(r"^(co phai|phai chang|liet|co dung la|co that la)\b")
# question words, on the text as typed: folded, "đầu" and "đâu" would be the same word
_WH = re.compile(r"\b(gì|nào|ai|đâu|bao nhiêu|bao giờ|mấy|sao|thế nào|ra sao|khi nào|lúc nào|vì sao|tại sao)\b")
_WH_FOLDED = re.compile(r"\b(gi|nao|ai|bao nhieu|bao gio|the nao|ra sao|khi nao|luc nao|vi sao|tai sao)\b")
# "Điều 5 quy định gì", "nội dung Điều 8", "Điều 12 nói về vấn đề gì": asks for the article itself, not a fact in it
_ARTICLE_ASK = re.compile(r"^(noi dung( cua)?|theo|xem|cho (toi )?xem)?\s*$|\b(quy dinh|noi|neu|de cap|ghi|viet|trinh bay"
                          r"|noi dung|ban ve|huong dan|gom)\b")
_SPECIFIC = re.compile(r"\b(bao nhieu|ai|khi nao|o dau|bao gio|may|vi sao|tai sao|co duoc|co phai)\b")


def _strip_refs(folded: str) -> str:
    s = _ARTICLE.sub(" ", folded)
    s = _DOCNUM.sub(lambda m: " " if (m.group(1) or m.group(4)) else m.group(0), s)
    return " ".join(s.split())


def _asks_wh(accented: str) -> bool:
    """A question word before the closing "không?": "có phải … ở đâu không" asks where, not yes or no."""
    f = fold(accented)
    m = _YESNO_END.search(f)
    head = accented[:m.start()] if m else accented
    return bool((_WH if f != accented else _WH_FOLDED).search(head))


# "Nếu có sự cố … thì phải làm gì?": a condition narrows "what must be done" to the one case it names
_CONDITION = re.compile(r"^(neu|trong truong hop|truong hop|gia su)\b")


def question_type(folded: str, articles: list[ArticleRef], rest: str, accented: str = "") -> str:
    """The type from cues, most specific first.  `rest` is the question without its references; `accented` the
    question as typed, lowercased (question words are told apart on it when it has diacritics)."""
    q = folded.strip()
    if _SUMMARY.search(q):
        return "summary"
    if _COMPARE.search(q):
        return "comparison"
    if articles and _ARTICLE_ASK.search(rest.strip(" ?.")) and not _SPECIFIC.search(rest):
        return "article"
    if _PROCEDURE.search(q) and not _CONDITION.match(q):
        return "procedure"
    if (_YESNO_END.search(q) or _YESNO_START.search(q)) and not _asks_wh(accented or q):
        return "yesno"
    if _LIST.search(q):
        return "list"
    if _DEFINITION.search(q.rstrip()):
        if _LIST_NOUN.search(q) or re.match(r"(nhung|cac) ", q):
            return "list"
        return "factoid" if _asks_a_fact(q) else "definition"
    if articles and len(rest.strip(" ?.").split()) <= 3:
        return "article"  # "Điều 14?", "cho tôi xem điều 14"
    return "factoid"


_COMPARE_CUT = re.compile(r"\s*\b(co gi |co diem gi |o diem nao |)(khac nhau|khac gi|khac biet|khac o|khac the nao"
                          r"|khac ra sao|khac cho nao|giong nhau|giong va khac|giong gi)\b")
_COMPARE_LEAD = re.compile(r"^(hay )?(so sanh|phan biet|diem (giong|khac)( nhau)?( giua)?|su khac (nhau|biet)( giua)?)\s+(giua\s+)?")


def comparison_sides(text: str) -> list[str]:
    """The two things compared, in the question's own words: the question without its comparison cue, split at
    "và"/"với".  Folding keeps length (one character per character), so folded offsets cut the original."""
    s = text.strip(" ?.")
    f = fold(s.lower())
    lead = _COMPARE_LEAD.match(f)
    a0 = lead.end() if lead else 0
    cut = _COMPARE_CUT.search(f, a0)
    s, f = s[a0:cut.start() if cut else len(s)], f[a0:cut.start() if cut else len(f)]
    for sep in (" so voi ", " va ", " voi ", " khac "):
        i = f.find(sep)
        if i > 0:
            a, b = s[:i].strip(" ,"), s[i + len(sep):].strip(" ,")
            if a and b:
                return [a, b]
    return []


def understand(text: str) -> Question:
    norm = normalize_text(text).strip()
    folded = fold(norm.lower())
    articles = article_refs(folded)
    docs = document_refs(folded)
    rest = _strip_refs(folded)
    kind = question_type(folded, articles, rest, norm.lower())
    sides = comparison_sides(norm) if kind == "comparison" else []
    focus = _focus(norm, kind)
    return Question(norm, kind, is_unaccented(norm), articles, docs, sides, focus=focus,
                    asks=asks(norm, focus))


_PARTICLE = re.compile(r"(?i)\s*,?\s*\b(có phải không|có đúng không|phải không|đúng không|đúng chứ|phải chứ|hay không"
                       r"|được không|không nhỉ|không|chưa|chăng|co phai khong|co dung khong|phai khong|dung khong"
                       r"|hay khong|duoc khong|khong|chua)\s*[?.!]*\s*$")
_LEAD = re.compile(r"(?i)^\s*(có phải là|có phải|phải chăng|có đúng là|có thật là|co phai la|co phai|phai chang)\s+")


def claim_of(question: str) -> str:
    """"Sinh viên có được miễn học phí không?" -> "Sinh viên có được miễn học phí": the statement to check."""
    return _LEAD.sub("", _PARTICLE.sub("", question.strip())).strip() or question


# words that say what kind of answer is wanted, not what it is about (folded, matched on the folded question;
# folding keeps offsets, so the cut applies to the question as typed)
_ASK_WORDS = {
    "summary": r"(hay |cho (toi|biet) )?(tom tat|tom luoc|khai quat|tong quan|noi dung chinh|noi dung co ban|noi dung"
               r"|nhung y chinh|cac y chinh|y chinh)( cua| ve)?|(bai viet|bai bao|van ban|tai lieu|bai)( ve| noi ve)?"
               r"|la gi|the nao|ra sao|\?",
    "list": r"(bao gom |gom )?nhung gi|(bao gom|gom) (nhung )?(gi|ai)|la gi|nhu the nao|the nao|ra sao|liet ke|ke ten"
            r"|\bnao\b|\bgi\b|\?",
    "definition": r"(co )?(nghia )?la gi|duoc hieu (la gi|la|nhu the nao|the nao)|duoc dinh nghia (la gi|the nao)|dinh nghia"
                  r"|khai niem|the nao la|\?",
}
_ASK_WORDS["procedure"] = _ASK_WORDS["list"] + r"|lam (the nao|sao) de|phai lam gi|can lam gi|tien hanh|dien ra"


def _without(text: str, pattern: str) -> str:
    f = fold(text.lower())
    keep = [True] * len(text)
    for m in re.finditer(rf"\b(?:{pattern})", f):
        keep[m.start():m.end()] = [False] * (m.end() - m.start())
    return " ".join("".join(c if k else " " for c, k in zip(text, keep)).split()).strip(" ?.,")


def _focus(text: str, kind: str) -> str:
    """What retrieval and ranking look for: the question without the words that only say what kind of answer is
    wanted ("tóm tắt nội dung chính của", "gồm những gì", "là gì"), a yes/no question as the statement it asks
    about; factoid and other questions whole."""
    if kind == "yesno":
        return claim_of(text)
    if kind not in _ASK_WORDS:
        return text
    out = _without(text, _ASK_WORDS[kind])
    return out or text


# -- what a question says about documents: the one it names by title, what it asks of it, its qualifiers ------
# (additive readings: `understand` leaves them out of `Question`; the answerer asks for them when it needs them)
_TITLE_KINDS = ("bo luat", "luat", "hien phap", "phap lenh", "nghi dinh", "nghi quyet", "thong tu", "quyet dinh",
                "chi thi", "quy che", "thong bao", "cong van", "ke hoach", "van ban hop nhat")
_TITLE_KIND = "|".join(k.replace(" ", r"\s+") for k in _TITLE_KINDS)
# words that end a document's name in a question: what is asked about it, not its name
_TITLE_END = {"co", "quy", "duoc", "la", "hieu", "noi", "dieu", "khoan", "nam", "so", "thi", "thuoc", "cua", "theo",
              "ban", "cho", "tai", "trong", "nay", "nao", "gi", "ai", "khi", "phai", "voi", "va", "o",
              "can", "thay", "sua", "doi", "het", "con", "dang", "da", "tu", "den", "ngay", "do", "ky", "khong"}


def document_titles(text: str) -> list[str]:
    """Documents a question names by kind and name, folded: "Luật Đất đai có hiệu lực …" -> ["luat dat dai"],
    "Theo Bộ luật Tố tụng hình sự, …" -> ["bo luat to tung hinh su"].  A name is the words after the kind up to
    the first word that asks something of it; "Luật này" or a bare "luật" name nothing."""
    folded = fold(normalize_text(text).lower())
    out = []
    for m in re.finditer(rf"\b({_TITLE_KIND})\b", folded):
        words = []
        for w in re.findall(r"[\w-]+", folded[m.end():])[:10]:
            if w in _TITLE_END or w.isdigit() or re.match(r"\d", w):
                break
            words.append(w)
        if words or m.group(1) == "hien phap":
            out.append(" ".join([" ".join(m.group(1).split())] + words))
    return list(dict.fromkeys(out))


_ASKS_SCOPE = re.compile(r"\b(quy dinh|noi|de cap|dieu chinh|ban hanh|huong dan|cong bo|thong bao)\s+(ve\s+)?(nhung\s+|cac\s+)?"
                         r"(gi|viec gi|van de gi|noi dung gi|linh vuc gi|nhung gi)\b|\bve viec gi\b|\bpham vi dieu chinh\b")
_ASKS_EFFECT = re.compile(r"\bhieu luc\b(?!.*\b(doi voi|voi)\b).*\b(nao|khi nao|bao gio|luc nao|tu dau)\b"
                          r"|\b(khi nao|bao gio|ngay nao)\b.*\bhieu luc\b")


_ASKS_SIGNER = re.compile(r"\b(ai (da )?ky|nguoi ky|ky boi ai|do ai ky|ai la nguoi ky)\b")
_ASKS_ISSUER = re.compile(r"\b(do (co quan|don vi|ai) nao ban hanh|(co quan|don vi) nao ban hanh|do ai ban hanh"
                          r"|ai ban hanh|co quan ban hanh (la )?(gi|ai|nao))\b")


def asks_of_document(text: str) -> str:
    """"scope" for "… quy định về gì?" (answered from its Phạm vi điều chỉnh), "effect" for "… có hiệu lực từ khi
    nào?" (from its effective-date clause), "signer" for "Ai ký …?" (from its signature block), "issuer" for "… do cơ
    quan nào ban hành?" (from its header), else "".  An article named ("Điều 3 … quy định gì") is an article
    question, not a scope one."""
    folded = fold(normalize_text(text).lower())
    if article_refs(folded):
        return ""
    if _ASKS_SIGNER.search(folded):
        return "signer"
    if _ASKS_ISSUER.search(folded):
        return "issuer"
    if _ASKS_EFFECT.search(folded):
        return "effect"
    return "scope" if _ASKS_SCOPE.search(folded) else ""


# provinces and regions: a figure for one of them is not a figure for another (folded)
_PLACES = (
    "ha noi", "ho chi minh", "hai phong", "da nang", "can tho", "hue", "an giang", "ba ria vung tau", "bac giang",
    "bac kan", "bac lieu", "bac ninh", "ben tre", "binh dinh", "binh duong", "binh phuoc", "binh thuan", "ca mau",
    "cao bang", "dak lak", "dak nong", "dien bien", "dong nai", "dong thap", "gia lai", "ha giang", "ha nam",
    "ha tinh", "hai duong", "hau giang", "hoa binh", "hung yen", "khanh hoa", "kien giang", "kon tum", "lai chau",
    "lam dong", "lang son", "lao cai", "long an", "nam dinh", "nghe an", "ninh binh", "ninh thuan", "phu tho",
    "phu yen", "quang binh", "quang nam", "quang ngai", "quang ninh", "quang tri", "soc trang", "son la",
    "tay ninh", "thai binh", "thai nguyen", "thanh hoa", "thua thien hue", "tien giang", "tra vinh",
    "tuyen quang", "vinh long", "vinh phuc", "yen bai", "tay nguyen", "tay bac", "dong bac", "dong nam bo",
    "tay nam bo", "dong bang song cuu long", "dong bang song hong", "bac trung bo", "nam trung bo")
_PLACE = re.compile(r"\b(" + "|".join(p.replace(" ", r"\s+") for p in _PLACES) + r")\b")
_LEVEL = re.compile(r"\bcap (tinh|huyen|xa)\b")
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


def qualifiers(text: str) -> list[str]:
    """What a figure must be about to answer the question, folded: the years it names (not those inside a
    document number), the provinces or regions, the administrative level ("cấp tỉnh" -> "tinh").  Each must hold
    in the answering sentence or in the document's own header."""
    folded = fold(normalize_text(text).lower())
    bare = _DOCNUM.sub(lambda m: " " if (m.group(1) or m.group(4)) else m.group(0), folded)
    out = [m.group(1) for m in _YEAR.finditer(bare)]
    out += [" ".join(m.group(1).split()) for m in _PLACE.finditer(folded)]
    out += [m.group(1) for m in _LEVEL.finditer(folded)]
    return list(dict.fromkeys(out))


# bodies and countries a question is about, as typed (capitalised): "Cục Kiểm lâm", "Sở Tài chính", "Lào"
_BODY = re.compile(r"\b(?:Tổng cục|Cục|Bộ|Sở|Vụ|Viện|Ủy ban|Uỷ ban|Tòa án|Ngân hàng|Kho bạc)\s+(?:[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ]\w*)"
                   r"(?:\s+\w+)?")
_COUNTRIES = ("Lào", "Campuchia", "Trung Quốc", "Thái Lan", "Hàn Quốc", "Nhật Bản", "Hoa Kỳ", "Singapore",
              "Malaysia", "Indonesia", "Philippines", "Ấn Độ", "Canada", "Úc", "Nga", "Đức", "Pháp", "Anh", "Mỹ")
_COUNTRY = re.compile(r"(?<=\s)(" + "|".join(_COUNTRIES) + r")\b")


def subject_names(text: str) -> list[tuple[str, re.Pattern]]:
    """Bodies and countries the question names (as typed, with capitals): an answer about another body or country
    is not an answer, so each must be in a cited document (bodies folded, countries with their diacritics: "Lào"
    is not "lao động")."""
    t = normalize_text(text)
    out = [(m.group(0), re.compile(r"\b" + r"\s+".join(map(re.escape, fold(m.group(0).lower()).split())) + r"\b"))
           for m in _BODY.finditer(t)]
    out += [(m.group(1), re.compile(r"(?<!\w)" + re.escape(m.group(1).lower()) + r"(?!\w)")) for m in _COUNTRY.finditer(t)]
    return out


_DATE = re.compile(r"\b(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d\d)\b"
                   r"|\bngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+((?:19|20)\d\d)\b")


def date_qualifiers(text: str) -> list[tuple[str, re.Pattern]]:
    """Whole dates a question names ("ngày 02/02/2025"), each with the pattern of its written forms (folded):
    "02/02/2025", "2/2/2025", "ngày 02 tháng 02 năm 2025"."""
    out = []
    for m in _DATE.finditer(fold(normalize_text(text).lower())):
        d, mo, y = (int(m.group(1) or m.group(4)), int(m.group(2) or m.group(5)), m.group(3) or m.group(6))
        pat = re.compile(rf"\b0?{d}\s*[/.-]\s*0?{mo}\s*[/.-]\s*{y}\b|\bngay\s+0?{d}\s+thang\s+0?{mo}\s+nam\s+{y}\b")
        out.append((f"{d:02d}/{mo:02d}/{y}", pat))
    return out
