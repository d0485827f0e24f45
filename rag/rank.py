"""Ranking the evidence: every sentence of the retrieved passages scored against the question, and the best as
numbered prompt passages.  Lexical checks on normalized syllables."""
from __future__ import annotations

import math
import re

import numpy as np

from ingest.chunk import chunk_sentences
from ingest.lexical import syllables
from ingest.normalize import fold, normalize_text
from ingest.telemetry import traced
from rag.evidence import Evidence, Passage, Ranked, Sentence
from rag.question import Asks, asks
from rag.terms import QUESTION_WORDS, STOPWORDS, reads_unaccented

def hit_sentences(hit: Evidence) -> list[tuple[int, int, str]]:
    """Sentences of a hit as (start, end) offsets in the original document, with their text."""
    out = []
    for oa, ob, _, _ in chunk_sentences(hit.text):
        ob = oa + len(without_ellipsis(hit.text[oa:ob]))
        out.append((hit.start + oa, hit.start + ob, hit.text[oa:ob]))
    return out


def without_ellipsis(text: str) -> str:
    """A sentence the source trails off with "…": quoted without it, so a "…" in an answer always means the
    answer left something out (and says what)."""
    t = text.rstrip()
    while t.endswith(("…", "...")) and len(t) > 3:
        t = t[:-1] if t.endswith("…") else t[:-3]
        t = t.rstrip()
    return t if t and t[-1:].isalnum() or t.endswith((")", "”", '"')) else text


# Sentence ranking: a linear score over these features.  The weights were tuned by hand on XQuAD-vi questions
# outside the evaluation sample; `bench/calibrate_answering.py --fit-ranker` fits them by a listwise softmax
# instead (docs/evaluation.md: +1.3 points top-1 in cross-validation, no gain on the evaluation sample, so the
# hand-tuned weights stay).  Coverage of the question and sentence length were tried as features and left
# out: they favour long sentences that restate the question (XQuAD questions paraphrase their sentence, news
# questions often do not: they lost the seed article's "khi nào" question).
FEATURES = ("lexical", "dense", "answer_type", "chunk_rank")
WEIGHTS = (0.6, 0.4, 0.3, 0.1)
# sentences scoring more than this under the best are left out of the prompt
PROMPT_MARGIN = 0.3


def sentence_features(question: str, sentences: list[str], ranks: list[int], embedder=None,
                      stored: list | None = None) -> np.ndarray:
    """One row per sentence, columns as FEATURES: idf-weighted lexical overlap with the question
    (length-normalized, min-max over the candidates), dense cosine (min-max), whether it holds what the
    question asks for (a new number, date or name), 1 / (1 + its chunk's retrieval rank).  `stored`: per
    sentence, its vector stored at ingest or None (then it is embedded now)."""
    lens = np.array([max(1, len(syllables(x))) for x in sentences], float)
    lex = np.array(_score(question, sentences), float) / (0.5 + 0.5 * lens / lens.mean())
    dense = np.zeros(len(sentences))
    if embedder is not None:
        dense = sentence_vectors(sentences, stored, embedder) @ np.asarray(embedder.embed_query(question))
    asked = asks(question)
    fits = [bool(asked.kind) and fits_type(asked, x) for x in sentences]
    return np.stack([_unit(lex), _unit(dense), np.array(fits, float), 1 / (1 + np.array(ranks, float))], 1)


def sentence_vectors(sentences: list[str], stored: list | None, embedder) -> np.ndarray:
    """The sentences' vectors: those stored at ingest (late chunking), the others embedded now."""
    stored = stored or [None] * len(sentences)
    missing = [i for i, v in enumerate(stored) if v is None]
    fresh = iter(np.asarray(embedder.embed_passages([sentences[i] for i in missing])) if missing else [])
    return np.stack([v if v is not None else next(fresh) for v in stored])


_TIME_UNITS = {"năm", "tháng", "ngày", "tuần", "giờ", "phút", "giây", "thế", "thập", "thời", "lâu", "đêm", "buổi"}
# "bao nhiêu tiền" is answered by a sum or a share ("140.000 đồng", "2 triệu", "120% mức học phí"), not "03 độ mật"
_MONEY = re.compile(r"\d\s*(%|phần trăm|đồng|đ\b|vnđ|vnd|usd|triệu|tỷ|tỉ|nghìn|ngàn)|\b(triệu|tỷ|tỉ) đồng")


