"""What a conversation is about, kept across its turns, and follow-ups resolved against it.

Every door (CLI chat, web chat, the OpenAI-compatible API, stored conversations) builds one `ConversationState`
from the turns so far and asks it for the standalone question of a follow-up.  The state holds, per answered
turn, the standalone question, its subject, the articles (Điều/khoản/điểm) and document numbers it named, and the
documents and articles its answer cited.

Follow-ups are resolved by rules on the question's reading first:

- "khoản 3", "còn điểm b thì sao?"        -> that clause (point) of the article of that document
- "Còn Điều 15 thì sao?"                  -> the last question about Điều 15 (same document)
- "Còn Nghị quyết 37 thì sao?"            -> the last question with Nghị quyết 37 in place of its subject
- "Còn Nghị quyết 37 thì ban hành ngày nào?" -> "Nghị quyết 37 ban hành ngày nào?"
- "điều đó / văn bản này / ngành đó / nó …" -> the article, document or subject it stands for
- "áp dụng cho ai?"                        -> the subject, then the question
- "So với X thì sao?", "hai ngành đó khác nhau thế nào?" -> a comparison with the earlier subject(s)

Only when no rule applies does a generator rewrite the question (the condense-question pattern), and its output
is kept only when it is a well-formed question that keeps the follow-up's own words and invents none
(`acceptable_rewrite`); otherwise the question is asked with its subject beside it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.lexical import is_unaccented
from ingest.normalize import fold, normalize_text
from rag.question import ArticleRef, article_refs, asks_more, document_refs

CONDENSE = (
    "Dựa vào cuộc hội thoại dưới đây, hãy viết lại câu hỏi tiếp theo thành MỘT câu hỏi độc lập, đầy đủ ý, "
    "bằng tiếng Việt. Chỉ viết câu hỏi, không trả lời.\n\nHội thoại:\n{history}\n\nCâu hỏi tiếp theo: {question}\n"
    "Câu hỏi độc lập:"
)
STANDALONE_MARK = "» "  # how every door shows the question a follow-up was read as

# -- reading a question (on folded text: folding keeps offsets, so spans cut the question as typed) ----------
_LEAD_CUE = re.compile(r"^\s*(?:(?:the|vay)\s+con|con)\s+")
_TAIL_CUE = re.compile(r"\s*(?:thi|the)?\s*(?:sao|the nao|ra sao|nhu the nao|thi sao)\s*(?:nhi|a|vay)?\s*[?.!]*\s*$")
_TAIL_THI = re.compile(r"\s*\bthi\s+(?:sao|the nao|ra sao|nhu the nao)\s*(?:nhi|a|vay)?\s*[?.!]*\s*$")
# "điều đó", "quy định này", "nghị quyết ấy", "ngành đó", "nó": a reference back (on the text as typed: folded,
# "đó" would be "do" = "by"; a question typed without diacritics is matched folded)
_PRONOUNS = {"accented": r"đó|này|ấy|trên", "folded": r"do|nay|ay|tren"}
_ANAPHORS = {k: re.compile(rf"(?:^|(?<=\s))(?:(\w+(?: \w+)?)\s+({p})|(nó|no|chúng|họ))\b") for k, p in _PRONOUNS.items()}
# "năm nay", "trong đó", "do đó": not references to an earlier turn
_NOT_ANAPHOR = {"nam", "hien", "trong", "sau", "khi", "truoc", "tu", "den", "luc", "noi", "do", "nhu", "vi", "boi",
                "ngay", "thang", "o", "tai", "cho", "theo", "neu", "ben"}
_ANY_CUE = re.compile(r"^(?:the con|vay con|con)\s|\bthi sao\b|\b(?:the|ra) sao\s*[?.!]*$")
_DOC_KINDS = ("van ban", "nghi quyet", "nghi dinh", "thong tu", "quyet dinh", "luat", "quy che", "huong dan",
              "thong bao", "bao cao", "cong van", "chi thi")
_THING = ("dieu", "viec", "chuyen", "cai", "quy dinh", "no")
# where a subject (a noun phrase) ends: the predicate's first word, or a question word
_PREDICATE = re.compile(
    r"\b(co|duoc|la|bi|phai|can|gom|bao gom|quy dinh|ban hanh|to chuc|dien ra|ap dung|do|danh cho|dat|tang"
    r"|giam|keo dai|thu hut|yeu cau|chu tri|tham du|huong|nop|lam|chiu|thay the|neu|noi|de cap|tam dung|dang ky"
    r"|xu ly|khieu nai|ket thuc|bat dau|hieu luc|gi|nao|ai|bao nhieu|khi nao|o dau|may|sao|the nao"
    r"|ra sao|khac|so voi|va|voi|khong|chua|da|se|dang)\b")
_ASKS_FIRST = re.compile(r"^(ai|gi|nao|bao nhieu|khi nao|bao gio|o dau|may)\b")
_QUESTION_LEAD = re.compile(r"^(?:(?:hay |xin )?cho (?:toi )?biet|hay|xin hoi|theo [^,]+,|so sanh(?: giua)?|vi sao|tai sao"
                            r"|khi nao|bao gio|o dau|lieu)\s*")
_CLAUSE_ONLY = re.compile(r"\b(?:diem\s+([a-zđ])\b\s*,?\s*)?(?:khoan\s+(\d+))?")
_COMPARE_BACK = re.compile(r"^(?:con\s+)?(?:so voi|so sanh voi|khac gi (?:so )?voi|khac gi)\s+(.+?)(?:\s+thi)?"
                           r"(?:\s+(?:sao|the nao|ra sao|nhu the nao|khac gi|khac nhau the nao))?\s*[?.!]*$")
_COMPARE_BOTH = re.compile(r"\bhai\s+(\w+(?: \w+)?)\s+(?:do|nay|tren)\b|\bso sanh hai\b|\b(?:chung|ca hai)\b.*\bkhac\b")
_FUNCTION_WORDS = set("""cua la gi nao ai o dau khi bao nhieu may co khong duoc va voi cho ve theo trong tai thi
    nhu the ra sao nhung cac mot nay do ay se da dang phai can bi boi vi tu den hay hoac ma de ban hanh ngay""".split())


def _f(text: str) -> str:
    # "máy" (a machine) folds to the question word "mấy": kept apart, same length, so offsets still slice the text
    return fold(_MACHINE.sub("mzy", normalize_text(text).lower()))


_MACHINE = re.compile(r"\bmáy\b")
# the predicate's words as written with their diacritics: a typed word that only folds to one of them ("Đảng" to
# "đang", "cơ quan" to "có", "bí mật" to "bị", "cán bộ" to "cần") does not end a subject
_PREDICATE_WORDS = set("""có được là bị phải cần gồm bao quy định ban hành tổ chức diễn ra áp dụng do dành cho đạt tăng
    giảm kéo dài thu hút yêu cầu chủ trì tham dự hưởng nộp làm chịu thay thế nêu nói đề cập tạm dừng đăng ký xử lý
    khiếu nại kết thúc bắt đầu hiệu lực gì nào ai nhiêu khi ở đâu mấy sao thế ra khác so với và không chưa đã sẽ
    đang""".split())
_PREDICATE_FOLDED = {fold(w) for w in _PREDICATE_WORDS}


def _pf(text: str) -> str:
    """`_f` for finding the predicate: words typed with diacritics that are not the predicate's own are masked
    (same length, so offsets still slice the text)."""
    def mask(m: re.Match) -> str:
        w = m.group()
        return "z" * len(w) if w != fold(w) and fold(w) in _PREDICATE_FOLDED and w not in _PREDICATE_WORDS else w
    return fold(re.sub(r"\w+", mask, normalize_text(text).lower()))


def _anaphors(text: str):
    """The references back in a question, longest first: (start, end, the noun folded, or "no" for "nó")."""
    low = normalize_text(text).lower()
    kind = "folded" if is_unaccented(text) else "accented"
    for m in _ANAPHORS[kind].finditer(low):
        if not m.group(1):
            yield m.start(), m.end(), "no"
            continue
        nouns = fold(m.group(1)).split()
        if len(nouns) == 2:  # "ngành học đó", "thông tư đó", else "áp dụng điều đó" -> "điều đó"
            yield m.start(1), m.end(), " ".join(nouns)
        if nouns[-1] not in _NOT_ANAPHOR:
            yield m.end(1) - len(nouns[-1]), m.end(), nouns[-1]


def subject_of(question: str) -> str:
    """The noun phrase a question is about, as written: the document or article it names, else the words before
    its predicate ("Ngành An toàn thông tin" in "Ngành An toàn thông tin có bao nhiêu …")."""
    return named_reference(question) or _noun_phrase(question)


def _noun_phrase(question: str) -> str:
    q = normalize_text(question).strip()
    f, pf = _f(q), _pf(q)
    lead = _QUESTION_LEAD.match(f)
    a = lead.end() if lead else 0
    m = _PREDICATE.search(pf, a)
    if m and m.start() == a:  # "Ai chủ trì hội nghị?": the phrase after the predicate
        nxt = _PREDICATE.search(pf, m.end() + 1)
        a, m = m.end(), nxt
        while m and m.start() <= a + 1:
            a, m = m.end(), _PREDICATE.search(pf, m.end() + 1)
    return q[a:m.start() if m else len(q)].strip(" ,?.")


_DOC_MENTION = re.compile(
    r"(?i)((?:bộ luật|luật|nghị quyết|nghị định|thông tư|quyết định|chỉ thị|quy chế|công văn|thông báo)\s+(?:số\s+)?"
    r"[\w/.-]*\d[\w/.-]*|\b\d+(?:/\d{4})?[/-][A-ZĐa-zđ][\w/-]*)")
_ARTICLE_MENTION = re.compile(r"(?i)((?:điểm\s+\w\s+)?(?:khoản\s+\d+\s+)?điều\s+\d+(?:\s+khoản\s+\d+)?(?:\s+điểm\s+\w\b)?"
                              r"|(?:diem\s+\w\s+)?(?:khoan\s+\d+\s+)?dieu\s+\d+)")


def named_reference(question: str) -> str:
    """The article (with its document, when named) or the document a question names, as written, else ""."""
    q = normalize_text(question)
    art = _ARTICLE_MENTION.search(q)
    doc = _DOC_MENTION.search(q)
    if art and doc:
        lo, hi = min(art.start(), doc.start()), max(art.end(), doc.end())
        return q[lo:hi].strip()
    return (art or doc).group(1).strip() if (art or doc) else ""


@dataclass
class Turn:
    """One answered turn, as the state keeps it."""
    question: str  # the standalone question
    subject: str
    article: ArticleRef | None = None  # named by the question, else the first cited article
    document: str = ""  # the document number named, else the cited document's ("37-NQ/TW", "1024/QĐ-ĐHKT")
    document_named: str = ""  # as the question wrote it ("Nghị quyết 37-NQ/TW"), "" when not named
    doc_ids: list[str] = field(default_factory=list)
    cited: str = ""  # the cited text of its answer ("phòng đó" may name what the answer named)

    def as_dict(self) -> dict:
        return {"question": self.question, "subject": self.subject,
                "article": str(self.article) if self.article else "", "document": self.document,
                "doc_ids": self.doc_ids}


def _label_article(label: str) -> ArticleRef | None:
    """"Chương III › Điều 14 › Khoản 2" -> ArticleRef(14, 2)."""
    refs = article_refs(_f(" ".join(reversed([p.strip() for p in label.split("›")]))))
    return refs[0] if refs else None


@dataclass
class ConversationState:
    turns: list[Turn] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # from_turns: each turn's standalone question, "thêm" included

    # -- what the conversation is about -------------------------------------------------------------------
    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def article(self) -> tuple[ArticleRef | None, str]:
        """The article the last turns were about and its document number."""
        for t in reversed(self.turns):
            if t.article:
                return t.article, t.document
        return None, ""

    def document(self) -> tuple[str, str]:
        """(number, as named) of the document the last turns were about."""
        for t in reversed(self.turns):
            if t.document:
                return t.document, t.document_named
        return "", ""

    def add(self, standalone: str, citations: list | None = None) -> Turn:
        """Record an answered turn: its standalone question and the citations of its answer (dicts or
        Citation objects); "thêm" asks for more of the same and changes nothing."""

        self.asked.append(standalone)
        if asks_more(standalone):
            return self.last
        f = _f(standalone)
        arts, docs = article_refs(f), document_refs(f)
        cites = [c if isinstance(c, dict) else vars(c) for c in citations or []]
        named = _DOC_MENTION.search(normalize_text(standalone))
        article = arts[0] if arts else next((a for c in cites if (a := _label_article(c.get("label") or ""))), None)
        number = ""
        if docs and named:
            number = named.group(1)
        elif cites and article:
            number = next((c.get("doc_number") or "" for c in cites if _label_article(c.get("label") or "")), "")
        elif len({c.get("doc_id") for c in cites}) == 1:
            number = cites[0].get("doc_number") or ""
        turn = Turn(standalone, subject_of(standalone), article, number, named.group(1) if docs and named else "",
                    list(dict.fromkeys(c.get("doc_id", "") for c in cites)), " ".join(c.get("text", "") for c in cites))
        self.turns.append(turn)
        return turn

    def as_dict(self) -> dict:
        art, doc = self.article()
        return {"subject": self.last.subject if self.last else "", "article": str(art) if art else "",
                "document": doc or self.document()[0],
                "documents": list(dict.fromkeys(d for t in self.turns[-3:] for d in t.doc_ids))}

    @classmethod
    def from_turns(cls, turns) -> "ConversationState":
        """The state of a conversation from its turns: answer payloads (dicts with `standalone_question` and
        `citations`) or (question, answer) pairs, oldest first.  A pair's question is resolved again by the rules;
        an answer that opens with "» …" (as the API shows a follow-up) gives its standalone question."""
        state = cls()
        for t in turns:
            if isinstance(t, dict):
                state.add(t.get("standalone_question") or t.get("question", ""), t.get("citations"))
                continue
            question, answer = t[0], t[1] if len(t) > 1 else ""
            shown = (answer or "").split("\n", 1)[0]
            if shown.startswith(STANDALONE_MARK):
                state.add(shown[len(STANDALONE_MARK):].strip())
            else:
                state.add(state.resolve(question)[0])
        return state

    # -- resolving a follow-up ----------------------------------------------------------------------------
    def resolve(self, question: str, llm=None) -> tuple[str, str]:
        """(the standalone question, how it was found: "" when the question stands alone, "rule:<kind>",
        "model", or "context")."""
        q = " ".join(normalize_text(question).split())
        if not self.turns or not is_follow_up(q):
            return q, ""
        for kind, rule in (("clause", self._clause), ("compare", self._compare), ("instead", self._instead),
                           ("anaphor", self._anaphor), ("subject", self._bare_predicate)):
            out = rule(q)
            if out and out != q:
                return _tidy(out), f"rule:{kind}"
        if len(q.split()) > 6 and _PREDICATE.search(_pf(q)):
            return q, ""  # it only looked like a follow-up: a question of its own
        if llm is not None:
            out = _model_rewrite(llm, q, self)
            if out:
                return out, "model"
        return f"{q.rstrip(' ?')} ({self.last.subject or self.last.question})?", "context"

    def _with_document(self, text: str, article_doc: str = "") -> str:
        """Name the document the conversation is about after the article the text names, unless it names one."""
        number = article_doc or self.article()[1]
        if not number or document_refs(_f(text)):
            return text
        m = _ARTICLE_MENTION.search(text)
        if not m:
            return text
        name = number if number[:1].isalpha() else f"văn bản số {number}"  # "Nghị định 86/2015/NĐ-CP" as named
        return f"{text[:m.end()]} của {name}{text[m.end():]}"

    def _clause(self, q: str) -> str:
        """"khoản 3", "còn điểm b thì sao?", "khoản 3 áp dụng cho ai?": a clause or point without an article."""
        f = _f(q)
        if article_refs(f):
            return ""
        m = next((m for m in _CLAUSE_ONLY.finditer(f) if m.group(1) or m.group(2)), None)
        art, number = self.article()
        if not m or not art:
            return ""
        clause = int(m.group(2)) if m.group(2) else art.clause
        ref = ArticleRef(art.article, clause, m.group(1))
        ref_text = str(ref)
        rest = _without_cues(q[:m.start()] + " " + q[m.end():])
        if _f(rest).strip(" ?") in ("", "thi", "thi sao", "quy dinh"):
            prev = self.last.question
            pm = _ARTICLE_MENTION.search(prev)
            # the previous question's predicate, after its article and document ("… áp dụng cho ai?")
            tail = re.sub(r"(?i)^(?:của\s+)?(?:văn bản số\s+)?" + _DOC_MENTION.pattern[4:] + r"?\s*", "",
                          prev[pm.end():].strip()) if pm else ""
            out = f"{ref_text} {tail if tail.strip(' ?') else 'quy định gì?'}"
        else:
            out = f"{ref_text} {rest}"
        return self._with_document(_capital(out), number)

    def _instead(self, q: str) -> str:
        """"Còn X thì sao?" -> the last question with X in place of its subject; "Còn X thì <predicate>?" -> "X
        <predicate>?"; "Còn Điều 15 thì sao?" -> the last question about Điều 15."""
        f = _f(q)
        lead = _LEAD_CUE.match(f)
        tail = _TAIL_THI.search(f) or (_TAIL_CUE.search(f) if lead else None)  # "… thế nào?" alone asks, "thì sao" leans
        if not lead and not tail:
            return ""
        body_a, body_b = lead.end() if lead else 0, tail.start() if tail else len(q)
        x, xf = q[body_a:body_b].strip(" ,?"), f[body_a:body_b].strip(" ,?")
        if not x:
            return ""
        thi = re.search(r"\s(thi|the thi)\s", f"{xf} ")
        if thi and not tail:  # "còn Nghị quyết 37 thì ban hành ngày nào?": a question of its own
            own, pred = x[:thi.start()].strip(), x[thi.end():].strip()
            return f"{own} {pred}?" if pred else ""
        if len(x.split()) > 4 and _PREDICATE.search(_pf(x)):
            return _capital(f"{x}?") if lead else q  # "X làm Y thì sao?": a question of its own
        prev = self.last.question
        if re.match(r"(khoan|diem)\s", xf):
            return ""  # a clause with no article known: nothing to put it in
        if article_refs(xf):
            pm = _ARTICLE_MENTION.search(prev)
            if pm:
                body = re.sub(r"(?i)\s*của văn bản số\s+\S+", "", prev[:pm.start()] + x + prev[pm.end():])
                return self._with_document(_capital(body))
            return self._with_document(_capital(f"{x} quy định gì?"))
        if document_refs(xf):
            pm = _DOC_MENTION.search(prev)
            if pm:
                lo = pm.start()
                np = _noun_phrase(prev)
                if np and _f(np).startswith(_DOC_KINDS) and prev.find(np) <= lo < prev.find(np) + len(np):
                    lo = prev.find(np)  # "Quy chế học bổng 1234/QĐ-ĐHMPN có hiệu lực …": the document is the subject
                return prev[:lo] + x + prev[pm.end():]
        return _replace_subject(prev, x, self.last.subject)

    def _anaphor(self, q: str) -> str:
        """"điều đó áp dụng cho ai?", "văn bản này có hiệu lực khi nào?", "ngành đó có bao nhiêu chỉ tiêu?"."""
        for a, b, noun in _anaphors(q):
            ref = self._referent(noun)
            if ref:
                return _capital(q[:a] + ref + q[b:])
        return ""

    def _referent(self, noun: str) -> str:
        art, art_doc = self.article()
        number, named = self.document()
        last = self.last
        if noun in ("dieu", "khoan", "diem") or (noun in _THING and last.article and not last.document_named):
            if art:
                return self._with_document(_capital(str(art)) + " ?", art_doc)[:-2]
        if noun in _DOC_KINDS or (noun in _THING and number):
            if named:
                return named
            if number:
                return f"văn bản số {number}"
        if noun in _THING:
            return last.subject
        # "ngành đó", "hội nghị này": the last subject that starts with that noun (or what the answer named)
        for t in reversed(self.turns):
            for cand in (t.subject, t.question, t.cited):
                cf = _f(cand)
                i = cf.find(noun)
                if i >= 0 and (i == 0 or cf[i - 1] == " "):
                    phrase = cand[i:]
                    pm = _PREDICATE.search(_pf(cand), i + len(noun) + 1)
                    out = phrase[:pm.start() - i] if pm else phrase
                    out = re.split(r"[,.;:()]", out)[0].strip(" ,?.")
                    if len(out.split()) >= len(noun.split()):
                        return out
        return ""

    def _bare_predicate(self, q: str) -> str:
        """"áp dụng cho ai?", "ban hành ngày nào?": the subject, then the question."""
        f = _f(q)
        m = _PREDICATE.match(_pf(q))
        if not m or not self.last.subject:
            return ""
        subject = self.last.subject
        if self.last.article and _ARTICLE_MENTION.fullmatch(subject.strip()):
            subject = self._with_document(_capital(subject) + " ?", self.last.document)[:-2]
        if _ASKS_FIRST.match(f):  # "ai chủ trì?" -> "Ai chủ trì hội nghị?"
            return f"{q.rstrip(' ?')} {subject}?"
        return f"{_capital(subject)} {q}"

    def _compare(self, q: str) -> str:
        """"So với X thì sao?" -> "So sánh <subject> và X"; "hai ngành đó khác nhau thế nào?" -> the last two
        subjects compared."""
        f = _f(q).strip()
        m = _COMPARE_BACK.match(f)
        if m and self.last.subject:
            other = q[m.start(1):m.end(1)].strip(" ,?")
            return f"So sánh {self.last.subject} và {other}"
        if _COMPARE_BOTH.search(f):
            subjects = list(dict.fromkeys(t.subject for t in reversed(self.turns) if t.subject))[:2]
            if len(subjects) == 2:
                return f"So sánh {subjects[1]} và {subjects[0]}"
        return ""


