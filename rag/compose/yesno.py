"""Yes/no: a verdict by rules (coverage, denial, figures, exclusive words), then the sentence that decides it."""
from __future__ import annotations

import re

from ingest.lexical import syllables
from ingest.normalize import fold, normalize_text
from rag.compose.common import _NUMBER, Composed, bare_heading, quote, unit_at, unit_passage
from rag.evidence import Evidence, Passage
from rag.question import Question
from rag.rank import in_context, ranked_sentences
from rag.terms import content_terms, coverage, weighted_coverage
from rag.units import Library


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


def compose_yesno(q: Question, hits: list[Evidence], lib: Library, embedder=None, depth: int = 3) -> Composed:
    """A verdict first, then the sentence that decides it: of the best-ranked sentences, the one that covers
    most of the claim.  Sentences are ranked on the claim without its figures, so a claim with a wrong figure
    finds the sentence that states the right one."""
    claim = q.focus
    probe = " ".join(_NUMBER.sub(" ", claim).split()) or claim
    ranked = ranked_sentences(probe, hits, embedder)[:depth]
    if not ranked:
        return Composed("", [])

    pool = [r.sentence.text for r in ranked_sentences(probe, hits, None)]

    def context(h: Evidence, a: int) -> str:
        i = unit_at(lib.units(h.doc_id), a)
        return lib.context(h.doc_id, i) if i is not None else ""

    ranked = [r for r in ranked if not bare_heading(r.sentence.text)] or ranked
    score, (_, a, b, text, h) = max(ranked, key=lambda r: weighted_coverage(
        claim, r.sentence.text + " " + context(r.sentence.hit, r.sentence.start), pool))
    a, text = in_context(h, a, b, text, 0)
    ps = [Passage(n=1, hit=h, text=text, start=a, end=b, score=score)]
    v, why = verdict(claim, text, context(h, a), pool)
    i = unit_at(lib.units(h.doc_id), a)
    lead = lib.lead_in(h.doc_id, i) if i is not None else None
    if lead is not None and lead.kind != "row" and _denies(lead.text):
        # "b) Mang đồ ăn vào phòng đọc" is a prohibition only with "không được … sau đây:" before it: quoted too
        ps = [unit_passage(1, h.doc_id, lead, lib, score, [h]),
              Passage(n=2, hit=h, text=text, start=a, end=b, score=score)]
    lead = conditional_lead(text) if why == "conditional" else v
    return Composed(f"{lead} " + " ".join(quote(p) for p in ps), ps, verdict=v, basis=why)
