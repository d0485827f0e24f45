"""Legacy Vietnamese 8-bit encodings converted to Unicode: TCVN3 (ABC, fonts .VnTime/.VnArial) and VNI
(VNI-Windows, fonts VNI-Times/VNI-Helve).

Both put Vietnamese letters on bytes that Windows shows as Latin-1 letters ("Chư¬ng" in TCVN3,
"Chöông" in VNI), so text is first read as Windows-1252, then converted. TCVN3 maps one byte to one
letter; its capitals with tone marks live in separate fonts (.VnTimeH), which use the lower-case codes:
text in such a font is upper-cased when the font is known (DOCX), and stays lower-case in a .txt file.
VNI writes a letter as its base letter followed by one mark byte ("a" + "ø" = "à").

Detection (`detect`): both conversions are tried; the one that leaves nearly every word made only of
Vietnamese letters wins. When neither is clean, or both are, the file is reported with both candidates.
"""
from __future__ import annotations

import re

# TCVN3 (TCVN 5712:1993, VN3): byte as Latin-1 character -> Unicode letter
_TCVN3_LOWER = (
    "àµ á¸ ả¶ ã· ạ¹ ă¨ ằ» ắ¾ ẳ¼ ẵ½ ặÆ â© ầÇ ấÊ ẩÈ ẫÉ ậË đ® èÌ éÐ ẻÎ ẽÏ ẹÑ êª ềÒ ếÕ ểÓ ễÔ ệÖ "
    "ì× íÝ ỉØ ĩÜ ịÞ òß óã ỏá õâ ọä ô« ồå ốè ổæ ỗç ộé ơ¬ ờê ớí ởë ỡì ợî ùï úó ủñ ũò ụô ư\xad ừõ ứø ửö "
    "ữ÷ ựù ỳú ýý ỷû ỹü ỵþ Ă¡ Â¢ Đ§ Ê£ Ô¤ Ơ¥ Ư¦"
)
TCVN3 = {pair[1]: pair[0] for pair in _TCVN3_LOWER.split()}