# -- helpers ------------------------------------------------------------------------------------------------
def is_follow_up(question: str) -> bool:
    """A question that leans on the conversation: it says so ("còn … thì sao", "điều đó", "so với …"), names a
    clause without its article ("khoản 3"), or is short and names no article, document or term of its own."""
    from ingest.lexical import syllables
    from rag.question import understand

    f = _f(question)
    if _ANY_CUE.search(f) or _COMPARE_BACK.match(f.strip()) or _COMPARE_BOTH.search(f) or any(_anaphors(question)):
        return True
    if re.search(r"\b(khoan \d+|diem [a-zđ])\b", f) and not article_refs(f):
        return True
    if len(syllables(f)) > 6:
        return False
    named = understand(question)
    return not (named.articles or named.documents or named.type == "definition")


def _without_cues(text: str) -> str:
    f = _f(text)
    a = _LEAD_CUE.match(f)
    t = _TAIL_CUE.search(f)
    return text[a.end() if a else 0:t.start() if t else len(text)].strip(" ,")


def _capital(s: str) -> str:
    s = " ".join(s.split())
    return s[:1].upper() + s[1:]


def _tidy(s: str) -> str:
    s = " ".join(s.replace(" ?", "?").split()).strip()
    s = re.sub(r"\s+([?,.])", r"\1", s)
    return _capital(s if s.endswith(("?", ".")) or s.lower().startswith("so sánh") else s + "?")


