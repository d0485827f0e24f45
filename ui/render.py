"""HTML and Markdown for the web chat. Every piece of document text goes through `html.escape`."""
from __future__ import annotations

import html
import re
from pathlib import Path

from rag.highlight import supporting_spans

MARKER = re.compile(r"\[(\d+)\]")
SOURCE_VIEW_MAX = 200_000  # characters of a document shown around the cited span


def esc(s) -> str:
    return html.escape(str(s or ""), quote=True)


def file_name(source: str) -> str:
    return Path(source).name or source


def marked(text: str, spans: list[tuple[int, int]], cls: str = "hd-hl") -> str:
    """Escaped text with <mark> around the spans."""
    out, pos = [], 0
    for a, b in spans:
        if a < pos:
            continue
        out.append(esc(text[pos:a]))
        out.append(f'<mark class="{cls}">{esc(text[a:b])}</mark>')
        pos = b
    out.append(esc(text[pos:]))
    return "".join(out)


def ingest_lines(summary) -> list[str]:
    """One line per file of an ingest summary, for the Documents tab."""
    lines = [f"✓ {file_name(src)}: đã thêm" for src in summary.added]
    lines += [f"✓ {file_name(src)}: đã cập nhật" for src in summary.updated]
    lines += [f"– {file_name(src)}: không đổi" for src in summary.unchanged]
    lines += [f"✗ {file_name(f['path'])}: {f['error']}" for f in summary.failed]
    return lines


def _tooltip(c: dict) -> str:
    t = " ".join(c["text"].split())
    return f"{file_name(c['source'])}: {t[:280]}{'…' if len(t) > 280 else ''}"


_NUMBERED = re.compile(r"^(\s*(?:[-*+] )?\d+)([.)])(?=\s)")


def markdown_safe(answer: str) -> str:
    """The answer's lines as Markdown shows them verbatim: a quoted clause's own "1." stays its text (not a list
    the browser renumbers), and a line after the items ("… và 2 ý khác") is not folded into the last item."""
    out, in_list = [], False
    for line in answer.split("\n"):
        bullet = line.lstrip().startswith(("- ", "* ", "+ "))
        if in_list and not bullet and line.strip():
            out.append("")
        out.append(_NUMBERED.sub(lambda m: m.group(1) + "\\" + m.group(2), line))
        in_list = bullet
    return "\n".join(out)


def answer_markdown(p: dict, turn: int) -> str:
    """The assistant message: the answer with [n] as links to the card (hover shows the passage)."""
    if p["refused"]:
        extra = " Xem «Các đoạn liên quan» bên cạnh để tự kiểm tra." if p["passages"] else ""
        return f'<span class="hd-refusal">⚠ {esc(p["answer"])}</span>{esc(extra)}'
    by_n = {c["n"]: c for c in p["citations"]}

    def link(m: re.Match) -> str:
        c = by_n.get(int(m.group(1)))
        if not c:
            return esc(m.group(0))
        return (f'<a class="hd-ref" href="#hd-card-{turn}-{c["n"]}" title="{esc(_tooltip(c))}">'
                f'[{c["n"]}]</a>')

    text = markdown_safe(p["answer"])
    parts, pos = [], 0
    for m in MARKER.finditer(text):
        parts.append(esc(text[pos:m.start()]))
        parts.append(link(m))
        pos = m.end()
    parts.append(esc(text[pos:]))
    body = "".join(parts)
    if p.get("standalone_question") and p["standalone_question"] != p["question"]:
        # a follow-up is answered as the question it was read as: show it, so a wrong reading is seen
        body = f'<span class="hd-standalone">» {esc(p["standalone_question"])}</span>\n\n' + body
    if p["notice"]:
        body += f'\n\n<span class="hd-notice">({esc(p["notice"])})</span>'
    if p["citations"]:
        srcs = "; ".join(f"[{c['n']}] {esc(where(c))}" for c in p["citations"])
        body += f'\n\n<span class="hd-sources">Nguồn: {srcs}</span>'
    return body


