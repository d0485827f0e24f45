"""Composing the answer for its question type from ranked evidence: every quote a whole unit of the source."""
from __future__ import annotations

import bisect
import collections
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.lexical import syllables, terms
from ingest.normalize import fold, normalize_text
from ingest.telemetry import traced
from rag.question import ArticleRef, Question
from rag.rank import (PROMPT_MARGIN, QUESTION_WORDS, STOPWORDS, Passage, answer_type_ok, content_terms, coverage, in_context,
                      ranked_sentences)
from rag.retrieve import Hit
from rag.units import Library, Unit, inline_items


@traced("compose")
def extractive(question: str, hits: list[Hit], embedder=None, depth: int = 3,
               ranked=None) -> tuple[str, list[Passage]]:
    """The best-matching sentence of the top passages, with its [n]; none when no top sentence fits
    the question's answer type.  `ranked`: ranked_sentences(question, hits, embedder), when already known."""
    ranked = ranked if ranked is not None else ranked_sentences(question, hits, embedder)
    asks_number = bool(_ASKS_NUMBER.search(fold(question.lower())))
    ranked = [r for r in ranked[:depth] if answer_type_ok(question, r[1][3]) and not bare_heading(r[1][3])
              and (asks_number or not _NUMBER_LINE.match(r[1][3]))]
    if not ranked:
        return "", []
    score, (rank, a, b, text, h) = ranked[0]
    a, text = in_context(h, a, b, text, 0)  # a short sentence is a fine answer; an anaphoric one is not
    p = Passage(1, h, text, a, b, score)
    return quote(p), [p]


# "Số: 215/TB-UBND", "Về việc tạm dừng cấp nước": the header's number and subject lines name the document; they
# answer only a question asking for the number
_NUMBER_LINE = re.compile(r"(?i)^\s*(?:(số|so)\s*[:.]\s*\S*|(?:v/v|về việc|ve viec)\b[^.;:!?]*)\s*$")
_ASKS_NUMBER = re.compile(r"\b(so hieu|so van ban|ky hieu|so may|so bao nhieu|so la gi|mang so)\b")
_HEADING = re.compile(r"(?i)^\s*(điều|chương|mục|phần|dieu|chuong|muc|phan)\s+[\dIVXLC]+\w*\s*[.:]?\s*")


def bare_heading(text: str) -> bool:
    """"Điều 9. Gia nhập dây họ": a heading names what follows, it answers nothing ("Điều 2. Quyết định này có
    hiệu lực kể từ …" is a sentence on a heading's line, and does)."""
    m = _HEADING.match(text)
    if not m:
        return False
    rest = text[m.end():].strip()
    return not rest or (len(rest.split()) <= 15 and rest[-1] not in ".;:!?")


def quote(p: Passage) -> str:
    """A passage as an answer: its source text verbatim, with its [n] before the final punctuation."""
    sent = " ".join(p.text.split())
    end = sent[-1] if sent[-1] in ".!?;:" else "."
    return f"{sent.rstrip('.!?;:… ')} [{p.n}]{end}"




# -- answers of several units ------------------------------------------------------------------------------
@dataclass
class Composed:
    """An answer built from whole units: `passages` are quoted in `text`, `more` are the items left out by the
    cap (the chat can show them on request), `verdict` is the yes/no verdict when there is one."""
    text: str
    passages: list[Passage]
    more: list[Passage] = field(default_factory=list)
    verdict: str = ""
    basis: str = ""  # how the verdict or the items were decided, for the signals shown to developers


CAP = 8  # items shown before "và N ý khác"
_LIST_KINDS = ("clause", "point", "item", "row")


def unit_passage(n: int, doc_id: str, u: Unit, info: dict, score: float = 0.0, hits: list[Hit] = (),
                 lib: Library | None = None) -> Passage:
    """A unit as a numbered passage; its page, OCR flag and document number are those of a retrieved chunk of
    the same document (the page only when that chunk holds the unit), the page else the document's own."""
    same = [h for h in hits if h.doc_id == doc_id]
    page = next((h.page for h in same if h.start <= u.start < h.end), None)
    if page is None and lib is not None:
        page = lib.page_at(doc_id, u.start)
    h = Hit("", doc_id, info.get("source", ""), info.get("title", ""), u.text, "", u.start, u.end, page,
            " > ".join(u.path), score, label=u.label, ocr=any(x.ocr for x in same),
            doc_number=next((x.doc_number for x in same if x.doc_number), info.get("number", "")))
    return Passage(n, h, u.text, u.start, u.end, score)


def unit_at(units: list[Unit], start: int, slack: int = 3) -> int | None:
    """Index of the unit holding a document offset (or starting within `slack` characters after it: a sentence
    of a chunk may begin with a table row's bar, the row unit after it)."""
    starts = [u.start for u in units]
    i = bisect.bisect_right(starts, start + slack) - 1
    return i if i >= 0 and units[i].start - slack <= start < max(units[i].end, units[i].start + 1) else None


def children(units: list[Unit], i: int) -> list[Unit]:
    """What a unit heads: an article heading its clauses and points, a clause ending in ':' its points, any other
    lead-in the list items, points or table rows right after it."""
    u = units[i]
    nxt = units[i + 1:]
    if u.kind == "heading":
        if u.article is not None:
            return list(itertools.takewhile(lambda x: x.article == u.article and x.kind != "heading", nxt))
        return [x for x in itertools.takewhile(lambda x: x.path[:len(u.path)] == u.path, nxt) if x.kind != "heading"]
    if not u.lead_in:
        return []
    if u.kind == "clause":
        return list(itertools.takewhile(lambda x: x.kind == "point" and x.clause == u.clause, nxt))
    return list(itertools.takewhile(lambda x: x.kind in _LIST_KINDS and x.article == u.article, nxt))