def _replace_subject(prev: str, x: str, subject: str) -> str:
    """The previous question with X in place of the phrase X parallels: the phrase starting with X's first word
    ("loại giỏi" -> "loại xuất sắc"), else its subject."""
    pf, xf = _f(prev), _f(x)
    head = xf.split()[0]
    for m in re.finditer(rf"\b{re.escape(head)}\b", pf):
        end = _PREDICATE.search(_pf(prev), m.end() + 1)
        stop = end.start() if end else len(prev.rstrip(" ?"))
        return f"{prev[:m.start()]}{x} {prev[stop:].lstrip()}"
    if subject and subject in prev:
        i = prev.index(subject)
        return f"{prev[:i]}{x}{prev[i + len(subject):]}"
    return ""


def acceptable_rewrite(out: str, question: str, context: str) -> bool:
    """A generator's standalone question is kept only when it is one well-formed question (one line, no
    citation marks, no repeated phrase), keeps every content word of the follow-up, and every word of it comes
    from the follow-up, the earlier questions or the common function words (nothing invented)."""
    if not out or not 3 <= len(out) <= 300 or "\n" in out or re.search(r"\[\d+\]", out):
        return False
    words = _f(out).replace("?", " ").split()
    grams = [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
    if len(grams) != len(set(grams)):
        return False
    own = set(re.findall(r"\w+", _f(_without_cues(question)))) - _FUNCTION_WORDS - {"con", "thi", "sao", "do", "nay",
                                                                                      "ay", "no", "vay"}
    have = set(re.findall(r"\w+", _f(out)))
    allowed = set(re.findall(r"\w+", _f(question + " " + context))) | _FUNCTION_WORDS
    return own <= have and have <= allowed


def _model_rewrite(llm, question: str, state: ConversationState) -> str:
    history = "\n".join(f"Người dùng: {t.question}" for t in state.turns[-3:])
    try:
        out = llm.complete(CONDENSE.format(history=history, question=question), max_tokens=64).text.strip()
    except Exception:  # a dead generator must not break the chat: the rules' fallback answers
        return ""
    out = out.splitlines()[0].strip() if out else ""
    context = " ".join(t.question for t in state.turns)
    return out if acceptable_rewrite(out, question, context) else ""
