"""Multi-turn chat: "thêm" (the items an answer left out).  Follow-ups are resolved against what the conversation
is about: rag.conversation_state."""
from __future__ import annotations

# "thêm", "xem thêm", "còn gì nữa": the items the previous answer left out ("… và N ý khác")
MORE = ("thêm", "xem thêm", "còn gì nữa", "còn nữa", "còn ý nào nữa", "them", "xem them", "con gi nua", "con nua",
        "con y nao nua")


def asks_more(question: str) -> bool:
    return question.lower().strip(" ?.!…") in MORE