def siblings(units: list[Unit], i: int) -> list[Unit]:
    """The list a unit is an item of: the children of its lead-in, or the clauses of its article."""
    u = units[i]
    if u.kind in ("point", "item", "row"):
        j = i
        while j > 0 and units[j - 1].kind == u.kind and units[j - 1].article == u.article:
            j -= 1
        if j > 0 and (units[j - 1].lead_in or units[j - 1].kind == "heading"):
            kids = children(units, j - 1)
            return kids if u in kids else []
        return list(itertools.takewhile(lambda x: x.kind == u.kind, units[j:]))
    if u.kind == "clause" and u.article is not None:
        head = next((k for k in range(i, -1, -1) if units[k].kind == "heading"), None)
        return children(units, head) if head is not None else []
    return []


def list_items(units: list[Unit], i: int, steps: bool = False) -> list[Unit]:
    """The items a question asking for several things is answered with, from the unit that matched it best:
    what it heads, the list it belongs to, the enumeration inside it, or else the rest of its paragraph.  A
    heading is answered with the first list under it (with `steps`: the first that reads as steps, else its
    clauses and sentences outside lists), else with all that is under it."""
    u = units[i]
    if u.kind == "heading":
        section = children(units, i)
        heads = [x for x in section if x.lead_in and len(children(units, units.index(x))) >= 2]
        lists = [(children(units, units.index(x)), x.text) for x in heads]
        if not steps:
            return (lists or [(section, "")])[0][0][:CAP * 2]
        fit = [x for x in lists if _steps(*x)]
        # no list of steps under it: the steps may be told in its sentences (a list of conditions is not how)
        in_lists = {id(u) for x in heads for u in [x, *children(units, units.index(x))]}
        sentences = [x for x in section if x.kind == "sentence" and id(x) not in in_lists]
        # steps told in sentences ("Trước hết … Sau đó …"), else the article's clauses and sentences in order
        prose = sentences if _steps(sentences) else [x for x in section if x.kind in ("sentence", "clause")
                                                    and id(x) not in in_lists]
        return (fit[0][0] if fit else prose or (lists or [(section, "")])[0][0])[:CAP * 2]
    for items in (children(units, i), siblings(units, i), inline_items(u)):
        if len(items) >= 2:
            return items
    return [x for x in units[i:] if x.para == u.para and x.kind == "sentence"][:4]


def _structured(units: list[Unit], i: int) -> bool:
    u = units[i]
    return len(children(units, i)) >= 2 or len(siblings(units, i)) >= 2 or len(inline_items(u)) >= 2


_STEP = re.compile(r"(?i)^\W*(\w\)\s*|\d+[.)]\s*)?(bước|buoc|giai đoạn|trước hết|sau đó|tiếp theo|cuối cùng)\b")


_STEP_LEAD = re.compile(r"(?i)\b(thủ tục|trình tự|quy trình|các bước|những bước|tiến hành|thực hiện như sau)\b")


