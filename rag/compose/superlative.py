"""\"… cao nhất\": the row of a table whose figure in the column asked about is the extreme."""
from __future__ import annotations

import re

from ingest.lexical import syllables
from ingest.normalize import fold
from ingest.telemetry import traced
from rag.compose.common import Composed, quote, unit_at, unit_passage
from rag.evidence import Evidence
from rag.question import Question
from rag.units import Library, Unit


_TOTAL = re.compile(r"(?i)^\W*(tổng|cộng|toàn)")  # a total row is not one of the things compared
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def figure(cell: str) -> float | None:
    """The first number of a cell as Vietnamese writes it: "1.200" is 1200, "3,6" is 3.6."""
    m = _FIGURE.search(cell)
    if not m:
        return None
    t = m.group(0)
    t = t.replace(".", "") if re.fullmatch(r"\d{1,3}(\.\d{3})+", t) else t
    try:
        return float(t.replace(",", "."))
    except ValueError:
        return None


def row_cells(units: list[Unit], i: int) -> dict[str, str]:
    """A table row as {header: cell}: "Ngành: X; Chỉ tiêu: 200" as ingest writes a DOCX/PDF table, or a bar row
    under its table's header row."""
    text = units[i].text
    if "|" not in text and "\t" not in text:
        pairs = [c.split(":", 1) for c in text.split(";") if ":" in c]
        return {k.strip(): v.strip() for k, v in pairs}
    j = i
    while j > 0 and units[j - 1].kind == "row":
        j -= 1
    def split(t):
        return [c.strip() for c in re.split(r"\||\t", t.strip().strip("|")) if c.strip()]
    head, cells = split(units[j].text), split(text)
    return dict(zip(head, cells)) if j < i and len(head) == len(cells) else {}


@traced("compose")
def compose_superlative(q: Question, ranked, lib: Library, hits: list[Evidence], depth: int = 10) -> Composed:
    """The row with the highest (lowest) figure in the column the question names, of the table of the best-ranked
    row; total rows are left out.  Empty when the question asks no superlative or no ranked table fits."""
    way = q.asks.extreme
    if not way:
        return Composed("", [])
    asked = {fold(w) for w in syllables(q.focus)}
    for score, (_, a, _, _, h) in ranked[:depth]:
        units = lib.units(h.doc_id)
        i = unit_at(units, a)
        if i is None or units[i].kind != "row":
            continue
        j, k = i, i
        while j > 0 and units[j - 1].kind == "row":
            j -= 1
        while k + 1 < len(units) and units[k + 1].kind == "row":
            k += 1
        rows = [(r, row_cells(units, r)) for r in range(j, k + 1)]
        rows = [(r, c) for r, c in rows if c and not _TOTAL.match(next(iter(c.values()), ""))]
        # the column: the header most of whose words the question says, with a figure in every row
        columns = {h_ for _, c in rows for h_ in c if all(figure(c.get(h_, "")) is not None for _, c in rows)}
        named = sorted(((len(asked & {fold(w) for w in syllables(c)}) / max(len(syllables(c)), 1), c)
                        for c in columns), reverse=True)
        if len(rows) < 2 or not named or named[0][0] == 0:
            continue
        col = named[0][1]
        pick = (max if way == "max" else min)(rows, key=lambda rc: figure(rc[1][col]))
        p = unit_passage(1, h.doc_id, units[pick[0]], lib, score, hits)
        return Composed(quote(p), [p], basis=f"{way} of '{col}'")
    return Composed("", [])
