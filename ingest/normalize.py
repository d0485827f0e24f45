"""Vietnamese normalization for search, with a map back to the original text.

`normalize(text)` returns the normalized text and, for every character of it, the index of the
character in the original it came from, so chunk offsets can always be reported against the
user's own file.  Normalization: zero-width/control characters removed, Unicode NFC, and one
tone-mark placement ("hoà" -> "hòa", "thuỷ" -> "thủy", "qúy" -> "quý").
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

_DROP = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
_KEEP_CONTROL = {"\n", "\t"}

# combining tone marks: grave, acute, hook above, tilde, dot below
TONES = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}
_VOWELS = set("aăâeêioôơuưy")
_MODIFIED = set("ăâêôơư")
_WORD = re.compile(r"[^\W\d_]+")


@dataclass
class Normalized:
    original: str
    text: str
    offsets: list[int]  # offsets[i] = index in the original of text[i]; len == len(text) + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalized text to the original text."""
        o_start = self.offsets[start]
        if end <= start:
            return o_start, o_start
        o_end = self.offsets[end]  # start of the next kept character: keeps combining marks whole
        while o_end > o_start and (self.original[o_end - 1] in _DROP or self.original[o_end - 1].isspace()):
            o_end -= 1
        return o_start, o_end


def _strip_tone(syl: str) -> tuple[str, str | None, bool]:
    """Return (syllable without tone, tone mark, was_upper per char handled by caller)."""
    tone = None
    out = []
    for ch in syl:
        d = unicodedata.normalize("NFD", ch)
        base = [c for c in d if c not in TONES]
        t = [c for c in d if c in TONES]
        if t:
            tone = t[0]
        out.append(unicodedata.normalize("NFC", "".join(base)))
    return "".join(out), tone, False


def _tone_position(low: str) -> int | None:
    """Index of the vowel that carries the tone, in the common ("hòa", "thủy") style."""
    start = 0
    if low.startswith("qu") and len(low) > 2 and low[2] in _VOWELS:
        start = 2
    elif low.startswith("gi") and len(low) > 2 and low[2] in _VOWELS:
        start = 2
    idx = [i for i in range(start, len(low)) if low[i] in _VOWELS]
    if not idx:
        return None
    # the vowel cluster is the first run of vowels
    cluster = [idx[0]]
    for i in idx[1:]:
        if i == cluster[-1] + 1:
            cluster.append(i)
        else:
            break
    if len(cluster) == 1:
        return cluster[0]
    mod = [i for i in cluster if low[i] in _MODIFIED]
    if mod:
        return mod[-1] if low[mod[-1]] == "ơ" or len(mod) == 1 else mod[-1]
    closed = cluster[-1] + 1 < len(low)
    if closed:
        return cluster[-1]
    if len(cluster) == 3:
        return cluster[1]
    return cluster[0]


@functools.lru_cache(maxsize=65536)  # a few thousand syllables make up most Vietnamese text
def fix_tone(syl: str) -> str:
    """Re-place the tone mark of one syllable; returns a string of the same length."""
    bare, tone, _ = _strip_tone(syl)
    if tone is None or len(bare) != len(syl):
        return syl
    pos = _tone_position(bare.lower())
    if pos is None:
        return syl
    chars = list(bare)
    chars[pos] = unicodedata.normalize("NFC", chars[pos] + tone)
    out = "".join(chars)
    return out if len(out) == len(syl) else syl


_UNSAFE = re.compile("[" + "".join(sorted(_DROP)) + "\x00-\x08\x0b-\x1f\x7f-\x9f]")


def normalize(text: str) -> Normalized:
    if unicodedata.is_normalized("NFC", text) and not _UNSAFE.search(text):
        # the common case (NFC text, nothing to drop): every character maps to itself
        fixed = _WORD.sub(lambda m: fix_tone(m.group(0)), text)
        return Normalized(text, fixed, list(range(len(text) + 1)))
    out: list[str] = []
    offs: list[int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _DROP or (unicodedata.category(ch) == "Cc" and ch not in _KEEP_CONTROL):
            i += 1
            continue
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        group = unicodedata.normalize("NFC", text[i:j])
        for c in group:
            out.append(c)
            offs.append(i)
        i = j
    offs.append(n)
    composed = "".join(out)
    fixed = _WORD.sub(lambda m: fix_tone(m.group(0)), composed)
    return Normalized(text, fixed, offs)


def normalize_text(text: str) -> str:
    return normalize(text).text


def fold(text: str) -> str:
    """Remove diacritics (đ -> d): the accent-insensitive form used by the lexical index."""
    d = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in d if not unicodedata.combining(c))