_DOC_NUMBER = re.compile(r"\b(quyết định|nghị định|nghị quyết|thông tư|thông báo|công văn|văn bản|chỉ thị|luật)\s+"
                           r"(số\s+)?(mấy|bao nhiêu)\b|\bsố hiệu\b")
_DOC_NUMBER = re.compile(r"\b\d+/(?:\d{4}/)?[A-ZĐ]")
_ORDINAL = re.compile(r"\b(đầu tiên|cuối cùng|thứ (?:nhất|hai|ba|tư|năm|sáu|bảy|tám|chín|mười|\d+))\b")


def fits_type(asked: Asks, sentence: str) -> bool:
    """Does the sentence state something of the asked kind that the question does not already contain?
    A 'how many X' question where X is not time is not answered by a duration ("17 năm" does not count
    delegates); other units may be X's paraphrase ("14.000 món" for "bao nhiêu vật phẩm")."""
    question, kind = asked.text, asked.kind
    q = set(syllables(question))
    if kind == "number" and asked.doc_number:  # "quyết định số mấy": "29/QĐ-BNN-TCCB"
        return bool(_DOC_NUMBER.search(sentence))
    if kind == "number" and asked.ordinal:  # "thứ mấy": "đầu tiên" answers it
        found = _ORDINAL.findall(normalize_text(sentence).lower())
        return any(w not in normalize_text(question).lower() for w in found) or any(
            n.lower() not in q for n, _ in quantities(sentence, with_units=True))
    if kind == "number" and asked.counted == "tiền":
        return bool(_MONEY.search(normalize_text(sentence).lower()))
    if kind == "number":
        noun = asked.counted
        if noun and re.search(rf"\bmột {re.escape(noun)}\b", normalize_text(sentence).lower()):
            return True  # "một" is mostly "a", but "một lần" answers "mấy lần"
        return any(n.lower() not in q and not (noun and unit in _TIME_UNITS and noun not in _TIME_UNITS)
                   for n, unit in quantities(sentence, with_units=True))
    words = re.findall(r"\w+", sentence)
    if kind == "time":
        return any(any(c.isdigit() for c in w) and w.lower() not in q for w in words)
    return any(w[:1].isupper() and w.lower() not in q for w in words[1:])  # a name the question does not give


_NUMERAL = re.compile(r"\d[\d.,]*(?:\s*[-/]\s*\d+)*")
_COUNT_WORD = re.compile(r"\b(hai|ba|bốn|sáu|bảy|tám|chín|mười|mươi|trăm|nghìn|ngàn|triệu|tỷ|tỉ|chục|nửa|"
                         r"hàng chục|hàng trăm|hàng nghìn)\b")
# a numeral after these is a date, a time or a label ("ngày 15", "năm 2004", "Điều 5", "Bước 3"), not an amount
_NOT_AMOUNT = {"ngày", "tháng", "năm", "sáng", "chiều", "tối", "trưa", "đêm", "lúc", "số", "điều", "khoản",
               "chương", "mục", "quyết", "định", "thông", "tư", "bước"}


_UNIT = re.compile(r"\s*([^\W\d_]+)")
# a clause's own number at its start ("2. Bảo vệ bí mật nhà nước là …", "(3) …") labels it; it is no amount
_LEAD_LABEL = re.compile(r"\s*\(?\d{1,3}[.)]\s")


def quantities(text: str, with_units: bool = False) -> list:
    """Amounts a 'how many' question can be answered with: numerals that are not dates, times, scores or
    labels (the number a clause starts with, "Điều 5"), and number words ("một" and "năm" are left out: they
    are mostly "a" and "year").  `with_units`: (amount, the word right after it or "") pairs."""
    out = []
    label = _LEAD_LABEL.match(text)
    for m in _NUMERAL.finditer(text):
        tok = m.group().rstrip(".,")
        before = text[:m.start()].split()
        if (label and m.start() < label.end()) or "-" in tok or "/" in tok or (
                before and before[-1].lower().strip("(") in _NOT_AMOUNT):
            continue
        out.append((tok, m.start() + len(tok)))
    low = text.lower()
    out += [(m.group(), m.end()) for m in _COUNT_WORD.finditer(low)]
    if not with_units:
        return [t for t, _ in out]
    return [(tok, u.group(1) if (u := _UNIT.match(low, end)) else "") for tok, end in out]


def _unit(v) -> np.ndarray:
    v = np.asarray(v, float)
    lo, hi = v.min(), v.max()
    return np.zeros_like(v) if hi - lo < 1e-9 else (v - lo) / (hi - lo)


