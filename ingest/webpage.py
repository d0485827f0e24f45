"""HTML pages into text: the document a page carries, not the page around it.

A law page of the national legal database (vbpl.vn and portals like it) wraps the text in site chrome
(menus, breadcrumb, tab bar, a status box "- Hiệu lực: …", a sidebar "Mục lục" repeating every heading, the
footer) and writes article headings with inline anchors (`Điều <a name="dieu_1"></a>1. …`, `Chương I<br>TITLE`).
trafilatura, made for articles, drops or splits such headings, so a page that shows legal structure is read
here with lxml: the content root is found by text density (the deepest element holding nearly all the
page's text, or all of its articles), and its blocks become lines, inline markup joined within a line.
Other pages keep trafilatura's main-text extraction.

`page_text(markup)` is the reader; `tables_as_rows(tree)` turns each `<table>` into one line per row.
"""
from __future__ import annotations

import re

from ingest.structure import heading_of
from ingest.tables import table_lines

# elements whose content is never text of the document
_DROP = "//script|//style|//noscript|//svg|//template|//iframe|//button|//select|//input|//textarea"
_BLOCKS = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
           "section", "article", "blockquote", "pre", "header", "footer", "main", "aside", "nav", "form", "center",
           "figure", "figcaption", "address", "hr", "td", "th", "body"}
NEARLY_ALL = 0.85  # a child holding this share of its parent's text is where the content is
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_ARTICLE = re.compile(r"(?m)^\s*Điều\s+(\d+[a-z]?)\s*[.:]", re.I)


class PageError(Exception):
    pass


def page_text(markup: str) -> str:
    """The text of the document on a page: a legal page's body read block by block, any other page's
    main text by trafilatura; tables one line per row either way."""
    from lxml import html as lh

    try:
        tree = lh.fromstring(markup)
    except Exception:
        raise PageError("HTML could not be parsed") from None
    for bad in tree.xpath(_DROP):
        bad.drop_tree()
    for el in tree.xpath("//*[@hidden or @style]"):
        if el.get("hidden") is not None or _HIDDEN.search(el.get("style") or ""):
            el.drop_tree()
    tables_as_rows(tree)
    root = content_root(tree)
    text = block_text(root)
    if _is_legal(text):
        return text
    return _main_text(tree)


def _is_legal(text: str) -> bool:
    """The text shows a legal structure: two Chương/Điều/Phần headings or more."""
    found = 0
    for line in text.splitlines():
        h = heading_of(line)
        if h and h[1] in ("Điều", "Chương", "Phần"):
            found += 1
            if found >= 2:
                return True
    return False


def _text_size(el) -> int:
    return len(re.sub(r"\s+", "", el.text_content()))


def content_root(tree):
    """The element that holds the document: walk down from <body> into the child holding nearly all its
    text, or at least half of it and every article heading its parent shows (a sidebar table of contents
    repeats the headings, but holds little text)."""
    el = tree.find(".//body")
    el = tree if el is None else el
    while True:
        kids = [c for c in el if isinstance(c.tag, str)]
        if not kids:
            return el
        size = _text_size(el) or 1
        sizes = [(_text_size(c), c) for c in kids]
        best_size, best = max(sizes, key=lambda x: x[0])
        if best_size >= NEARLY_ALL * size:
            el = best
            continue
        if best_size >= 0.5 * size and _articles(block_text(el)) <= _articles(block_text(best)) != set():
            el = best
            continue
        return el


def _articles(text: str) -> set[str]:
    return set(_ARTICLE.findall(text))


def block_text(el) -> str:
    """An element's text, one line per block element or <br>, inline markup (links, anchors, bold) joined
    into its line: "Điều <a name=…></a>1. Phạm vi" reads "Điều 1. Phạm vi"."""
    parts: list[str] = []

    def walk(node) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        block = tag in _BLOCKS
        if tag == "br":
            parts.append("\n")
        elif block:
            parts.append("\n")
        if tag and node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    walk(el)
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", x).strip() for x in "".join(parts).split("\n"))
    return "\n".join(x for x in lines if x)


def _main_text(tree) -> str:
    import trafilatura
    from lxml import html as lh

    text = trafilatura.extract(lh.tostring(tree, encoding="unicode"), include_comments=False, include_tables=False,
                               favor_recall=True)
    if text is None:
        for bad in tree.xpath("//nav"):
            bad.drop_tree()
        text = "\n".join(t.strip() for t in tree.itertext() if t.strip())
    return text


def tables_as_rows(tree) -> None:
    """Each <table> replaced by one paragraph per row ("header: value; ..."), spans expanded."""
    from lxml import etree

    for table in tree.xpath("//table[not(ancestor::table)]"):
        grid = _html_grid(table)
        div = etree.Element("div")
        for line in table_lines(grid):
            p = etree.SubElement(div, "p")
            p.text = line
        div.tail = table.tail
        table.getparent().replace(table, div)


def _html_grid(table) -> list[list[str | None]]:
    rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    grid: list[list[str | None]] = []
    pending: dict[tuple[int, int], str] = {}  # (row, col) filled by a rowspan from above
    for r, tr in enumerate(rows):
        row: list[str | None] = []
        col = 0
        for cell in tr.xpath("./td|./th"):
            while (r, col) in pending:
                row.append(pending.pop((r, col)))
                col += 1
            text = block_text(cell)
            span = _int(cell.get("colspan")), _int(cell.get("rowspan"))
            for c in range(span[0]):
                row.append(text)
                for k in range(1, span[1]):
                    pending[(r + k, col + c)] = text
            col += span[0]
        while (r, col) in pending:
            row.append(pending.pop((r, col)))
            col += 1
        grid.append(row)
    return grid


def _int(v) -> int:
    try:
        return max(1, min(100, int(v)))
    except (TypeError, ValueError):
        return 1
