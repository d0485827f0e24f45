"""Diacritics put back on a question typed without them, from the passages its words matched.

A question typed without diacritics ("nghi quyet 37 ban hanh ngay nao") is found by the accent-folded BM25
field, but the embedder reads bare syllables poorly.  The passages that BM25 found spell the same words with
their diacritics: each bare syllable of the question takes the spelling those passages use for it, chosen by
its neighbours where a syllable folds to several words ("ban hanh" -> "ban hành", "ban" -> "bản" elsewhere).
The restored question is what the embedder reads; nothing is guessed beyond the collection's own words.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from ingest.lexical import syllables
from ingest.normalize import fold

_WORD = re.compile(r"\w+")


def _spellings(texts: list[str]) -> tuple[dict, dict]:
    """folded syllable -> Counter of its spellings; folded pair -> Counter of the pair's spellings."""
    uni: dict[str, Counter] = defaultdict(Counter)
    pair: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for t in texts:
        syl = syllables(t)
        folded = [fold(s) for s in syl]
        for s, f in zip(syl, folded):
            uni[f][s] += 1
        for i in range(len(syl) - 1):
            pair[folded[i], folded[i + 1]][syl[i], syl[i + 1]] += 1
    return uni, pair


def restore(question: str, texts: list[str]) -> str:
    """The question with each bare syllable spelled as the passages spell it (left as typed when they do
    not hold it).  Syllables typed with diacritics, numbers and punctuation are kept."""
    uni, pair = _spellings(texts)
    words = list(_WORD.finditer(question))
    low = [m.group(0).lower() for m in words]
    folded = [fold(w) for w in low]
    out, last = [], 0
    for i, m in enumerate(words):
        w = low[i]
        pick = w
        if w == folded[i] and not w.isdigit() and uni.get(w):
            score = Counter()
            for form, n in uni[w].items():
                score[form] += n
            # a neighbour's pair decides between spellings (x10: one shared pair outweighs frequency)
            if i > 0:
                for (a, b), n in pair.get((folded[i - 1], w), {}).items():
                    if a == low[i - 1] or low[i - 1] == folded[i - 1]:
                        score[b] += 10 * n
            if i + 1 < len(words):
                for (a, b), n in pair.get((w, folded[i + 1]), {}).items():
                    if b == low[i + 1] or low[i + 1] == folded[i + 1]:
                        score[a] += 10 * n
            pick = max(score, key=lambda f: (score[f], f == w))
        text = m.group(0)
        if pick != w:
            text = pick.capitalize() if text[:1].isupper() else pick
        out.append(question[last:m.start()] + text)
        last = m.end()
    return "".join(out) + question[last:]