def _score(question: str, sentences: list[str]) -> list[float]:
    """idf-weighted overlap of question syllables and bigrams with each sentence."""
    fold_q = reads_unaccented(question, sentences)

    def terms(t: str) -> set[str]:
        s = syllables(t)
        if fold_q:
            s = [fold(x) for x in s]
        return set(s) | {a + " " + b for a, b in zip(s, s[1:])}

    q = {t for t in terms(question) if t not in STOPWORDS and t not in QUESTION_WORDS}
    sets = [terms(s) for s in sentences]
    n = len(sets)
    df = {t: sum(t in s for s in sets) for t in q}
    return [sum(math.log(1 + n / df[t]) * (2 if " " in t else 1) for t in q if t in s) for s in sets]


def _candidates(hits: list[Evidence]) -> list[Sentence]:
    """Every sentence of the hits; overlapping chunks counted once."""
    cands, seen = [], set()
    for rank, h in enumerate(hits):
        for a, b, t in hit_sentences(h):
            if (h.doc_id, a) not in seen:
                seen.add((h.doc_id, a))
                cands.append(Sentence(rank, a, b, t, h))
    return cands


def candidate_features(question: str, hits: list[Evidence], embedder=None) -> tuple[list[Sentence], np.ndarray]:
    """Every sentence of the hits (see _candidates) and its row of FEATURES."""
    cands = _candidates(hits)
    if not cands:
        return [], np.zeros((0, len(FEATURES)))
    stored = [c.hit.sentence_vecs.get(c.start) for c in cands]
    return cands, sentence_features(question, [c.text for c in cands], [c.rank for c in cands], embedder, stored)


def rank(cands: list[Sentence], features: np.ndarray) -> list[Ranked]:
    """Candidates best first, with their score (see WEIGHTS)."""
    scores = features @ np.array(WEIGHTS) if cands else []
    return sorted((Ranked(float(s), c) for s, c in zip(scores, cands)), key=lambda x: -x.score)


@traced("rank")
def ranked_sentences(question: str, hits: list[Evidence], embedder=None) -> list[Ranked]:
    """Every sentence of the hits, best first, with its score (see WEIGHTS)."""
    return rank(*candidate_features(question, hits, embedder))


# A sentence opening with one of these leans on the one before it ("Ông ấy ..." needs to say who).
_ANAPHORA = re.compile(r"^(anh ấy|chị ấy|cô ấy|ông ấy|bà ấy|ông|bà|họ|nó|chúng|điều này|đây|đó|việc này|he|she|they|it)\b")


def _anaphoric(sentence: str) -> bool:
    words = sentence.split()
    if not _ANAPHORA.match(sentence.strip().lower()):
        return False
    # "Ông Nguyễn Văn A ..." names the person: "ông"/"bà" followed by a name is a title, not a pronoun
    return not (words[0].lower() in ("ông", "bà") and len(words) > 1 and words[1][:1].isupper())


def in_context(h: Evidence, a: int, b: int, text: str, min_syllables: int) -> tuple[int, str]:
    """A very short or anaphoric sentence brings its predecessor for context: (start, text)."""
    if len(syllables(text)) >= min_syllables and not _anaphoric(text):
        return a, text
    prev = [s for s in hit_sentences(h) if s[1] <= a]
    if not prev:
        return a, text
    a = prev[-1][0]
    return a, h.text[a - h.start:b - h.start]


@traced("rank")
def select_passages(question: str, hits: list[Evidence], n_passages: int, embedder=None,
                    min_syllables: int = 12, margin: float = PROMPT_MARGIN, ranked=None) -> list[Passage]:
    """The best sentences of the top hits as numbered prompt passages: short prompts are read faster
    and misread less by a small generator.  Sentences scoring more than `margin` below the best are left
    out: when one sentence clearly answers, the generator sees only that one."""
    out: list[Passage] = []
    ranked = (ranked if ranked is not None else ranked_sentences(question, hits, embedder))[:n_passages]
    for score, (rank, a, b, text, h) in ranked:
        if out and score < ranked[0][0] - margin:
            break
        qa, quoted = in_context(h, a, b, text, 0)
        ca, context = (qa, quoted) if qa < a else in_context(h, a, b, text, min_syllables)
        out.append(Passage(n=len(out) + 1, hit=h, text=quoted, start=qa, end=b, score=score,
                           context=context if ca < qa else ""))
    return out


def answer_type_ok(asked: Asks, sentence: str) -> bool:
    """A 'how many' question is only answered by a sentence that states an amount."""
    return asked.kind != "number" or fits_type(asked, sentence)


