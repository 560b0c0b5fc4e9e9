"""The core data nodes (CSV, JSON, Excel), run through the engine."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap

from nodes_helpers import outputs_of, run_bot, run_node


ROWS = [{"name": "Ada", "city": "Zürich", "total": 12, "paid": True},
        {"name": "Linus", "city": "Helsinki", "total": 7.5, "paid": False},
        {"name": "Grace", "city": "New York, NY", "total": -3, "paid": True}]


# ---------------------------------------------------------------- CSV
def test_read_csv_header_bom_delimiter_and_blank_lines(work):
    (work / "in.csv").write_bytes("\ufeffname;qty;price\nbolt;3;0.25\n\nnut;10;\n".encode("utf-8"))
    result, outs = run_node("data.read_csv", {"path": "in.csv", "delimiter": ";"}, base_dir=work)
    assert result.state == "succeeded", result.error
    assert outs["columns"] == ["name", "qty", "price"] and outs["count"] == 2
    assert outs["rows"] == [{"name": "bolt", "qty": "3", "price": "0.25"}, {"name": "nut", "qty": "10", "price": ""}]
    result, outs = run_node("data.read_csv", {"path": "in.csv", "delimiter": ";", "infer_types": True}, base_dir=work)
    assert outs["rows"][0] == {"name": "bolt", "qty": 3, "price": 0.25}


def test_read_csv_infer_types_keeps_codes_with_leading_zeros(work):
    (work / "in.csv").write_text("zip,n,x\n01234,-5,1e3\n", encoding="utf-8")
    _, outs = run_node("data.read_csv", {"path": "in.csv", "infer_types": True}, base_dir=work)
    assert outs["rows"] == [{"zip": "01234", "n": -5, "x": 1000.0}]


def test_read_csv_without_header_and_ragged_lines(work):
    (work / "in.csv").write_text("a,b\nc,d,e\n", encoding="utf-8")
    _, outs = run_node("data.read_csv", {"path": "in.csv", "header": False}, base_dir=work)
    assert outs["columns"] == ["col1", "col2", "col3"]
    assert outs["rows"] == [{"col1": "a", "col2": "b", "col3": ""}, {"col1": "c", "col2": "d", "col3": "e"}]


def test_read_csv_errors_say_what_and_how_to_fix(work):
    result, _ = run_node("data.read_csv", {"path": "missing.csv"}, base_dir=work)
    assert result.error["kind"] == "not_found"
    assert result.error["message"] == f"file not found: {work / 'missing.csv'}"
    assert f"bot's folder ({work})" in result.error["fix"]
    (work / "ansi.csv").write_bytes("name\nJosé\n".encode("cp1252"))
    result, _ = run_node("data.read_csv", {"path": "ansi.csv"}, base_dir=work)
    assert result.error["kind"] == "bad_input" and "cp1252" in result.error["fix"]
    _, outs = run_node("data.read_csv", {"path": "ansi.csv", "encoding": "cp1252"}, base_dir=work)
    assert outs["rows"] == [{"name": "José"}]
    result, _ = run_node("data.read_csv", {"path": "ansi.csv", "delimiter": ";;"}, base_dir=work)
    assert result.error["kind"] == "bad_input" and "one character" in result.error["message"]


def test_csv_round_trip_through_a_data_edge_with_column_order(work):
    (work / "in.csv").write_text("b,a\n1,x\n2,\"quoted, comma\"\n", encoding="utf-8")
    result, log = run_bot(
        {"read": {"type": "data.read_csv", "params": {"path": "in.csv"}},
         "write": {"type": "data.write_csv", "params": {"path": "out/copy.csv", "columns": ["a", "b"]}},
         "again": {"type": "data.read_csv", "params": {"path": "out/copy.csv"}}},
        edges=[{"from": "start.out", "to": "read.in"}, {"from": "read.out", "to": "write.in"},
               {"from": "write.out", "to": "again.in"}, {"from": "read.rows", "to": "write.rows"}],
        base_dir=work)
    assert result.state == "succeeded", result.error
    assert (work / "out" / "copy.csv").read_bytes() == b'a,b\r\nx,1\r\n"quoted, comma",2\r\n'
    assert outputs_of(log, "write") == {"path": str(work / "out" / "copy.csv"), "count": 2}
    assert outputs_of(log, "again")["rows"] == outputs_of(log, "read")["rows"]


def test_write_csv_values_and_append_keeps_the_files_columns(work):
    run_node("data.write_csv", {"path": "t.csv", "rows": ROWS[:1]}, base_dir=work)
    result, outs = run_node("data.write_csv", {"path": "t.csv", "append": True,
                                               "rows": [{"paid": False, "name": "Bob", "total": [1, 2]}]},
                            base_dir=work)
    assert result.state == "succeeded", result.error
    lines = (work / "t.csv").read_text(encoding="utf-8").splitlines()
    assert lines == ["name,city,total,paid", "Ada,Zürich,12,true", 'Bob,,"[1, 2]",false']
    result, _ = run_node("data.write_csv", {"path": "t.csv", "append": True, "rows": [{"name": "C", "email": "x"}]},
                         base_dir=work)
    assert result.error["kind"] == "bad_input" and "email" in result.error["message"]
    assert len((work / "t.csv").read_text(encoding="utf-8").splitlines()) == 3


def test_write_csv_appends_to_a_utf8_sig_file_without_a_second_bom(work):
    for _ in range(2):
        run_node("data.write_csv", {"path": "t.csv", "rows": [{"a": "é"}], "append": True, "encoding": "utf-8-sig"},
                 base_dir=work)
    data = (work / "t.csv").read_bytes()
    assert data.count(b"\xef\xbb\xbf") == 1 and data.decode("utf-8-sig").splitlines() == ["a", "é", "é"]


# ---------------------------------------------------------------- JSON
def test_json_round_trip_unicode_and_indent(work):
    data = {"name": "Zoë", "items": [1, 2.5, None, True], "nested": {"k": "✓"}}
    result, log = run_bot(
        {"w": {"type": "data.write_json", "params": {"path": "d/out.json", "data": data}},
         "r": {"type": "data.read_json", "params": {"path": "d/out.json"}},
         "v": {"type": "core.set_variable", "params": {"name": "back", "value": "{{ nodes.r.data }}"}}},
        base_dir=work, outputs={"back": {"type": "any"}})
    assert result.state == "succeeded", result.error
    assert result.outputs["back"] == data
    text = (work / "d" / "out.json").read_text(encoding="utf-8")
    assert '"Zoë"' in text and "✓" in text and '\n  "items": [' in text
    run_node("data.write_json", {"path": "flat.json", "data": data, "indent": 0}, base_dir=work)
    assert "\n" not in (work / "flat.json").read_text(encoding="utf-8").strip()


def test_read_json_invalid_is_bad_input_with_position(work):
    (work / "bad.json").write_text('{\n  "a": 1\n  "b": 2\n}', encoding="utf-8")
    result, _ = run_node("data.read_json", {"path": "bad.json"}, base_dir=work)
    assert result.error["kind"] == "bad_input"
    assert "line 3" in result.error["message"] and "bad.json" in result.error["message"]
    (work / "nan.json").write_text('{"a": NaN}', encoding="utf-8")
    result, _ = run_node("data.read_json", {"path": "nan.json"}, base_dir=work)
    assert result.error["kind"] == "bad_input" and "NaN" in result.error["message"]
    result, _ = run_node("data.read_json", {"path": "none.json"}, base_dir=work)
    assert result.error["kind"] == "not_found"


# ---------------------------------------------------------------- Excel
def test_excel_round_trip_gives_equal_rows(work):
    result, log = run_bot(
        {"w": {"type": "data.write_excel", "params": {"path": "book.xlsx", "rows": ROWS, "sheet": "Customers"}},
         "r": {"type": "data.read_excel", "params": {"path": "book.xlsx", "sheet": "Customers"}}},
        base_dir=work)
    assert result.state == "succeeded", result.error
    assert outputs_of(log, "w") == {"path": str(work / "book.xlsx"), "count": 3}
    back = outputs_of(log, "r")
    assert back["rows"] == ROWS and back["columns"] == ["name", "city", "total", "paid"] and back["count"] == 3


def test_read_excel_dates_become_iso_text_and_range_and_no_header(work):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Invoice", "Due", "Logged"])
    ws.append(["A-1", dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 1, 14, 30)])
    ws.append([None, None, None])
    ws.append(["A-2", dt.date(2024, 12, 31), None])
    ws["F10"] = "far away note"
    wb.create_sheet("Other")
    wb.save(work / "in.xlsx")
    _, outs = run_node("data.read_excel", {"path": "in.xlsx", "range": "A1:C4"}, base_dir=work)
    assert outs["rows"] == [{"Invoice": "A-1", "Due": "2024-03-01", "Logged": "2024-03-01T14:30:00"},
                            {"Invoice": "A-2", "Due": "2024-12-31", "Logged": None}]
    _, outs = run_node("data.read_excel", {"path": "in.xlsx", "range": "A2:B2", "header": False}, base_dir=work)
    assert outs == {"rows": [{"col1": "A-1", "col2": "2024-03-01"}], "columns": ["col1", "col2"], "count": 1}
    _, outs = run_node("data.read_excel", {"path": "in.xlsx", "range": "a:b"}, base_dir=work)
    assert outs["columns"] == ["Invoice", "Due"] and [r["Due"] for r in outs["rows"]] == ["2024-03-01", "2024-12-31"]
    _, outs = run_node("data.read_excel", {"path": "in.xlsx", "sheet": "Other"}, base_dir=work)
    assert outs == {"rows": [], "columns": [], "count": 0}


def test_write_excel_keeps_other_sheets_replaces_and_appends(work):
    run_node("data.write_excel", {"path": "b.xlsx", "rows": [{"x": 1}], "sheet": "Keep"}, base_dir=work)
    run_node("data.write_excel", {"path": "b.xlsx", "rows": ROWS, "sheet": "Main"}, base_dir=work)
    run_node("data.write_excel", {"path": "b.xlsx", "rows": ROWS[:1], "sheet": "Main"}, base_dir=work)
    result, outs = run_node("data.write_excel", {"path": "b.xlsx", "rows": [{"total": 1, "name": "Zed"}],
                                                 "sheet": "Main", "append": True}, base_dir=work)
    assert result.state == "succeeded", result.error
    _, main = run_node("data.read_excel", {"path": "b.xlsx", "sheet": "Main"}, base_dir=work)
    assert main["rows"] == [ROWS[0], {"name": "Zed", "city": None, "total": 1, "paid": None}]
    _, keep = run_node("data.read_excel", {"path": "b.xlsx", "sheet": "Keep"}, base_dir=work)
    assert keep["rows"] == [{"x": 1}]
    result, _ = run_node("data.write_excel", {"path": "b.xlsx", "rows": [{"nope": 1}], "sheet": "Main",
                                              "append": True}, base_dir=work)
    assert result.error["kind"] == "bad_input" and "nope" in result.error["message"]


def test_write_excel_stores_formula_like_text_as_text(work):
    rows = [{"v": "=HYPERLINK(\"http://evil\")"}, {"v": "bell\x07char"}]
    result, log = run_bot(
        {"w": {"type": "data.write_excel", "params": {"path": "f.xlsx", "rows": rows}},
         "r": {"type": "data.read_excel", "params": {"path": "f.xlsx"}}}, base_dir=work)
    assert result.state == "succeeded", result.error
    assert outputs_of(log, "r")["rows"] == [{"v": "=HYPERLINK(\"http://evil\")"}, {"v": "bellchar"}]
    import openpyxl

    cell = openpyxl.load_workbook(work / "f.xlsx")["Sheet1"]["A2"]
    assert cell.data_type == "s"


def test_read_excel_errors(work):
    run_node("data.write_excel", {"path": "b.xlsx", "rows": [{"x": 1}], "sheet": "Orders"}, base_dir=work)
    result, _ = run_node("data.read_excel", {"path": "b.xlsx", "sheet": "Order"}, base_dir=work)
    assert result.error["kind"] == "bad_input"
    assert "no sheet 'Order'" in result.error["message"] and "did you mean 'Orders'" in result.error["message"]
    (work / "fake.xlsx").write_text("not a zip")
    result, _ = run_node("data.read_excel", {"path": "fake.xlsx"}, base_dir=work)
    assert result.error["kind"] == "bad_input" and "Excel workbook" in result.error["message"]
    result, _ = run_node("data.read_excel", {"path": "b.xlsx", "range": "nonsense"}, base_dir=work)
    assert result.error["kind"] == "bad_input" and "nonsense" in result.error["message"]
    result, _ = run_node("data.read_excel", {"path": "gone.xlsx"}, base_dir=work)
    assert result.error["kind"] == "not_found"
    result, _ = run_node("data.write_excel", {"path": "b.xlsx", "rows": [], "sheet": "a/b"}, base_dir=work)
    assert result.error["kind"] == "bad_input" and "sheet name" in result.error["message"]


# ---------------------------------------------------------------- import cost
def test_a_one_node_bot_imports_neither_openpyxl_nor_httpx(tmp_path):
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(tmp_path)!r})
        from botloom.runner.botfile import loads
        from botloom.runner.engine import Engine
        from botloom.runner.sdk.registry import Registry
        doc = loads(json.dumps({{"format": 1, "name": "t", "edges": [{{"from": "start.out", "to": "w.in"}}],
            "nodes": {{"start": {{"type": "core.start"}}, "w": {{"type": "data.write_json",
                      "params": {{"path": "x.json", "data": [1]}}}}}}}}))
        result = Engine(doc, Registry.discover(), base_dir={str(tmp_path)!r}).run()
        print(json.dumps([result.state, sorted(m for m in ("openpyxl", "httpx") if m in sys.modules)]))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == ["succeeded", []]
    assert json.loads((tmp_path / "x.json").read_text()) == [1]
