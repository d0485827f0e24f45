"""Ruled tables on scanned pages: the ruling lines found in the image (numpy), OCR words put in their cells,
each table given back as rows with headers (`tables.table_lines`) instead of OCR fragments.

Why not a table library: img2table and camelot need OpenCV or Ghostscript and a layout model download for
their best modes; the ruled case (what official annexes use) only needs the long straight dark runs, which
numpy finds in a few milliseconds per page.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DARK = 140  # gray level below which a pixel is ink
MIN_RULE = 0.06  # a horizontal ruling line is at least this share of the page width long
MIN_UPRIGHT = 0.03  # a vertical one this share of its height (a one-line header cell is short; letters shorter)
MIN_CELL_PX = 12  # lines closer than this are the same line (a thick or doubled rule)


@dataclass
class Grid:
    rows: list[float]  # y of each horizontal rule, top to bottom
    cols: list[float]  # x of each vertical rule, left to right
    cuts: list[list[float]]  # per row band: the vertical rules that really cross it (merged cells lack some)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.cols[0], self.rows[0], self.cols[-1], self.rows[-1]


def find_grids(image):
    """The ruled tables of a page image (PIL), each as its rule positions, and the page with its ruling
    lines whitened (Tesseract reads rules as "|" and "_" and loses the words that touch them)."""
    gray = image.convert("L")
    ink = np.asarray(gray) < DARK
    h, w = ink.shape
    horiz = _runs(ink, int(w * MIN_RULE))
    vert = _runs(ink.T, int(h * MIN_UPRIGHT)).T
    ys = _positions(horiz.sum(axis=1) >= w * MIN_RULE)
    xs = _positions(vert.sum(axis=0) >= h * MIN_UPRIGHT)
    grids = _grid(ys, xs, vert)
    if not grids:
        return [], image
    from PIL import Image

    pixels = np.asarray(gray).copy()
    pixels[horiz | vert] = 255
    return grids, Image.fromarray(pixels)


def _grid(ys: list[float], xs: list[float], vert: np.ndarray) -> list[Grid]:
    if len(ys) < 2 or len(xs) < 2:
        return []
    grid = Grid(ys, xs, [])
    for top, bottom in zip(ys, ys[1:]):
        # a rule crosses the band when it is there along most of the band's middle (a scan is never quite
        # straight: a few pixels of slack each side)
        a, b = int(top + 0.2 * (bottom - top)), int(bottom - 0.2 * (bottom - top)) + 1
        grid.cuts.append([x for x in xs if vert[a:b, max(0, int(x) - 6):int(x) + 7].any(axis=1).mean() > 0.6])
    if sum(len(c) >= 3 for c in grid.cuts) < 2:  # a frame or two underlines: not a table
        return []
    return [grid]


def _runs(ink: np.ndarray, length: int) -> np.ndarray:
    """Pixels lying on a horizontal run of ink at least `length` long."""
    width = ink.shape[1]
    if width < length:
        return np.zeros_like(ink)
    c = np.cumsum(np.pad(ink.astype(np.int32), ((0, 0), (1, 0))), axis=1)
    starts = (c[:, length:] - c[:, :-length]) == length  # a full run starts at x (width - length + 1 of them)
    s = np.cumsum(np.pad(starts.astype(np.int32), ((0, 0), (1, 0))), axis=1)
    x = np.arange(width)
    hi = np.minimum(x + 1, starts.shape[1])  # x is covered by a run starting in [x - length + 1, x]
    lo = np.clip(x - length + 1, 0, starts.shape[1])
    return (s[:, hi] - s[:, lo]) > 0


def _positions(mask: np.ndarray) -> list[float]:
    """Centres of the runs of True in a 1-D mask, runs closer than MIN_CELL_PX merged."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    groups: list[list[int]] = [[int(idx[0])]]
    for i in idx[1:]:
        if i - groups[-1][-1] <= MIN_CELL_PX:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    return [sum(g) / len(g) for g in groups]


def cell_rows(grid: Grid, words: list[tuple]) -> list[list[str | None]]:
    """OCR words (text, x0, top, x1, bottom, line id) placed in the grid's cells: one list of cell texts per
    row band, a cell's words read line by line (Tesseract's lines, top to bottom, each left to right); a cell
    merged across columns gives its text once, in its first column."""
    rows: list[list[str | None]] = []
    for band, (top, bottom) in enumerate(zip(grid.rows, grid.rows[1:])):
        cuts = grid.cuts[band] if len(grid.cuts[band]) >= 2 else [grid.cols[0], grid.cols[-1]]
        cells: list[list[tuple]] = [[] for _ in cuts[1:]]
        for w in words:
            cx, cy = (w[1] + w[3]) / 2, (w[2] + w[4]) / 2
            if top <= cy < bottom:
                k = next((i for i, (a, b) in enumerate(zip(cuts, cuts[1:])) if a <= cx < b), None)
                if k is not None:
                    cells[k].append(w)
        row: list[str | None] = []
        for (a, b), cell in zip(zip(cuts, cuts[1:]), cells):
            span = sum(1 for x0, x1 in zip(grid.cols, grid.cols[1:]) if a - 6 <= x0 and x1 <= b + 6) or 1
            row += [_read(cell)] + [""] * (span - 1)
        rows.append(row)
    return rows


def _read(cell: list[tuple]) -> str:
    lines: dict = {}
    for w in cell:
        lines.setdefault(w[5], []).append(w)
    ordered = sorted(lines.values(), key=lambda ws: min(w[2] for w in ws))
    return " ".join(w[0] for ws in ordered for w in sorted(ws, key=lambda w: w[1]))
