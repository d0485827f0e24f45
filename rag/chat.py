"""Multi-turn chat: a follow-up question is condensed with the history into a standalone question."""
from __future__ import annotations

import re

from llama_index.core.base.llms.types import ChatMessage

from ingest.lexical import syllables

CONDENSE = (
    "Dựa vào cuộc hội thoại dưới đây, hãy viết lại câu hỏi tiếp theo thành MỘT câu hỏi độc lập, đầy đủ ý, "
    "bằng tiếng Việt. Chỉ viết câu hỏi, không trả lời.\n\nHội thoại:\n{history}\n\nCâu hỏi tiếp theo: {question}\n"
    "Câu hỏi độc lập:"
)
FOLLOW_UP_CUES = ("thì sao", "còn ", "nó ", "đó", "này", "họ ", "ông ấy", "bà ấy", "như vậy", "vậy")


def is_follow_up(question: str) -> bool:
    """A question that leans on the previous one: it says so ("còn … thì sao", "điều đó"), or it is short and
    names no article, document or term of its own ("áp dụng cho ai?", but not "Điều 2 quy định gì?" or
    "Bạn đọc là gì?")."""
    from rag.question import understand  # a light module; imported here to keep chat free of cycles

    q = question.lower()
    if any(c in q for c in FOLLOW_UP_CUES):
        return True
    if len(syllables(q)) > 6:
        return False
    named = understand(question)
    return not (named.articles or named.documents or named.type == "definition")


# "thêm", "xem thêm", "còn gì nữa": the items the previous answer left out ("… và N ý khác")
MORE = ("thêm", "xem thêm", "còn gì nữa", "còn nữa", "còn ý nào nữa", "them", "xem them", "con gi nua", "con nua",
        "con y nao nua")


def asks_more(question: str) -> bool:
    return question.lower().strip(" ?.!…") in MORE


def condense(question: str, history: list[ChatMessage], llm=None) -> str:
    """llama-index's condense-question pattern; without a generator, the last question gives context."""
    users = [m.content for m in history if m.role.value == "user" and m.content]
    if not users or not is_follow_up(question):
        return question
    if llm is not None:
        lines = "\n".join(f"{'Người dùng' if m.role.value == 'user' else 'Trợ lý'}: {m.content}" for m in history[-6:])
        try:
            out = llm.complete(CONDENSE.format(history=lines, question=question), max_tokens=64).text.strip()
            out = out.splitlines()[0].strip() if out else ""
            if 3 <= len(out) <= 300:
                return out
        except Exception:
            pass  # a dead generator must not break the chat: fall back to the lexical rewrite
    return lexical_rewrite(question, users[-1])


_CUES = re.compile(r"^(?:thế còn|vậy còn|còn)\s+|\s*(?:thì sao|thế nào|ra sao|thì như thế nào)\s*\??\s*$", re.I)
_IDENT = re.compile(r"[\d/]|^[A-ZĐ0-9-]+$|^số$")


# "điều đó", "quy định này", "nghị quyết đó": a reference back to what the previous question named
_ANAPHOR = re.compile(r"(?i)\b(điều|khoản|quy định|văn bản|nghị quyết|nghị định|thông tư|quyết định|luật|việc|chuyện|cái)"
                      r"\s+(đó|này|ấy|trên)\b|\b(nó)\b")


def lexical_rewrite(question: str, previous: str) -> str:
    """"Còn X thì sao?" after "Y ... ?" becomes the previous question about X instead of Y.

    When X's first words appear in the previous question ("Nghị quyết 11-NQ/TW ..."), that mention
    (with its number or code) is replaced by X; "điều đó áp dụng cho ai?" after a question naming an
    article or a document number names it instead of "điều đó"; otherwise the previous question is
    appended for context.
    """
    ref = _named(previous)
    if ref and _ANAPHOR.search(question):
        return _ANAPHOR.sub(ref, question, count=1)
    x = _CUES.sub("", question.strip()).strip(" ?")
    words = previous.split()
    xs = x.split()
    # "khoản 3" replaces "Khoản 2 …": the kind word is what both mention, the number what changes
    head = [w.lower() for w in xs[:1 if len(xs) > 1 and _IDENT.search(xs[1]) else 2]]
    if x and head:
        for i in range(len(words)):
            if [w.lower() for w in words[i:i + len(head)]] == head:
                j = i + len(head)
                while j < len(words) and _IDENT.search(words[j]):
                    j += 1
                return " ".join(words[:i] + x.split() + words[j:])
    return f"{question} ({previous})"


def _named(previous: str) -> str:
    """The article or document the previous question named, as it was written there ("Điều 14",
    "Nghị quyết 37-NQ/TW"), else ""."""
    from rag.question import understand  # a light module; imported here to keep chat free of cycles

    q = understand(previous)
    if not (q.articles or q.documents):
        return ""
    m = re.search(r"(?i)((?:điểm\s+\w\s+)?(?:khoản\s+\d+\s+)?điều\s+\d+|(?:nghị quyết|nghị định|thông tư|quyết định"
                  r"|luật|chỉ thị)\s+(?:số\s+)?[\w/.-]*\d[\w/.-]*|\d+[/-][\w/-]+)", previous)
    return m.group(1) if m else ""
