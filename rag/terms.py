"""The words of a question and how much of it a text covers: the lexical measure every stage shares (ranking,
composing, verifying, highlighting).  Syllables are compared as written, or accent-folded when the question is
read without its diacritics."""
from __future__ import annotations

import math

from ingest.lexical import is_unaccented, syllables
from ingest.normalize import fold

# Function words and question words: they say nothing about whether a passage supports a claim.
STOPWORDS = set("""
là của và được có các những trong cho với này đó một để theo thì mà đã sẽ tại từ về như khi nào gì ai đâu
bao nhiêu sao không hay hoặc cũng vẫn rất nhiều ít nên vì do bởi nếu thế ra vào lên xuống người năm ngày
the a an of in to is was what which who when where how why did does do are were by for on at
đây câu trả lời đoạn trích theo dựa vào thông tin tài liệu
""".split())
QUESTION_WORDS = set("gì nào ai đâu sao bao nhiêu mấy không chăng".split())


def content_terms(text: str) -> list[str]:
    return [s for s in syllables(text) if s not in STOPWORDS]


def _folded_set(ts) -> set[str]:
    return {fold(t) for t in ts}


def coverage(question: str, text: str) -> float:
    """Share of the question's content syllables found in the text (accent-insensitive if the question is)."""
    q = [t for t in content_terms(question) if t not in QUESTION_WORDS]
    if not q:
        return 0.0
    if reads_unaccented(question, [text]):
        p = _folded_set(syllables(text))
        return sum(fold(t) in p for t in q) / len(q)
    p = set(syllables(text))
    return sum(t in p for t in q) / len(q)


def reads_unaccented(question: str, texts: list[str]) -> bool:
    """Is the question matched accent-insensitively against these texts: typed without diacritics
    (`is_unaccented`), or one of its lower-case bare words is written in them only with diacritics ("phai"
    where they have "phải": typed with diacritics on some words only, see ingest.lexical.BM25.unaccented)."""
    if is_unaccented(question):
        return True
    bare = {w for w in syllables(question) if fold(w) == w and not w.isdigit()} - QUESTION_WORDS
    if not bare:
        return False
    seen = {t for x in texts for t in syllables(x)}
    return any(w not in seen and w in _folded_set(seen) for w in bare)


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