def where(c: dict) -> str:
    """File, page (and OCR), article label of a citation: "quy-che.pdf, trang 2, Điều 14 › Khoản 1"."""
    out = file_name(c["source"])
    if c.get("page"):
        out += f", trang {c['page']}" + (" (OCR)" if c.get("ocr") else "")
    if c.get("label"):
        out += f", {c['label']}"
    return out


def _card(c: dict, turn: int, kind: str, p: dict) -> str:
    # cited passages: the words the answer took from them; other passages: the question's words
    answer = p["answer"] if kind == "cite" and not p["refused"] else ""
    spans = supporting_spans(c["text"], answer, p["question"])
    meta = [f'<span class="hd-file">{esc(file_name(c["source"]))}</span>']
    if c.get("page"):
        meta.append(f'<span class="hd-page">trang {esc(c["page"])}</span>')
    if c.get("ocr"):
        meta.append('<span class="hd-ocr" title="Văn bản nhận dạng từ ảnh quét (OCR)">OCR</span>')
    if c.get("label"):
        meta.append(f'<span class="hd-label">{esc(c["label"])}</span>')
    elif c.get("heading"):
        meta.append(f'<span class="hd-heading">{esc(c["heading"])}</span>')
    meta.append(f'<span class="hd-score">điểm {c["score"]:.3f}</span>')
    key = f"{turn}:{kind}:{c['n']}"
    return (
        f'<div class="hd-card hd-card-{kind}" id="hd-card-{turn}-{c["n"]}" data-n="{c["n"]}">'
        f'<div class="hd-card-head"><b class="hd-n">[{c["n"]}]</b> {" · ".join(meta)}</div>'
        f'<div class="hd-passage">{marked(c["text"], spans)}</div>'
        f'<button class="hd-open" data-open="{esc(key)}" type="button">Mở tài liệu nguồn ↗</button>'
        f"</div>"
    )


def cards_html(p: dict | None, turn: int) -> str:
    if p is None:
        return '<div class="hd-empty">Các đoạn trích dẫn sẽ hiện ở đây sau khi bạn đặt câu hỏi.</div>'
    if p["refused"]:
        head = (f'<div class="hd-refusal-box" id="hd-refusal" data-turn="{turn}"><b>Tài liệu không trả lời câu hỏi này.</b> '
                "Không có đoạn nào đủ căn cứ để trích dẫn.</div>")
        return head
    cards = "".join(_card(c, turn, "cite", p) for c in p["citations"])
    return f'<div class="hd-cards"><h4>Đoạn được trích dẫn</h4>{cards}</div>'


def related_html(p: dict | None, turn: int) -> str:
    if not p or not p["passages"]:
        return '<div class="hd-empty">Chưa có đoạn liên quan.</div>'
    cards = "".join(_card(c, turn, "rel", p) for c in p["passages"])
    return f'<div class="hd-cards hd-related">{cards}</div>'


def source_html(title: str, source: str, text: str | None, start: int, end: int, page=None) -> str:
    """The whole document with the cited span highlighted (the UI scrolls it into view)."""
    if text is None:
        return '<div class="hd-empty">Tài liệu này không còn trong bộ tài liệu (đã bị xóa?).</div>'
    lo, hi, cut = 0, len(text), ""
    if len(text) > SOURCE_VIEW_MAX:
        lo = max(0, start - SOURCE_VIEW_MAX // 2)
        hi = min(len(text), lo + SOURCE_VIEW_MAX)
        cut = f'<div class="hd-notice">Tài liệu dài: chỉ hiện ký tự {lo}–{hi}.</div>'
    start, end = max(lo, min(start, hi)), max(lo, min(end, hi))
    body = (esc(text[lo:start]) + f'<mark class="hd-span" id="hd-span">{esc(text[start:end])}</mark>'
            + esc(text[end:hi]))
    where = esc(file_name(source)) + (f", trang {esc(page)}" if page else "")
    return (f'<div class="hd-source"><div class="hd-source-head"><b>{esc(title)}</b> — {where} '
            f'<span class="hd-offsets">[{start}:{end}]</span></div>{cut}'
            f'<pre class="hd-doc">{body}</pre></div>')