# VNI-Windows: a base letter followed by a mark byte
_TONES = {"ø": "\u0300", "ù": "\u0301", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_CIRCUMFLEX = {"â": "", "à": "\u0300", "á": "\u0301", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_BREVE = {"ê": "", "è": "\u0300", "é": "\u0301", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
_I_TONED = {"ì": "ì", "í": "í", "æ": "ỉ", "ó": "ĩ", "ò": "ị"}
_SINGLE = {"ô": "ơ", "ö": "ư", "ñ": "đ", "î": "ỵ"}


def _vni_table() -> dict[str, str]:
    import unicodedata as ud

    def nfc(s: str) -> str:
        return ud.normalize("NFC", s)

    t: dict[str, str] = {}
    for upper in (False, True):
        def case(s: str) -> str:
            return s.upper() if upper else s

        for base in "aeiouy":
            for mark, tone in _TONES.items():
                t[case(base) + case(mark)] = case(nfc(base + tone))
        for base, shaped in (("a", "â"), ("e", "ê"), ("o", "ô")):
            for mark, tone in _CIRCUMFLEX.items():
                t[case(base) + case(mark)] = case(nfc(shaped + tone))
        for mark, tone in _BREVE.items():
            t[case("a") + case(mark)] = case(nfc("ă" + tone))
        for single, letter in _SINGLE.items():
            t[case(single)] = case(letter)
            if letter in "ơư":
                for mark, tone in _TONES.items():
                    t[case(single) + case(mark)] = case(nfc(letter + tone))
        for mark, letter in _I_TONED.items():
            t[case(mark)] = case(letter)
    for base in "AEIOUY":  # a capital followed by a lower-case mark (title case)
        for mark, tone in _TONES.items():
            t.setdefault(base + mark, nfc(base + tone))
    return t


VNI = _vni_table()
_VNI_RE = re.compile("|".join(sorted(map(re.escape, VNI), key=len, reverse=True)))
_VN_LETTERS = set("aăâbcdđeêghiklmnoôơpqrstuưvxyfjwz") | set(
    "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")


def read_cp1252(data: bytes) -> str:
    """Bytes as Windows-1252: how the legacy fonts' users saw them."""
    return data.decode("cp1252", errors="replace")


def from_tcvn3(text: str, upper: bool = False) -> str:
    out = "".join(TCVN3.get(c, c) for c in text)
    return out.upper() if upper else out


def from_vni(text: str, upper: bool = False) -> str:
    out = _VNI_RE.sub(lambda m: VNI[m.group(0)], text)
    return out.upper() if upper else out


_ONSET = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx]"
_NUCLEUS = ("uyê|uya|uyu|oai|oay|oeo|uây|uôi|ươi|ươu|iêu|yêu|ai|ao|au|ay|âu|ây|eo|êu|ia|iê|iu|oa|oă|oe|oi|ôi|ơi|oo|"
            "ua|uâ|uê|ui|uô|uơ|ưa|ưi|ươ|ưu|uy|yê|[aăâeêioôơuưy]")
_SYLLABLE = re.compile(rf"^(?:{_ONSET})?(?:{_NUCLEUS})(?:ch|ng|nh|[cmnpt])?$")
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def _syllable(word: str) -> bool:
    """A well-formed Vietnamese syllable: onset, vowel nucleus, coda, at most one tone mark."""
    import unicodedata as ud

    if not set(word.lower()) <= _VN_LETTERS:
        return False
    d = ud.normalize("NFD", word.lower())
    if sum(c in _TONE_MARKS for c in d) > 1:
        return False
    bare = ud.normalize("NFC", "".join(c for c in d if c not in _TONE_MARKS))
    return bool(_SYLLABLE.match(bare))


def syllable_share(text: str) -> float:
    """Share of the words with a non-ASCII letter that are well-formed Vietnamese syllables."""
    words = [w for w in re.findall(r"[^\W\d_]+", text) if not w.isascii()]
    if not words:
        return 1.0
    return sum(1 for w in words if _syllable(w)) / len(words)


def detect(text: str) -> tuple[str | None, list[str]]:
    """("tcvn3" | "vni" | None, candidates) for text read as Windows-1252.

    None with no candidates: not legacy text. None with candidates: legacy, but which one cannot be told.
    """
    before = syllable_share(text)
    if before > 0.97:
        return None, []
    scores = {"tcvn3": syllable_share(from_tcvn3(text)), "vni": syllable_share(from_vni(text))}
    best = max(scores, key=scores.get)
    other = min(scores, key=scores.get)
    if scores[best] >= 0.85 and scores[best] - scores[other] >= 0.2 and scores[best] > before + 0.2:
        return best, [best]
    good = [k for k, v in scores.items() if v > before + 0.05]
    return None, good


def convert(text: str, encoding: str, upper: bool = False) -> str:
    return from_tcvn3(text, upper) if encoding == "tcvn3" else from_vni(text, upper)


def font_encoding(font: str | None) -> tuple[str | None, bool]:
    """The legacy encoding a font name implies, and whether it is an all-capitals TCVN3 font (".VnTimeH")."""
    f = (font or "").strip().lower()
    if f.startswith(".vn"):
        return "tcvn3", f.endswith("h")
    if f.startswith("vni"):
        return "vni", False
    return None, False


def to_tcvn3(text: str) -> bytes:
    """Unicode to TCVN3 bytes (capitals with tone marks become lower case, as in a .VnTime font)."""
    inverse = {v: k for k, v in TCVN3.items()}
    out = []
    for c in text:
        c = c if c in inverse or c.lower() not in inverse else c.lower()
        out.append(inverse.get(c, c))
    return "".join(out).encode("cp1252")


def to_vni(text: str) -> bytes:
    """Unicode to VNI-Windows bytes (the shortest spelling; a capital's marks in capitals)."""
    import unicodedata as ud

    inverse: dict[str, str] = {}
    for key, letter in sorted(VNI.items(), key=lambda kv: (len(kv[0]), kv[0].isupper() != kv[1].isupper())):
        inverse.setdefault(letter, key)
    return "".join(inverse.get(c, c) for c in ud.normalize("NFC", text)).encode("cp1252")
