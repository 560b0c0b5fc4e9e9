"""Tables from text boxes: rows from vertical alignment, columns from horizontal alignment.

No ruling lines are needed: the row with the most boxes (usually the header) defines the
columns; every other row's boxes go to the column they overlap most (or the nearest one).
The table is the longest run of consecutive rows with at least two cells.
"""

from __future__ import annotations

from .engines import Line, reading_order
from .extract import tidy


def rows_of(lines: list[Line]) -> list[list[Line]]:
    rows: list[list[Line]] = []
    for ln in reading_order(lines):
        cy = ln.box[1] + ln.box[3] / 2
        if rows:
            ref = rows[-1][0]
            if abs(cy - (ref.box[1] + ref.box[3] / 2)) <= 0.5 * min(ln.box[3], ref.box[3]):
                rows[-1].append(ln)
                continue
        rows.append([ln])
    return [sorted(r, key=lambda ln: ln.box[0]) for r in rows]


def table_from_lines(lines: list[Line]) -> list[list[str]]:
    rows = rows_of(lines)
    # longest run of rows with 2+ cells, allowing single-cell rows (wrapped text) inside it
    best, cur = (0, 0), None
    for i, row in enumerate(rows):
        if len(row) >= 2:
            cur = (cur[0], i + 1) if cur else (i, i + 1)
            if cur[1] - cur[0] > best[1] - best[0]:
                best = cur
        elif cur and i + 1 < len(rows) and len(rows[i + 1]) >= 2:
            continue
        else:
            cur = None
    table_rows = [r for r in rows[best[0]:best[1]] if r]
    while table_rows and len(table_rows[0]) < 2:
        table_rows.pop(0)
    if not table_rows:
        return []
    anchor = max(table_rows, key=len)
    table_rows = table_rows[table_rows.index(anchor):]  # the header: the row with the most cells
    columns = [(ln.box[0], ln.box[0] + ln.box[2]) for ln in anchor]
    out = []
    for row in table_rows:
        cells = [""] * len(columns)
        for ln in row:
            x0, x1 = ln.box[0], ln.box[0] + ln.box[2]
            overlaps = [max(0, min(x1, c1) - max(x0, c0)) for c0, c1 in columns]
            if max(overlaps) > 0:
                col = overlaps.index(max(overlaps))
            else:
                cx = (x0 + x1) / 2
                col = min(range(len(columns)), key=lambda k: abs(cx - (columns[k][0] + columns[k][1]) / 2))
            cells[col] = (cells[col] + " " + tidy(ln.text)).strip()
        out.append(cells)
    return out
