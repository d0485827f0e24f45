"""What a named document regulates, when it takes effect, who signed it, which body issued it."""
from __future__ import annotations

import re

from rag.compose.common import Composed, bare_heading, quote, unit_passage
from rag.evidence import Evidence
from rag.units import Library, Unit


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


def compose_document_fact(asks: str, doc_id: str, lib: Library, hits: list[Evidence]) -> Composed:
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
    p = unit_passage(1, doc_id, u, lib, 1.0, hits)
    return Composed(quote(p), [p], basis=asks)