def _steps(items: list[Unit], lead: str = "") -> bool:
    """Items that read as the steps of a procedure ("Bước 1: …", "Sau đó, …"), or a list whose lead-in
    announces a procedure ("Thủ tục … như sau:")."""
    return len(items) >= 2 and (bool(_STEP_LEAD.search(lead)) or
                                sum(bool(_STEP.match(u.text)) for u in items) >= max(2, len(items) // 2))


# nouns that name the kind of list asked for, found in any list's lead-in
_GENERIC = {"các", "những", "bước", "thủ", "tục", "quy", "trình", "tự", "cách", "hồ", "sơ", "muốn", "thì", "phải"}
_GENERIC_FOLDED = {fold(w) for w in _GENERIC} - {"thi"}  # folded, "thi" is also "thi" (an exam)


def _fit(q: Question, units: list[Unit], i: int) -> int:
    """How well the unit at `i` can anchor an answer of several items: 1 when it heads or belongs to a list.
    A procedure asks for steps: a list that reads as steps is 2 (3 when its items say so); prose (it may tell the steps in sentences) is
    1; a list of conditions, cases or rights is not how to do something: 0."""
    structured = _structured(units, i)
    if q.type != "procedure":
        return int(structured)
    lead = units[i].text if units[i].lead_in else ""
    items = list_items(units, i, True)
    if _steps(items, lead):  # 3: items marked as steps ("Trước hết", "Bước 2"); 2: a list its lead-in calls steps
        return 3 if sum(bool(_STEP.match(u.text)) for u in items) >= 2 else 2
    return 0 if structured and units[i].kind != "heading" else 1


def _titled(q: Question, u: Unit) -> bool:
    """An article whose whole title is in the question ("Tiến hành kiểm tra chuyên ngành" in "Tiến hành kiểm tra
    chuyên ngành Công Thương được thực hiện như thế nào?") is the article asked about."""
    if u.kind != "heading" or u.article is None:
        return False
    title = re.sub(r"(?i)^\W*(điều|dieu)\s+\d+\w?\W*", "", u.text)
    return len(content_terms(title)) >= 2 and coverage(title, q.text) >= 0.999


ABOUT_SLACK = 0.15  # anchors this close in how much they are about the question are ranked by their shape


def compose_list(q: Question, ranked, lib: Library, hits: list[Hit], margin: float = PROMPT_MARGIN,
                 min_coverage: float = 0.6) -> Composed:
    """Items in document order, each cited, at most CAP shown.  The anchor is, of the best-ranked sentences
    (within `margin` of the best), one about what was asked (most of the question's words, the rare ones
    weighing more, in it, what it is under and its first items) that heads or belongs to a list, else the best
    of those about what was asked."""
    if not ranked:
        return Composed("", [])
    best = ranked[0][0]
    generic = _GENERIC_FOLDED if q.unaccented else _GENERIC
    core = " ".join(w for w in q.focus.split() if w.lower().strip("?,.") not in generic) or q.focus
    pool = [r[1][3] for r in ranked[:20]]

    def covers(text: str) -> float:
        return min(coverage(core, text), weighted_coverage(core, text, pool))

    candidates, closest = [], 0.0
    for rank, (score, (_, a, _, _, h)) in enumerate(ranked[:5]):
        if score < best - margin:
            break
        units = lib.units(h.doc_id)
        i = unit_at(units, a)
        if i is None:
            continue
        # a question about a procedure the documents do not describe meets some other procedure: the list must
        # be about what was asked (the unit, what it is under and its first items)
        cov = covers(" ".join([units[i].text, lib.context(h.doc_id, i)] +
                              [u.text for u in list_items(units, i, q.type == "procedure")[:3]]))
        closest = max(closest, cov)
        if cov >= min_coverage:
            candidates.append((cov, _titled(q, units[i]), _fit(q, units, i), -rank, h.doc_id, units, i))
    for doc_id in dict.fromkeys(h.doc_id for h in hits[:3]):
        units = lib.units(doc_id)
        for i in (k for k, u in enumerate(units) if _titled(q, u)):
            cov = covers(" ".join([units[i].text, lib.context(doc_id, i)] +
                                  [u.text for u in list_items(units, i, q.type == "procedure")[:3]]))
            if cov >= min_coverage:
                candidates.append((cov, True, _fit(q, units, i), -len(ranked), doc_id, units, i))
    if not candidates:
        return Composed("", [], basis=f"anchor covers {closest:.2f}")
    # the one most about what was asked (the steps of "trình tự xét học bổng" are not those of "khiếu nại kết
    # quả xét học bổng"); of those nearly as much about it, the one that best fits the shape asked for
    top = max(c[0] for c in candidates)
    # items marked as steps first, then the article the question names by its title, then the shape
    anchor = max((c for c in candidates if c[0] >= top - ABOUT_SLACK), key=lambda c: (c[2] == 3, *c[1:4]))[4:]
    doc_id, units, i = anchor
    items = list_items(units, i, q.type == "procedure")
    if not _structured(units, i) and units[i].kind != "heading":
        # no list in the source: the anchor's paragraph, and the other sentences that rank close to it (the
        # generator would have been shown the same ones), each whole, in document order
        near = [unit_at(lib.units(h.doc_id), a) for sc, (_, a, _, _, h) in ranked[:3]
                if sc >= best - margin and h.doc_id == doc_id]
        items = sorted({*items, *(units[k] for k in near if k is not None and units[k].kind != "heading")},
                       key=lambda u: u.start)
    if q.type == "procedure":
        items = step_run(items)
    return _enumerate(doc_id, items, lib, hits, best, basis=units[i].kind)


def step_run(items: list[Unit]) -> list[Unit]:
    """Prose that tells the steps ("Trước hết, … Sau đó, … Cuối cùng, …"): the sentences from the first step to
    the last, without what is said around them; the items unchanged when fewer than two read as steps."""
    marked = [k for k, u in enumerate(items) if _STEP.match(u.text)]
    return items[marked[0]:marked[-1] + 1] if len(marked) >= 2 else items


def _enumerate(doc_id: str, items: list[Unit], lib: Library, hits, score: float, lead: str = "",
               basis: str = "") -> Composed:
    info = lib.info(doc_id)
    ps = [unit_passage(k + 1, doc_id, u, info, score, hits, lib) for k, u in enumerate(items)]
    shown, more = ps[:CAP], ps[CAP:]
    lines = ([lead] if lead else []) + [bullet(p) for p in shown]
    if more:
        lines.append(f"… và {len(more)} ý khác (hỏi «thêm» để xem).")
    return Composed("\n".join(lines), shown, more, basis=basis)


def bullet(p: Passage) -> str:
    """A quoted item on its own line; an item the source already bullets keeps its own mark."""
    return quote(p) if p.text.lstrip()[:1] in "-+•*–" else f"- {quote(p)}"


def article_units(units: list[Unit], ref: ArticleRef) -> list[Unit]:
    """The content of an article (or of one clause, or point): everything under its heading but the heading."""
    out = [u for u in units if u.article == ref.article and u.kind != "heading"]
    if ref.clause is not None:
        out = [u for u in out if u.clause == ref.clause]
    if ref.point is not None:
        out = [u for u in out if u.point == ref.point and u.kind == "point"]
    return out


def compose_article(q: Question, lib: Library, hits: list[Hit]) -> Composed:
    """"Điều N quy định gì": the article's clauses in order, from the document the question names, else from the
    best-ranked retrieved document that has the article, else from the one document of the collection that has
    it.  The heading (the article's title) opens the answer, in the answer's words, not as a quote."""
    ref = q.articles[0]
    named = lib.named(q.documents)
    candidates = named or list(dict.fromkeys(h.doc_id for h in hits)) + lib.all_ids()
    having = [d for d in dict.fromkeys(candidates) if article_units(lib.units(d), ref)]
    for doc_id in having[:1]:
        units = lib.units(doc_id)
        body = article_units(units, ref)
        if body:
            head = next((u for u in units if u.article == ref.article and u.kind == "heading"), None)
            title = head.text.split(".", 1)[1].strip() if head and "." in head.text else ""
            number = lib.info(doc_id).get("number", "")
            others = [lib.info(d).get("number") or lib.info(d).get("title", "") for d in having[1:]]
            lead = (f"{str(ref)[0].upper()}{str(ref)[1:]}" + (f" ({title})" if title else "")
                    + (f" của văn bản số {number}" if number else "") + " quy định"
                    + (f" (văn bản khác cũng có {ref}: {', '.join(others)}; hãy nêu số văn bản để chọn)"
                       if others else "") + ":")
            return _enumerate(doc_id, body, lib, hits, 1.0, lead, basis="article")
    return Composed("", [])


# -- definition -------------------------------------------------------------------------------------------
_DEFINES = re.compile(r"^\s*(\([^)]*\)\s*)?[,:]?\s*(là|được hiểu là|có nghĩa là|được gọi là|được định nghĩa là|nghĩa là"
                      r"|la|duoc hieu la|co nghia la|duoc goi la|duoc dinh nghia la|nghia la)\b", re.I)
_NAMES = re.compile(r"(được gọi là|được biết đến với cái tên|gọi là|tên là|viết tắt (thành|là))\s*[\"“(]?\s*$", re.I)


def defines(term: str, sentence: str) -> bool:
    """"X là …", "X (…) được hiểu là …", or "… được gọi là X": the sentence defines the term."""
    f, t = fold(normalize_text(sentence).lower()), fold(normalize_text(term).lower()).strip(" ?.")
    i = f.find(t) if t else -1
    if i < 0:
        return False
    return bool(_DEFINES.match(f[i + len(t):]) or _NAMES.search(normalize_text(sentence)[:i]))


def mentions(term: str, sentence: str) -> bool:
    t = fold(normalize_text(term).lower()).strip(" ?.")
    return bool(t) and t in fold(normalize_text(sentence).lower())


def in_article(h: Hit, article: int) -> bool:
    """The hit lies under "Điều N" (its heading path says so)."""
    return bool(re.search(rf"(?i)\b(?:điều|dieu)\s+{article}\b", h.heading or ""))


# "ngành nào có chỉ tiêu cao nhất": the row of a table whose value in the column asked about is the extreme
_SUPERLATIVE_FOLDED = re.compile(r"\b(cao|lon|nhieu|dong|dai|thap|nho|it|ngan)\s+nhat\b")
_LOWEST = {"thap", "nho", "it", "ngan"}
_TOTAL = re.compile(r"(?i)^\W*(tổng|cộng|toàn)")  # a total row is not one of the things compared
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def superlative(question: str) -> str:
    """"max" or "min" for a question asking for the highest or lowest ("… cao nhất", "ít nhất"), else ""."""
    m = _SUPERLATIVE_FOLDED.search(fold(question.lower()))
    return "" if not m else "min" if m.group(1) in _LOWEST else "max"


def figure(cell: str) -> float | None:
    """The first number of a cell as Vietnamese writes it: "1.200" is 1200, "3,6" is 3.6."""
    m = _FIGURE.search(cell)
    if not m:
        return None
    t = m.group(0)
    t = t.replace(".", "") if re.fullmatch(r"\d{1,3}(\.\d{3})+", t) else t
    try:
        return float(t.replace(",", "."))
    except ValueError:
        return None


def row_cells(units: list[Unit], i: int) -> dict[str, str]:
    """A table row as {header: cell}: "Ngành: X; Chỉ tiêu: 200" as ingest writes a DOCX/PDF table, or a bar row
    under its table's header row."""
    text = units[i].text
    if "|" not in text and "\t" not in text:
        pairs = [c.split(":", 1) for c in text.split(";") if ":" in c]
        return {k.strip(): v.strip() for k, v in pairs}
    j = i
    while j > 0 and units[j - 1].kind == "row":
        j -= 1
    def split(t):
        return [c.strip() for c in re.split(r"\||\t", t.strip().strip("|")) if c.strip()]
    head, cells = split(units[j].text), split(text)
    return dict(zip(head, cells)) if j < i and len(head) == len(cells) else {}


@traced("compose")
def compose_superlative(q: Question, ranked, lib: Library, hits: list[Hit], depth: int = 10) -> Composed:
    """The row with the highest (lowest) figure in the column the question names, of the table of the best-ranked
    row; total rows are left out.  Empty when the question asks no superlative or no ranked table fits."""
    way = superlative(q.focus)
    if not way:
        return Composed("", [])
    asked = {fold(w) for w in syllables(q.focus)}
    for score, (_, a, _, _, h) in ranked[:depth]:
        units = lib.units(h.doc_id)
        i = unit_at(units, a)
        if i is None or units[i].kind != "row":
            continue
        j, k = i, i
        while j > 0 and units[j - 1].kind == "row":
            j -= 1
        while k + 1 < len(units) and units[k + 1].kind == "row":
            k += 1
        rows = [(r, row_cells(units, r)) for r in range(j, k + 1)]
        rows = [(r, c) for r, c in rows if c and not _TOTAL.match(next(iter(c.values()), ""))]
        # the column: the header most of whose words the question says, with a figure in every row
        columns = {h_ for _, c in rows for h_ in c if all(figure(c.get(h_, "")) is not None for _, c in rows)}
        named = sorted(((len(asked & {fold(w) for w in syllables(c)}) / max(len(syllables(c)), 1), c)
                        for c in columns), reverse=True)
        if len(rows) < 2 or not named or named[0][0] == 0:
            continue
        col = named[0][1]
        pick = (max if way == "max" else min)(rows, key=lambda rc: figure(rc[1][col]))
        p = unit_passage(1, h.doc_id, units[pick[0]], lib.info(h.doc_id), score, hits, lib)
        return Composed(quote(p), [p], basis=f"{way} of '{col}'")
    return Composed("", [])


@traced("compose")
def compose_definition(q: Question, ranked, depth: int = 20, lib: Library | None = None) -> Composed:
    """The best-ranked sentence that defines the term; none (the factoid path answers) when no top sentence
    does."""
    found = [(score, a, b, text, h) for score, (_, a, b, text, h) in ranked[:depth] if defines(q.focus, text)]
    # "Bí mật nhà nước là gì": "1. Bí mật nhà nước là …", not "3. Lộ bí mật nhà nước là …" (a longer term)
    found.sort(key=lambda x: not _opens_with(q.focus, x[3]))
    if found and lib is not None and not _opens_with(q.focus, found[0][3]):
        # the sentence found defines a longer term: the term's own definition is in the same list of terms
        score, a, _, _, h = found[0]
        units = lib.units(h.doc_id)
        i = unit_at(units, a)
        own = [u for u in units if i is not None and u.article == units[i].article and u.kind != "heading"
               and _opens_with(q.focus, u.text) and defines(q.focus, u.text)]
        found[:0] = [(score, u.start, u.end, u.text, h) for u in own[:1]]
    for score, a, b, text, h in found[:1]:
        return Composed(quote(Passage(1, h, text, a, b, score)), [Passage(1, h, text, a, b, score)],
                        basis="defines")
    return Composed("", [])


def _opens_with(term: str, sentence: str) -> bool:
    """The sentence begins with the term (after its clause or point number)."""
    f, t = fold(normalize_text(sentence).lower()), fold(normalize_text(term).lower()).strip(" ?.")
    return bool(t) and re.sub(r"^\W*(\d+[.)]|[a-z][)])?\W*", "", f).startswith(t)


# -- yes/no ------------------------------------------------------------------------------------------------
YES, NO, UNCLEAR = "Có.", "Không.", "Tài liệu không nói rõ."
# a denial: "không"/"chưa"/"chẳng" before what it denies, or a prohibition; "không" inside a fixed phrase
# ("không gian", "không nơi nương tựa", "cải tạo không giam giữ", "không chỉ … mà còn") denies nothing
# "không vượt quá 500.000 đồng", "không thấp hơn", "không dưới": a limit on what is allowed, not a denial of it
_DENIAL = re.compile(r"\b(?:không|chưa|chẳng|chả|nghiêm cấm|bị cấm|cấm)\b(?!\s+(?:gian|khí|quân|phận|lưu|nơi|giam|ngừng"
                     r"|chỉ|những|ít|kể|lâu|thời hạn|hạn chế|bao lâu|thể thiếu|lâu sau|quá|vượt|thấp hơn|cao hơn"
                     r"|nhiều hơn|dưới|kém))", re.I)
_DENIAL_FOLDED = re.compile(r"\b(?:khong|chua|chang|nghiem cam|bi cam|cam)\b(?!\s+(?:gian|khi|quan|phan|luu|noi|giam"
                            r"|ngung|chi|nhung|it|ke|lau|thoi han|han che|qua|vuot|thap hon|cao hon|nhieu hon|duoi"
                            r"|kem))", re.I)
# "Trường hợp …/Nếu … thì …": what the evidence allows or requires under a condition; a denial inside the
# condition ("trường hợp không tham dự … thì phải có lý do") is the case, not the answer
_CONDITION_CLAUSE = re.compile(r"(?i)\b(nếu|trường hợp|neu|truong hop)\b(?P<cond>[^.;]{3,200}?)\s*,?\s*\b(thì|thi)\b")


_NUMBER = re.compile(r"\d[\d.,]*%?")


def _denials(text: str) -> list[re.Match]:
    t = normalize_text(text)
    if "hàng không" in t.lower():
        t = re.sub(r"(?i)hàng không", lambda m: " " * len(m.group()), t)
    return list((_DENIAL if fold(t) != t else _DENIAL_FOLDED).finditer(t))


def _denies(text: str) -> bool:
    return bool(_denials(text))


# what a denial is followed by before what it denies: "không được vắng mặt", "chưa phải là"
_MODALS = {fold(w) for w in "được phải có bị cần thể là nên hề đã còn đều hoàn toàn".split()}
DENIAL_REACH = 3  # syllables after the modals


def _denies_claim(evidence: str, claim: str) -> bool:
    """The evidence denies something the claim says: a denial followed (past "được", "phải" …) by one of the
    claim's content words.  "… cơ sở chưa thực hiện tự chủ" inside a sentence about tuition does not deny that
    tuition may be higher; "không được vắng mặt" denies "được vắng mặt"."""
    key = fold if fold(claim) == claim else (lambda w: w)  # "thức" is not "thực" unless typed without accents
    said = {key(w) for w in content_terms(claim)}
    t = normalize_text(evidence)
    for m in _denials(t):
        after = [w for w in syllables(t[m.end():])[:DENIAL_REACH + 4] if fold(w) not in _MODALS]
        after = [key(w) for w in after][:DENIAL_REACH]
        if m.group().lower() in ("nghiêm cấm", "bị cấm", "cấm", "nghiem cam", "bi cam", "cam") or set(after) & said:
            return True
    return False


# words of which a statement holds one at a time: a claim saying one where the evidence says another is denied
_EXCLUSIVE = [{fold(w) for w in x.split()} for x in (
    "sáng trưa chiều tối đêm", "tăng giảm", "trước sau", "cao thấp", "lớn nhỏ", "nam nữ", "thắng thua",
    "đông tây bắc", "sớm muộn", "tối_thiểu tối_đa", "đầu cuối", "miễn mất thu", "cho_phép cấm", "bắt_buộc tự_nguyện",
    "một hai ba bốn sáu bảy tám chín mười", "một_lần hai_lần ba_lần nhiều_lần", "thứ_nhất thứ_hai thứ_ba", "trực_tuyến trực_tiếp", "công_khai bí_mật")]


_COUNTS = ["không", "một", "hai", "ba"]
_ONCE = re.compile(r"\b0?([1-3])\s+lần\b", re.I)  # "01 lần" is "một lần"


def _contrasts(claim: str, evidence: str) -> bool:
    """The claim says one of a set of exclusive words ("chiều", "hai lần", "mất phí") where the evidence says
    another ("sáng", "một lần", "miễn phí")."""
    def words(t: str) -> set[str]:
        s = [fold(x) for x in syllables(_ONCE.sub(lambda m: _COUNTS[int(m.group(1))] + " lần", t))]
        return set(s) | {a + "_" + b for a, b in zip(s, s[1:])}
    c, e = words(claim), words(evidence)
    return any((c & g) - e and (e & g) - c for g in _EXCLUSIVE)


def weighted_coverage(question: str, text: str, pool: list[str]) -> float:
    """Share of the question's content words found in the text, each weighted by its rarity in `pool` (the
    retrieved sentences): "khuyết tật" missing counts more than "sinh viên" missing."""
    q = [fold(t) for t in content_terms(question) if t not in QUESTION_WORDS]
    if not q:
        return 0.0
    sets = [{fold(x) for x in syllables(p)} for p in pool] or [set()]
    w = {t: math.log(1 + len(sets) / (1 + sum(t in s for s in sets))) for t in q}
    have = {fold(x) for x in syllables(text)}
    return sum(w[t] for t in q if t in have) / max(sum(w.values()), 1e-9)


def verdict(claim: str, evidence: str, context: str = "", pool: list[str] = (), min_coverage: float = 0.6
            ) -> tuple[str, str]:
    """The verdict the evidence supports, by rules, and why.  Unclear unless the evidence (with its `context`:
    the article title it is under) covers most of the claim's content words; "Không" when exactly one of them is
    a denial, when the claim's figures are not the evidence's, or when it says "chiều" where the evidence says
    "sáng"; otherwise "Có"."""
    # what must be covered: the claim without its figures and exclusive words (those are checked, not matched)
    seen = evidence + " " + context
    said = {fold(x) for x in syllables(seen)}
    core = " ".join(w for w in _NUMBER.sub(" ", claim).split()
                    if not any(fold(w.lower()) in g and (said & g) - {fold(w.lower())} for g in _EXCLUSIVE))
    cov = min(coverage(core, seen), weighted_coverage(core, seen, list(pool) or [evidence]))
    if cov < min_coverage:
        return UNCLEAR, f"coverage {cov:.2f}"
    nums_c = {n.rstrip(".,") for n in _NUMBER.findall(claim)}
    nums_e = {n.rstrip(".,") for n in _NUMBER.findall(evidence + " " + context)}
    if nums_c - nums_e and nums_e:
        return NO, "figures differ"
    if _contrasts(claim, evidence):
        return NO, "contrast"
    cond = _CONDITION_CLAUSE.search(evidence)
    if cond and not _denies(claim) and not _denies(_CONDITION_CLAUSE.sub(" ", evidence)):
        return YES, "conditional"
    # a claim that itself denies ("… không dùng tiền mặt") is matched by any denial, as the evidence words it
    claim_denies = _denies(claim)
    seen_denies = _denies(seen) if claim_denies else _denies_claim(seen, claim)
    return (NO, "negation") if claim_denies != seen_denies else (YES, "affirmed")


def conditional_lead(evidence: str) -> str:
    """"Có, nếu trường hợp phức tạp." for a permission the evidence gives under a condition."""
    m = _CONDITION_CLAUSE.search(evidence)
    if not m:
        return YES
    case = " ".join(evidence[m.start():m.start("cond") + len(m.group("cond"))].split()).rstrip(" ,")
    case = re.sub(r"(?i)^(nếu|neu)\s+", "", case)
    return f"Có, nếu {case[:1].lower()}{case[1:]}."


def compose_yesno(q: Question, hits: list[Hit], lib: Library, embedder=None, depth: int = 3) -> Composed:
    """A verdict first, then the sentence that decides it: of the best-ranked sentences, the one that covers
    most of the claim.  Sentences are ranked on the claim without its figures, so a claim with a wrong figure
    finds the sentence that states the right one."""
    claim = q.focus
    probe = " ".join(_NUMBER.sub(" ", claim).split()) or claim
    ranked = ranked_sentences(probe, hits, embedder)[:depth]
    if not ranked:
        return Composed("", [])

    pool = [r[1][3] for r in ranked_sentences(probe, hits, None)]

    def context(h: Hit, a: int) -> str:
        i = unit_at(lib.units(h.doc_id), a)
        return lib.context(h.doc_id, i) if i is not None else ""

    ranked = [r for r in ranked if not bare_heading(r[1][3])] or ranked
    score, (_, a, b, text, h) = max(ranked, key=lambda r: weighted_coverage(
        claim, r[1][3] + " " + context(r[1][4], r[1][1]), pool))
    a, text = in_context(h, a, b, text, 0)
    ps = [Passage(1, h, text, a, b, score)]
    v, why = verdict(claim, text, context(h, a), pool)
    i = unit_at(lib.units(h.doc_id), a)
    lead = lib.lead_in(h.doc_id, i) if i is not None else None
    if lead is not None and lead.kind != "row" and _denies(lead.text):
        # "b) Mang đồ ăn vào phòng đọc" is a prohibition only with "không được … sau đây:" before it: quoted too
        ps = [unit_passage(1, h.doc_id, lead, lib.info(h.doc_id), score, [h], lib), Passage(2, h, text, a, b, score)]
    lead = conditional_lead(text) if why == "conditional" else v
    return Composed(f"{lead} " + " ".join(quote(p) for p in ps), ps, verdict=v, basis=why)


# -- summary -----------------------------------------------------------------------------------------------
def _tfidf(texts: list[str]) -> np.ndarray:
    """Rows of l2-normalized tf-idf over syllables and syllable bigrams."""
    docs = [terms([fold(s) for s in syllables(t) if s not in STOPWORDS]) for t in texts]
    vocab = {t: i for i, t in enumerate(sorted({t for d in docs for t in d}))}
    m = np.zeros((len(docs), len(vocab)))
    for r, d in enumerate(docs):
        for t in d:
            m[r, vocab[t]] += 1
    m *= np.log(1 + len(docs) / (1 + (m > 0).sum(0)))
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


def key_units(units: list[Unit], k: int = 5, damping: float = 0.85, diversity: float = 0.3,
              lead: float = 0.5) -> list[Unit]:
    """The k most central units of a document (TextRank over tf-idf cosine similarity, plus `lead` for the
    sentence that opens a paragraph of several: where writers state a paragraph's point), picked with maximal
    marginal relevance so two sentences saying the same thing are not both kept; returned in document order."""
    cand = [u for u in units if u.kind != "heading" and len(syllables(u.text)) >= 6]
    sizes = collections.Counter(u.para for u in cand)
    first = {u.para: u for u in reversed(cand)}
    if len(cand) <= k:
        return cand
    v = _tfidf([u.text for u in cand])
    sim = v @ v.T
    np.fill_diagonal(sim, 0)
    w = sim / np.maximum(sim.sum(1, keepdims=True), 1e-9)
    rank = np.full(len(cand), 1 / len(cand))
    for _ in range(50):
        rank = (1 - damping) / len(cand) + damping * w.T @ rank
    rel = rank / rank.max() + lead * np.array([first[u.para] is u and sizes[u.para] > 1 for u in cand])
    chosen: list[int] = []
    while len(chosen) < k:
        red = sim[:, chosen].max(1) if chosen else np.zeros(len(cand))
        mmr = (1 - diversity) * rel - diversity * red
        mmr[chosen] = -np.inf
        chosen.append(int(mmr.argmax()))
    return [cand[i] for i in sorted(chosen)]


def compose_summary(q: Question, lib: Library, hits: list[Hit], k: int = 5) -> Composed:
    """The key sentences of the document the question names, else of the best-retrieved document."""
    named = lib.named(q.documents)
    doc_id = named[0] if named else (hits[0].doc_id if hits else None)
    if doc_id is None:
        return Composed("", [])
    text = lib.text(doc_id)
    if not named and (coverage(q.focus, text) < 0.6 or any(n not in text for n in _NUMBER.findall(q.focus))):
        # a document about something else came first: the one asked for is not in the collection
        return Composed("", [], basis=f"top document covers {coverage(q.focus, text):.2f} of the request")
    keys = key_units(lib.units(doc_id), k)
    info = lib.info(doc_id)
    ps = [unit_passage(i + 1, doc_id, u, info, 1.0, hits, lib) for i, u in enumerate(keys)]
    name = info.get("title") or Path(info.get("source", "")).name
    lead = f"Các ý chính của {name}:" if name else "Các ý chính:"
    return Composed("\n".join([lead] + [bullet(p) for p in ps]), ps, basis="textrank")


# -- comparison --------------------------------------------------------------------------------------------
def full_sides(sides: list[str]) -> list[str]:
    """"điều kiện học bổng loại giỏi" vs "loại khá": the second side borrows what the first says before the
    word they share ("điều kiện học bổng loại khá")."""
    if len(sides) != 2:
        return sides
    a, b = sides
    aw, first = a.split(), fold(b.split()[0].lower())
    j = next((i for i, w in enumerate(aw) if fold(w.lower()) == first), 0)
    return [a, " ".join(aw[:j] + b.split())] if j > 0 else sides


def _under_lead_in(side: str, own: str, others: set[str], ranked, lib: Library, hits: list[Hit]) -> list[Passage]:
    """A side told in one item of a list whose lead-in the side's search found ("Thời hạn bảo vệ … sau đây:" →
    "a) 30 năm đối với bí mật nhà nước độ Tuyệt mật"): the item that holds the side's own words, else (a side whose
    words are all in the other's: "độ Mật" beside "độ Tuyệt mật") the item without the other side's words that
    most of the side covers and says least besides."""
    for score, (_, a, _, _, h) in ranked:
        units = lib.units(h.doc_id)
        i = unit_at(units, a)
        if i is None or not units[i].lead_in or coverage(side, units[i].text + " " + lib.context(h.doc_id, i)) < 0.5:
            continue
        kids = children(units, i)
        if own:
            items = [u for u in kids if coverage(own, u.text) >= 0.6]
        else:
            said = set(content_terms(side)) | set(content_terms(units[i].text))
            fit = [u for u in kids if not others & set(content_terms(u.text))]
            items = sorted(fit, key=lambda u: (-coverage(side, u.text), len(set(content_terms(u.text)) - said)))
        if items:
            info = lib.info(h.doc_id)
            return [unit_passage(0, h.doc_id, u, info, score, hits, lib) for u in items[:1]]
    return []


def compose_comparison(q: Question, search, lib: Library, embedder=None, per_side: int = 2,
                       margin: float = PROMPT_MARGIN) -> Composed:
    """For each side, the sentences that are about it (most of its words present, with what they are read with:
    a table row with its header), best first; grouped by side.  Refused when a side is not found."""
    groups, passages, missing = [], [], []
    sides = full_sides(q.sides)
    for side in sides:
        hits = search(side)
        own = " ".join(t for t in content_terms(side) if all(t not in content_terms(o) for o in sides if o != side))

        def seen(r) -> str:
            i = unit_at(lib.units(r[1][4].doc_id), r[1][1])
            return r[1][3] + " " + (lib.context(r[1][4].doc_id, i) if i is not None else "")

        def kind(r) -> str:
            i = unit_at(lib.units(r[1][4].doc_id), r[1][1])
            return lib.units(r[1][4].doc_id)[i].kind if i is not None else ""
        ranked = [r for r in ranked_sentences(side, hits, embedder) if kind(r) != "heading"
                  and coverage(side, seen(r)) >= 0.6 and (not own or coverage(own, r[1][3]) >= 0.6)]
        picked = [r for r in ranked[:per_side] if r[0] >= ranked[0][0] - margin] if ranked else []
        found = [Passage(0, h, text, a, b, score) for score, (_, a, b, text, h) in
                 sorted(picked, key=lambda r: (r[1][4].doc_id, r[1][1]))]
        if not found or any(p.text.rstrip().endswith(":") for p in found):
            # nothing, or only the lead-in of a list ("Thời hạn … sau đây:"): the item about this side
            others = {t for o in sides if o != side for t in content_terms(o)} - set(content_terms(side))
            found = _under_lead_in(side, own, others, ranked_sentences(side, hits, embedder)[:5], lib, hits) or found
        if not found:
            missing.append(side)
            continue
        lines = [f"{side[:1].upper()}{side[1:]}:"]
        for p in found:
            p.n = len(passages) + 1
            passages.append(p)
            lines.append(bullet(p))
        groups.append("\n".join(lines))
    if missing:
        # half a comparison is no comparison: the documents say nothing about one side
        return Composed("", [], basis="side not found: " + "; ".join(missing))
    return Composed("\n".join(groups), passages, basis="sides")


# -- what a document regulates, when it takes effect ----------------------------------------------------------
_DOC_KIND = (r"(?:bộ luật|luật|nghị định|nghị quyết|thông tư|quyết định|quy định|quy chế|pháp lệnh|chỉ thị|văn bản"
             r"|bo luat|luat|nghi dinh|nghi quyet|thong tu|quyet dinh|quy dinh|quy che|phap lenh|chi thi|van ban)")
# "Thông tư này có hiệu lực thi hành kể từ …", "Nghị quyết này đã được … thông qua … và có hiệu lực thi hành sau …"
_EFFECT = re.compile(rf"(?i)\b{_DOC_KIND}\s+này\b[^.;]{{0,240}}?\bcó hiệu lực\b")
_SCOPE = re.compile(rf"(?i)^\W*(?:\d+\.\s*)?{_DOC_KIND}\s+này\s+(?:quy định|điều chỉnh|hướng dẫn)\b")
_SCOPE_HEAD = re.compile(r"(?i)phạm vi điều chỉnh")
_EFFECT_HEAD = re.compile(r"(?i)hiệu lực")


def _under(units: list[Unit], head: re.Pattern) -> list[Unit]:
    """Units of the articles whose heading matches (the article's title says what it is about)."""
    heads = {u.article for u in units if u.kind == "heading" and u.article is not None and head.search(u.text)}
    return [u for u in units if u.article in heads and u.kind != "heading"]


def _content(units: list[Unit]) -> list[Unit]:
    """Units that say something: not headings, but "Điều 2. Quyết định này có hiệu lực …" (a sentence on an
    article's heading line) is content."""
    return [u for u in units if u.kind != "heading" or not bare_heading(u.text)]


def _statement(pattern: re.Pattern, units: list[Unit]) -> list[Unit]:
    """The units stating it, those that open with it first ("Luật này có hiệu lực …" before "… trước ngày Quy
    định này có hiệu lực, …")."""
    found = [u for u in units if pattern.search(u.text)]
    return sorted(found, key=lambda u: pattern.search(u.text).start() > 16)


# a signature block: the signer's position in capitals ("TM. CHÍNH PHỦ / THỦ TƯỚNG", "KT. BỘ TRƯỞNG / THỨ
# TRƯỞNG"), then the signer's name in title case, alone on its line
_POSITION = re.compile(r"(CHỦ TỊCH|THỦ TƯỚNG|BỘ TRƯỞNG|THỨ TRƯỞNG|CỤC TRƯỞNG|TỔNG CỤC TRƯỞNG|CHỦ NHIỆM|CHÁNH VĂN PHÒNG"
                       r"|GIÁM ĐỐC|CHÁNH ÁN|VIỆN TRƯỞNG|TRƯỞNG BAN|TỔNG BÍ THƯ|KT\.|TM\.|TL\.|Q\.)")
_NAME = re.compile(r"^(?:[A-ZĐÀ-Ỹ][a-zà-ỹđ]+\s+){1,4}[A-ZĐÀ-Ỹ][a-zà-ỹđ]+$")


def _signer(units: list[Unit]) -> list[Unit]:
    """The name under the first signature block after the articles begin."""
    begun = False
    for i, u in enumerate(units):
        begun = begun or u.article is not None
        if begun and _POSITION.search(u.text) and u.text.upper() == u.text:
            names = [x for x in units[i + 1:i + 8] if _NAME.match(x.text.strip())]
            if names:
                return names[:1]
    return []


# the header block's right-hand side and number line end the issuing body's name
_ISSUER_END = re.compile(r"(?i)\b(cộng hòa|cộng hoà|độc lập)\b|^\s*số\s*[:.]", re.M)


def _issuer(text: str, head_chars: int = 300) -> list[Unit]:
    """The issuing body: the upper-case lines opening the document's header ("ỦY BAN NHÂN DÂN TỈNH QUẢNG NAM",
    "CHÍNH PHỦ"), before the national motto or the number line; none when the document opens otherwise."""
    head = text[:head_chars]
    end = _ISSUER_END.search(head)
    if not end:
        return []
    lead = len(head) - len(head.lstrip())
    body = head[lead:end.start()].rstrip(" \n-–—_")
    letters = [c for c in body if c.isalpha()]
    if len(body.split()) < 2 or sum(c.isupper() for c in letters) < 0.9 * len(letters):
        return []
    return [Unit(lead, lead + len(body), body, "sentence", 0)]


def compose_document_fact(asks: str, doc_id: str, lib: Library, hits: list[Hit]) -> Composed:
    """"… quy định về gì?" from the document's scope article (Phạm vi điều chỉnh: "Thông tư này quy định về …"),
    else its own statement of what it regulates, else its first article's content; "… có hiệu lực từ khi nào?"
    from its effective-date clause ("… này có hiệu lực …"), the one under an article about effect first.  A
    heading is never the answer: the content under it is."""
    units = lib.units(doc_id)
    if asks == "signer":
        pick = _signer(units)
    elif asks == "issuer":
        pick = _issuer(lib.text(doc_id))
    elif asks == "effect":
        pick = (_statement(_EFFECT, _under(units, _EFFECT_HEAD)) or _statement(_EFFECT, _content(units)))[:1]
    else:
        scope = _under(units, _SCOPE_HEAD)
        pick = ([u for u in scope if _SCOPE.search(u.text)] or scope[:1]
                or [u for u in units if u.kind != "heading" and _SCOPE.search(u.text)][:1]
                or [u for u in units if u.article == 1 and u.kind != "heading"][:1]
                or [u for u in units if u.article == 1 and u.kind == "heading" and len(u.text.split()) > 8][:1])
    if not pick:
        return Composed("", [], basis=f"no {asks} clause")
    u = pick[0]
    if u.kind == "heading" and "." in u.text:  # "Điều 1. Công bố kèm theo …": the heading line is the content
        body = u.text.split(".", 1)[1].lstrip()
        u = Unit(u.end - len(body), u.end, body, "sentence", u.para, u.path, u.label, u.article)
    p = unit_passage(1, doc_id, u, lib.info(doc_id), 1.0, hits, lib)
    return Composed(quote(p), [p], basis=asks)
