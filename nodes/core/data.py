"""Data files: CSV, JSON and Excel (.xlsx) in and out.

A table is a list of row objects ({"name": "Ada", "total": "12"}). Reading keeps the file's
column order in ``columns``; writing takes the columns from the first appearance of each key
unless ``columns`` gives the order. openpyxl is imported only by the Excel nodes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re

from botloom.runner.sdk import NodeError, Output, Param, did_you_mean, make_parent, node, not_found, os_failure

from .files import check_encoding, decode_failure, read_file_text

CATEGORY = "Data"
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


# ---------------------------------------------------------------- helpers
def _infer(value: str):
    text = value.strip()
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        number = float(text)
        return number if number not in (float("inf"), float("-inf")) else value
    return value


def _header(names: list) -> list[str]:
    """Column names from a header row: blanks become colN, repeats get _2, _3 ..."""
    out: list[str] = []
    for i, name in enumerate(names, 1):
        base = _cell_text(name).strip() or f"col{i}"
        key, n = base, 2
        while key in out:
            key, n = f"{base}_{n}", n + 1
        out.append(key)
    return out


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _table_columns(rows: list[dict], columns: list | None) -> list[str]:
    if columns:
        return [str(c) for c in columns]
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(str(key), None)
    return list(seen)


def _delimiter(value: str) -> str:
    value = {"\\t": "\t", "tab": "\t", "": ","}.get(value if value is not None else "", value)
    if len(value) != 1:
        raise NodeError(f"the delimiter must be one character, got {value!r}", kind="bad_input",
                        fix="use , or ; or | (write \\t or tab for a tab)")
    return value


def _unknown_columns(path, rows: list[dict], columns: list[str]) -> None:
    extra = sorted({str(k) for row in rows for k in row} - set(columns))
    if extra:
        raise NodeError(f"the rows have column(s) {', '.join(extra)} that {path} does not have "
                        f"(its columns: {', '.join(columns)})", kind="bad_input",
                        fix="give 'columns' to choose which columns to write, or write to a new file")


# ---------------------------------------------------------------- CSV
def _replaces(params: dict) -> bool:
    """Writing a whole file again is harmless; appending the same rows twice is not."""
    return params.get("append") is False


@node("data.read_csv", title="Read CSV", category=CATEGORY, icon="table",
      params=[Param("path", "path", required=True, path="open", description="The CSV file."),
              Param("header", "boolean", default=True,
                    description="The first line holds the column names (otherwise columns are col1, col2 ...)."),
              Param("delimiter", "string", default=",", advanced=True, description="Field separator: , ; | or \\t."),
              Param("encoding", "string", default="utf-8-sig", advanced=True,
                    description="utf-8-sig also reads plain UTF-8; cp1252 for older Windows exports."),
              Param("infer_types", "boolean", default=False, advanced=True,
                    description="Turn whole numbers and decimals into numbers (otherwise every value is text).")],
      outputs=[Output("rows", "table", "One object per line."), Output("columns", "list", "Column names in order."),
               Output("count", "integer", "Number of rows.")],
      aliases=("csv", "spreadsheet", "import csv"))
def read_csv(ctx, path, header, delimiter, encoding, infer_types):
    """Reads a CSV file into a table. Blank lines are skipped."""
    p = ctx.path(path)
    sep = _delimiter(delimiter)
    check_encoding(encoding)
    try:
        with open(p, newline="", encoding=encoding) as fh:
            lines = [r for r in csv.reader(fh, delimiter=sep) if any(v.strip() for v in r)]
    except UnicodeError as exc:
        raise decode_failure(ctx, exc, p, encoding) from None
    except csv.Error as exc:
        raise NodeError(f"{p} is not valid CSV: {exc}", kind="bad_input",
                        fix="check the delimiter and the quotes in the file") from None
    except OSError as exc:
        raise os_failure(ctx, exc, p, "read") from None
    width = max((len(r) for r in lines), default=0)
    if header and lines:
        columns = _header(lines[0])
        lines = lines[1:]
        if width > len(columns):
            ctx.log(f"some lines of {p} have more fields than the header; extra columns are named "
                    f"col{len(columns) + 1} ...", "warning")
            columns += _header([""] * width)[len(columns):]
    else:
        columns = [f"col{i}" for i in range(1, width + 1)]
    rows = []
    for line in lines:
        values = line + [""] * (len(columns) - len(line))
        rows.append({c: (_infer(v) if infer_types else v) for c, v in zip(columns, values)})
    ctx.log(f"read {len(rows)} row(s), {len(columns)} column(s) from {p}", "debug")
    return {"rows": rows, "columns": columns, "count": len(rows)}


@node("data.write_csv", title="Write CSV", category=CATEGORY, icon="table", side_effects=True, idempotent=_replaces,
      params=[Param("path", "path", required=True, path="save"),
              Param("rows", "table", required=True, description="The table to write."),
              Param("columns", "list", advanced=True, description="Columns to write, in order (default: all)."),
              Param("append", "boolean", default=False,
                    description="Add the rows to the end of an existing file (its header is kept)."),
              Param("header", "boolean", default=True, advanced=True, description="Write a header line."),
              Param("delimiter", "string", default=",", advanced=True),
              Param("encoding", "string", default="utf-8", advanced=True,
                    description="utf-8-sig makes Excel recognise UTF-8.")],
      outputs=[Output("path", "path", "The file written."), Output("count", "integer", "Rows written.")],
      aliases=("csv", "export csv", "save table"))
def write_csv(ctx, path, rows, columns, append, header, delimiter, encoding):
    """Writes a table to a CSV file (replacing it, or appending to it)."""
    p = ctx.path(path)
    sep = _delimiter(delimiter)
    check_encoding(encoding)
    existing = append and p.is_file() and p.stat().st_size > 0
    cols = _table_columns(rows, columns)
    if existing and header and not columns:  # keep the file's columns, in its order
        try:
            with open(p, newline="", encoding="utf-8-sig" if check_encoding(encoding) == "utf-8" else encoding) as fh:
                cols = _header(next(csv.reader(fh, delimiter=sep), []))
        except (OSError, UnicodeError, csv.Error) as exc:
            raise NodeError(f"cannot read the header of {p} to append to it: {exc}", kind="io",
                            fix="give 'columns', or check the delimiter and encoding") from None
        _unknown_columns(p, rows, cols)
    make_parent(ctx, p)
    try:
        with open(p, "a" if append else "w", newline="", encoding=encoding) as fh:
            writer = csv.writer(fh, delimiter=sep)
            if header and not existing:
                writer.writerow(cols)
            for row in rows:
                writer.writerow([_cell_text(row.get(c)) for c in cols])
    except UnicodeError as exc:
        raise NodeError(f"cannot write {p}: a value has characters {encoding} cannot hold ({exc.reason})",
                        kind="bad_input", fix="use the utf-8 or utf-8-sig encoding") from None
    except OSError as exc:
        raise os_failure(ctx, exc, p, "write") from None
    ctx.log(f"{'appended' if append else 'wrote'} {len(rows)} row(s) to {p}")
    return {"path": str(p), "count": len(rows)}


# ---------------------------------------------------------------- JSON
def _no_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


@node("data.read_json", title="Read JSON", category=CATEGORY, icon="braces",
      params=[Param("path", "path", required=True, path="open"),
              Param("encoding", "string", default="utf-8-sig", advanced=True)],
      outputs=[Output("data", "any", "The parsed value (object, list, text, number ...).")],
      aliases=("json", "load json", "parse json file"))
def read_json(ctx, path, encoding):
    """Reads a JSON file."""
    p = ctx.path(path)
    try:
        data = json.loads(read_file_text(ctx, p, encoding), parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise NodeError(f"{p} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                        kind="bad_input", details={"path": str(p), "line": exc.lineno, "column": exc.colno},
                        fix="fix the file at that position (a missing comma or quote is the usual cause)") from None
    except ValueError as exc:
        raise NodeError(f"{p} is not valid JSON: {exc}", kind="bad_input",
                        fix="replace NaN/Infinity with null or a number") from None
    return {"data": data}


@node("data.write_json", title="Write JSON", category=CATEGORY, icon="braces", side_effects=True, idempotent=True,
      params=[Param("path", "path", required=True, path="save"),
              Param("data", "any", required=True, description="Any value: an object, a list, a table ..."),
              Param("indent", "integer", default=2, minimum=0, maximum=16, advanced=True,
                    description="Spaces per level; 0 writes everything on one line.")],
      outputs=[Output("path", "path", "The file written.")], aliases=("json", "save json", "export json"))
def write_json(ctx, path, data, indent):
    """Writes a value to a JSON file (UTF-8, replacing the file)."""
    p = ctx.path(path)
    try:
        text = json.dumps(data, ensure_ascii=False, indent=indent or None, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise NodeError(f"the data cannot be written as JSON: {exc}", kind="bad_input",
                        fix="give plain values: text, numbers, true/false, lists and objects") from None
    make_parent(ctx, p)
    try:
        p.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise os_failure(ctx, exc, p, "write") from None
    return {"path": str(p)}


# ---------------------------------------------------------------- Excel
def _excel_value(value):
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() and value.tzinfo is None else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _open_workbook(ctx, p, *, read_only: bool):
    openpyxl = ctx.require("openpyxl", "pip install openpyxl")
    if not p.exists():
        raise not_found(ctx, p)
    try:
        return openpyxl.load_workbook(p, read_only=read_only, data_only=read_only)
    except OSError as exc:
        raise os_failure(ctx, exc, p, "open") from None
    except Exception as exc:  # zipfile.BadZipFile, InvalidFileException, KeyError from a damaged package ...
        raise NodeError(f"{p} could not be opened as an Excel workbook: {exc}", kind="bad_input",
                        fix="give an .xlsx or .xlsm file (old .xls files must be saved as .xlsx first)") from None


def _sheet(wb, name, p):
    if not name:
        return wb.worksheets[0]
    if name in wb.sheetnames:
        return wb[name]
    raise NodeError(f"{p} has no sheet '{name}'{did_you_mean(name, wb.sheetnames)}", kind="bad_input",
                    details={"sheets": wb.sheetnames}, fix=f"its sheets are: {', '.join(wb.sheetnames)}")


@node("data.read_excel", title="Read Excel", category=CATEGORY, icon="table",
      params=[Param("path", "path", required=True, path="open", description="An .xlsx or .xlsm workbook."),
              Param("sheet", "string", description="Sheet name (default: the first sheet)."),
              Param("header", "boolean", default=True, description="The first row holds the column names."),
              Param("range", "string", advanced=True, placeholder="A1:D20",
                    description="Only read these cells, e.g. A1:D20, A:D (whole columns) or 3:40 (rows).")],
      outputs=[Output("rows", "table", "One object per row (empty rows are skipped)."),
               Output("columns", "list", "Column names in order."), Output("count", "integer", "Number of rows.")],
      aliases=("excel", "xlsx", "spreadsheet", "read range"))
def read_excel(ctx, path, sheet, header, range):
    """Reads a sheet of an Excel workbook into a table. Dates become ISO text (2024-03-01);
    formulas give the value Excel last calculated."""
    p = ctx.path(path)
    wb = _open_workbook(ctx, p, read_only=True)
    try:
        ws = _sheet(wb, sheet, p)
        bounds = {}
        if range:
            from openpyxl.utils.cell import range_boundaries

            try:
                min_col, min_row, max_col, max_row = range_boundaries(range.strip().upper())
            except (ValueError, TypeError) as exc:
                raise NodeError(f"'{range}' is not a cell range: {exc}", kind="bad_input",
                                fix="write a range like A1:D20, A:D for whole columns or 3:40 for rows") from None
            bounds = dict(min_col=min_col, min_row=min_row, max_col=max_col, max_row=max_row)
        grid = [[_excel_value(v) for v in r] for r in ws.iter_rows(values_only=True, **bounds)]
        title = ws.title
    finally:
        wb.close()
    grid = [r for r in grid if any(v is not None and v != "" for v in r)]
    width = max((i + 1 for r in grid for i, v in enumerate(r) if v is not None), default=0)
    grid = [list(r[:width]) + [None] * (width - len(r)) for r in grid]
    # (the parameter 'range' hides the built-in here: _header names blank cells col1, col2 ...)
    columns, grid = (_header(grid[0]), grid[1:]) if header and grid else (_header([None] * width), grid)
    rows = [dict(zip(columns, r)) for r in grid]
    ctx.log(f"read {len(rows)} row(s) from sheet '{title}' of {p}", "debug")
    return {"rows": rows, "columns": columns, "count": len(rows)}


@node("data.write_excel", title="Write Excel", category=CATEGORY, icon="table", side_effects=True, idempotent=_replaces,
      params=[Param("path", "path", required=True, path="save", description="An .xlsx workbook (created if missing)."),
              Param("rows", "table", required=True, description="The table to write."),
              Param("sheet", "string", default="Sheet1",
                    description="Sheet to write; other sheets of an existing workbook are kept."),
              Param("columns", "list", advanced=True, description="Columns to write, in order (default: all)."),
              Param("append", "boolean", default=False,
                    description="Add the rows below the sheet's data (its header row is kept)."),
              Param("formulas", "boolean", default=False, advanced=True,
                    description="Store text starting with = as a formula (otherwise it stays text).")],
      outputs=[Output("path", "path", "The workbook written."), Output("count", "integer", "Rows written.")],
      aliases=("excel", "xlsx", "export excel", "write range"))
def write_excel(ctx, path, rows, sheet, columns, append, formulas):
    """Writes a table to a sheet of an Excel workbook, replacing the sheet's contents or
    appending below them."""
    openpyxl = ctx.require("openpyxl", "pip install openpyxl")
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    p = ctx.path(path)
    sheet = sheet or "Sheet1"
    if len(sheet) > 31 or _SHEET_BAD.search(sheet):
        raise NodeError(f"'{sheet}' cannot be a sheet name", kind="bad_input",
                        fix="use at most 31 characters and none of [ ] : * ? / \\")
    if p.exists():
        wb = _open_workbook(ctx, p, read_only=False)
        if sheet in wb.sheetnames and not append:
            index = wb.sheetnames.index(sheet)
            wb.remove(wb[sheet])
            wb.create_sheet(sheet, index)
    else:
        wb = openpyxl.Workbook()
        wb.active.title = sheet
    ws = wb[sheet] if sheet in wb.sheetnames else wb.create_sheet(sheet)
    has_data = ws.max_row > 1 or ws.max_column > 1 or ws.cell(1, 1).value is not None
    if has_data and not columns:
        cols = _header([c.value for c in ws[1]])
        while cols and cols[-1].startswith("col") and ws.cell(1, len(cols)).value is None:
            cols.pop()
        _unknown_columns(f"sheet '{sheet}' of {p}", rows, cols)
    else:
        cols = _table_columns(rows, columns)
    cleaned = 0

    def put(r, c, value):
        nonlocal cleaned
        if isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
            value, n = ILLEGAL_CHARACTERS_RE.subn("", value)
            cleaned += n
        cell = ws.cell(r, c, value)
        if cell.data_type == "f" and not formulas:
            cell.data_type = "s"

    start = ws.max_row + 1 if has_data else 1
    if not has_data:
        for c, name in enumerate(cols, 1):
            put(1, c, name)
        start = 2
    for r, row in enumerate(rows, start):
        for c, name in enumerate(cols, 1):
            put(r, c, row.get(name))
    if cleaned:
        ctx.log(f"removed {cleaned} control character(s) Excel cannot store", "warning")
    make_parent(ctx, p)
    try:
        wb.save(p)
    except OSError as exc:
        raise os_failure(ctx, exc, p, "save") from None
    ctx.log(f"{'appended' if append else 'wrote'} {len(rows)} row(s) to sheet '{sheet}' of {p}")
    return {"path": str(p), "count": len(rows)}
