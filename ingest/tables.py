"""Tables as text a reader (and BM25, and the embedder) can use: one line per row, each cell with its header.

    Ngành: An toàn thông tin; Chỉ tiêu: 120; Trúng tuyển: 131

`grid` is a list of rows of cell texts as laid out on the page, merged cells already repeated over every
position they cover (DOCX/HTML/PDF readers do that); `None` marks a cell a reader could not fill.
"""
from __future__ import annotations

import re

MAX_ROWS = 20_000  # a table longer than this is cut, with a note: nobody reads 10^5 rows in an answer


def clean(cell: str | None) -> str:
    return re.sub(r"\s+", " ", cell or "").strip()


def _is_number(s: str) -> bool:
    return bool(re.fullmatch(r"[\d.,%\s()+\-–]+", s)) and any(c.isdigit() for c in s)


def _header_rows(grid: list[list[str]]) -> int:
    """How many rows at the top are headers: the first, plus the next while the one above had merged cells
    (a value repeated across columns) and the row itself holds no figures."""
    n = 1
    while n < len(grid) - 1:
        above, row = grid[n - 1], grid[n]
        merged_above = any(above[i] and above[i] == above[i + 1] for i in range(len(above) - 1))
        if not merged_above or any(_is_number(c) for c in row if c):
            break
        n += 1
    return n


def _headers(grid: list[list[str]], n: int) -> list[str]:
    width = len(grid[0])
    out = []
    for col in range(width):
        parts: list[str] = []
        for r in range(n):
            c = grid[r][col]
            if c and (not parts or parts[-1] != c):
                parts.append(c)
        out.append(" › ".join(parts))
    return out


def is_layout_table(rows: list[list[str | None]]) -> bool:
    """A table used for layout (the two-column head of an official letter), not data: one column, or a
    first row whose cells hold several paragraphs or long text (column headers are short)."""
    first = [c or "" for c in rows[0]]
    return len(first) < 2 or any("\n" in c.strip() or len(c) > 80 for c in first)


def table_lines(rows: list[list[str | None]]) -> list[str]:
    """The text lines of one table."""
    rows = [r for r in rows if any(clean(c) for c in r)]
    if not rows:
        return []
    width = max(len(r) for r in rows)
    grid = [[clean(c) for c in r] + [""] * (width - len(r)) for r in rows]
    if is_layout_table(rows):
        return _layout_lines(rows)
    n = _header_rows(grid)
    heads = _headers(grid, n)
    lines = []
    body = grid[n:]
    for row in body[:MAX_ROWS]:
        cells, prev = [], None
        for h, v in zip(heads, row):
            if not v or (h, v) == prev:
                continue
            prev = (h, v)
            cells.append(f"{h}: {v}" if h and h != v else v)
        if cells:
            lines.append("; ".join(cells))
    if len(body) > MAX_ROWS:
        lines.append(f"(bảng còn {len(body) - MAX_ROWS} dòng không được đưa vào chỉ mục)")
    return lines


def _layout_lines(rows: list[list[str | None]]) -> list[str]:
    """Cells read column by column (left block, then right block), each paragraph of a cell a line,
    a merged cell once."""
    out: list[str] = []
    width = max(len(r) for r in rows)
    for col in range(width):
        for row in rows:
            c = row[col] if col < len(row) else None
            if not c or (col > 0 and col - 1 < len(row) and row[col - 1] == c):
                continue
            for line in (clean(x) for x in c.splitlines()):
                if line and not re.fullmatch(r"[-_–—=.\s]+", line) and (not out or out[-1] != line):
                    out.append(line)
    return out
