"""Reading and writing ``*.bot.json`` files.

Reading checks the structure and reports the first problem with the file, a JSON pointer to
the place, what is wrong and how to fix it. Whether node types exist and parameters are valid
is the validator's job (``botloom.runner.validate``), which needs the installed node packs.
The text must be JSON and nothing more (``strict.py``: no NaN or Infinity, no duplicated key,
no lone surrogate, numbers and nesting of bounded size); every error names a place, a JSON
pointer or a line and column, and quotes at most a short prefix of a bad value.

Writing is canonical: a fixed key order, sorted node ids, two-space indents, one node per
block, one edge and one canvas position per line. Saving the same bot twice gives the same
bytes, and two people's edits to different nodes merge cleanly in git.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import BotFileError, FormatTooNewError, did_you_mean, quote
from ..sdk.params import MISSING
from ..sdk.types import TYPES
from . import migrate as _migrate
from . import requires as _requires
from . import strict
from .strict import pointer_part as _esc
from .model import (NAME, NODE_ID, ON_ERROR, RETRY_KEYS, SETTINGS, BotDoc, Edge, FlowDoc,
                    NodeSpec, Note, VarDecl)

SUFFIX = ".bot.json"
TOP_KEYS = ("format", "name", "description", "version", "requires", "secrets", "settings", "inputs", "outputs",
            "variables", "nodes", "edges", "subflows", "layout")
FLOW_KEYS = ("description", "inputs", "outputs", "variables", "nodes", "edges")
NODE_KEYS = ("type", "version", "title", "params", "settings", "disabled", "notes")
DECL_KEYS = ("type", "default", "required", "description")


def load(path: str | os.PathLike) -> BotDoc:
    """Read a bot file. Raises BotFileError (never another exception) for a bad file."""
    return load_text(path)[0]


def load_text(path: str | os.PathLike) -> tuple[BotDoc, str]:
    """Read a bot file; returns the bot and the file's text (for hashing and snapshots)."""
    label = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise BotFileError("file not found", file=label, fix="check the path") from None
    except IsADirectoryError:
        raise BotFileError("is a folder, not a bot file", file=label) from None
    except OSError as exc:
        raise BotFileError(f"cannot read the file: {exc.strerror}", file=label) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = strict.byte_position(raw, exc.start)
        raise BotFileError(f"not UTF-8 text at line {line}, column {column} (byte {exc.start})", file=label,
                           fix="save the file as UTF-8") from None
    return loads(text, source=label), text


def loads(text: str, source: str = "<text>") -> BotDoc:
    """Parse bot JSON text; ``source`` names it in error messages."""
    try:
        data = strict.parse(text)
    except strict.Unfit as exc:
        raise BotFileError(exc.message, file=source, pointer=exc.pointer, fix=exc.fix) from None
    return _read(data, source)


def from_json(data: Any, source: str = "<data>") -> BotDoc:
    """A bot from JSON-like data built in Python (``loads`` reads text)."""
    try:
        strict.check(data, numbers=True)
    except strict.Unfit as exc:
        raise BotFileError(exc.message, file=source, pointer=exc.pointer, fix=exc.fix) from None
    return _read(data, source)


def _read(data: Any, source: str) -> BotDoc:
    r = _Reader(source)
    if not isinstance(data, dict):
        raise r.error("", f"a bot file holds one JSON object {{...}}, this one holds {_kind(data)}",
                      "start the file with { and end it with }")
    fmt = data.get("format")
    if "format" not in data:
        raise r.error("/format", "missing 'format' (the bot file format version)",
                      f"add \"format\": {_migrate.CURRENT_FORMAT}")
    if type(fmt) is not int or fmt < 1:
        raise r.error("/format", f"'format' must be a whole number of at least 1, got {_got(fmt)}")
    if fmt > _migrate.CURRENT_FORMAT:
        raise FormatTooNewError(
            f"this bot was saved in format {_got(fmt)} by a newer Botloom; this Botloom reads formats up to "
            f"{_migrate.CURRENT_FORMAT}", file=source, pointer="/format",
            fix="upgrade Botloom to open it (the file was left unchanged)")
    migrated_from = None
    if fmt < _migrate.CURRENT_FORMAT:
        try:
            data = _migrate.migrate(dict(data), fmt)
        except Exception as exc:
            raise r.error("/format", f"cannot upgrade from format {fmt}: {exc}") from None
        migrated_from = fmt
    r.keys(data, "", TOP_KEYS, extensions=True)
    name = r.string(data.get("name", ""), "/name")
    if not name.strip():
        raise r.error("/name", "the bot has no name", "add \"name\": \"my-bot\"")
    requires = r.requires(data.get("requires", {}))
    secrets = r.obj(data.get("secrets", {}), "/secrets")
    for key, value in secrets.items():
        r.name(key, f"/secrets/{_esc(key)}", "secret")
        r.string(value, f"/secrets/{_esc(key)}")
    settings = r.obj(data.get("settings", {}), "/settings")
    for area, block in settings.items():
        r.name(area, f"/settings/{_esc(area)}", "settings area")
        r.obj(block, f"/settings/{_esc(area)}")
    main = r.flow(data, "")
    subflows = {}
    for sub_name, sub in r.obj(data.get("subflows", {}), "/subflows").items():
        ptr = f"/subflows/{_esc(sub_name)}"
        r.name(sub_name, ptr, "subflow")
        if sub_name == "main":
            raise r.error(ptr, "a subflow cannot be called 'main' (that is the bot's own flow)")
        r.obj(sub, ptr)
        r.keys(sub, ptr, FLOW_KEYS)
        subflows[sub_name] = r.flow(sub, ptr)
    flows = {"main": main, **subflows}
    layout = r.obj(data.get("layout", {}), "/layout")
    for flow_name, flow_layout in layout.items():
        ptr = f"/layout/{_esc(flow_name)}"
        if flow_name not in flows:
            raise r.error(ptr, f"layout for unknown flow {quote(flow_name)}{did_you_mean(flow_name, flows)}",
                          "remove it or rename it to an existing flow")
        r.layout(flow_layout, ptr, flows[flow_name])
    extra = {k: v for k, v in data.items() if k.startswith("x-")}
    return BotDoc(name=name, main=main, subflows=subflows,
                  description=r.string(data.get("description", ""), "/description"),
                  version=r.string(data.get("version", ""), "/version"), requires=requires,
                  secrets=dict(secrets),
                  settings={area: dict(block) for area, block in settings.items()}, extra=extra, source=source, migrated_from=migrated_from)


class _Reader:
    """Checks the JSON structure, raising BotFileError with a pointer at the first problem."""

    def __init__(self, source: str):
        self.source = source

    def error(self, pointer: str, message: str, fix: str | None = None) -> BotFileError:
        return BotFileError(message, file=self.source, pointer=pointer, fix=fix)

    def obj(self, value, ptr) -> dict:
        if not isinstance(value, dict):
            raise self.error(ptr, f"expected an object {{...}}, got {_kind(value)}")
        return value

    def lst(self, value, ptr) -> list:
        if not isinstance(value, list):
            raise self.error(ptr, f"expected a list [...], got {_kind(value)}")
        return value

    def string(self, value, ptr) -> str:
        if not isinstance(value, str):
            raise self.error(ptr, f"expected text, got {_kind(value)}")
        return value

    def number(self, value, ptr) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise self.error(ptr, f"expected a number, got {_kind(value)}")
        return value

    def name(self, value, ptr, what) -> str:
        if not NAME.match(value):
            raise self.error(ptr, f"{quote(value)} is not a valid {what} name",
                             "use letters, digits and _ only, starting with a letter or _")
        return value

    def keys(self, data: dict, ptr: str, allowed: tuple, extensions: bool = False) -> None:
        """Refuse unknown keys. ``x-`` extension keys are allowed where Botloom keeps them when
        it saves (the top level, node blocks, node settings), and refused elsewhere rather
        than silently dropped."""
        for key in data:
            if key in allowed or (extensions and key.startswith("x-")):
                continue
            if key.startswith("x-"):
                raise self.error(f"{ptr}/{_esc(key)}", f"extension key {quote(key)} is not kept here",
                                 "put 'x-' keys at the top level, in a node block or in its settings")
            raise self.error(f"{ptr}/{_esc(key)}", f"unknown key {quote(key)}{did_you_mean(key, allowed)}",
                             f"allowed here: {', '.join(allowed)}")

    def requires(self, value) -> dict[str, str]:
        """``requires``: node pack names to version requirements (``requires.py``)."""
        found = {}
        for pack, spec in self.obj(value, "/requires").items():
            ptr = f"/requires/{_esc(pack)}"
            if not _requires.PACK.match(pack):
                raise self.error(ptr, f"{quote(pack)} is not a node pack name",
                                 "use the pack's name as `botloom nodes` lists it, e.g. \"core\"")
            try:
                _requires.parse(self.string(spec, ptr))
            except _requires.BadRequirement as exc:
                raise self.error(ptr, str(exc)) from None
            found[pack] = spec
        return found

    def decls(self, data: dict, key: str, ptr: str) -> dict[str, VarDecl]:
        out = {}
        for name, spec in self.obj(data.get(key, {}), f"{ptr}/{key}").items():
            p = f"{ptr}/{key}/{_esc(name)}"
            self.name(name, p, key.rstrip("s"))
            type_ptr = f"{p}/type"
            if isinstance(spec, str):  # shorthand: "count": "integer"
                spec, type_ptr = {"type": spec}, p
            self.obj(spec, p)
            self.keys(spec, p, DECL_KEYS)
            type_name = self.string(spec.get("type", "any"), type_ptr)
            if type_name not in TYPES:
                raise self.error(type_ptr, f"unknown type {quote(type_name)}{did_you_mean(type_name, TYPES)}",
                                 f"use one of: {', '.join(TYPES)}")
            required = spec.get("required", False)
            if not isinstance(required, bool):
                raise self.error(f"{p}/required", f"expected true or false, got {_kind(required)}")
            out[name] = VarDecl(type=type_name, default=spec.get("default", MISSING),
                                description=self.string(spec.get("description", ""), f"{p}/description"),
                                required=required)
        return out

    def flow(self, data: dict, ptr: str) -> FlowDoc:
        flow = FlowDoc(description=self.string(data.get("description", ""), f"{ptr}/description"))
        flow.inputs = self.decls(data, "inputs", ptr)
        flow.outputs = self.decls(data, "outputs", ptr)
        flow.variables = self.decls(data, "variables", ptr)
        for nid, spec in self.obj(data.get("nodes", {}), f"{ptr}/nodes").items():
            flow.nodes[nid] = self.node(nid, spec, f"{ptr}/nodes/{_esc(nid)}")
        for i, edge in enumerate(self.lst(data.get("edges", []), f"{ptr}/edges")):
            flow.edges.append(self.edge(edge, f"{ptr}/edges/{i}"))
        seen: set[Edge] = set()
        for i, edge in enumerate(flow.edges):
            if edge in seen:
                raise self.error(f"{ptr}/edges/{i}", f"the edge {quote(str(edge))} is listed twice", "remove one copy")
            seen.add(edge)
        return flow

    def node(self, nid: str, spec, ptr: str) -> NodeSpec:
        if not NODE_ID.match(nid):
            raise self.error(ptr, f"{quote(nid)} is not a valid node id",
                             "use up to 64 letters, digits, _ and -, starting with a letter or _")
        self.obj(spec, ptr)
        self.keys(spec, ptr, NODE_KEYS, extensions=True)
        if "type" not in spec:
            raise self.error(ptr, f"node '{nid}' has no 'type'", "add \"type\": \"core.log\" or another node type")
        version = spec.get("version", 1)
        if type(version) is not int or version < 1:
            raise self.error(f"{ptr}/version", f"node version must be a whole number of at least 1, got {_got(version)}")
        settings = self.obj(spec.get("settings", {}), f"{ptr}/settings")
        self.settings(settings, f"{ptr}/settings")
        disabled = spec.get("disabled", False)
        if not isinstance(disabled, bool):
            raise self.error(f"{ptr}/disabled", f"expected true or false, got {_kind(disabled)}")
        return NodeSpec(id=nid, type=self.string(spec["type"], f"{ptr}/type"), version=version,
                        title=self.string(spec.get("title", ""), f"{ptr}/title"),
                        params=dict(self.obj(spec.get("params", {}), f"{ptr}/params")),
                        settings=dict(settings), disabled=disabled,
                        notes=self.string(spec.get("notes", ""), f"{ptr}/notes"),
                        extra={k: v for k, v in spec.items() if k.startswith("x-")})

    def settings(self, settings: dict, ptr: str) -> None:
        self.keys(settings, ptr, SETTINGS, extensions=True)
        if "timeout" in settings:
            t = self.number(settings["timeout"], f"{ptr}/timeout")
            if t <= 0:
                raise self.error(f"{ptr}/timeout", "the timeout must be more than 0 seconds")
        if "on_error" in settings and settings["on_error"] not in ON_ERROR:
            raise self.error(f"{ptr}/on_error", f"expected one of {', '.join(ON_ERROR)}, got {_kind(settings['on_error'])}")
        if "retry" in settings:
            retry = self.obj(settings["retry"], f"{ptr}/retry")
            self.keys(retry, f"{ptr}/retry", RETRY_KEYS)
            attempts = retry.get("attempts", 1)
            if type(attempts) is not int or not 1 <= attempts <= 100:
                raise self.error(f"{ptr}/retry/attempts", f"attempts must be a whole number from 1 to 100, got {_got(attempts)}")
            for key in ("delay", "backoff", "max_delay"):
                if key in retry and self.number(retry[key], f"{ptr}/retry/{key}") < 0:
                    raise self.error(f"{ptr}/retry/{key}", f"{key} cannot be negative")
            on = retry.get("on", [])
            for i, kind in enumerate(self.lst(on, f"{ptr}/retry/on")):
                self.string(kind, f"{ptr}/retry/on/{i}")

    def edge(self, edge, ptr: str) -> Edge:
        self.obj(edge, ptr)
        self.keys(edge, ptr, ("from", "to"))
        ends = []
        for key in ("from", "to"):
            if key not in edge:
                raise self.error(ptr, f"the edge has no '{key}'", "write edges as {\"from\": \"a.out\", \"to\": \"b.in\"}")
            text = self.string(edge[key], f"{ptr}/{key}")
            node_id, dot, port = text.partition(".")
            if not dot or not node_id or not port or "." in port:
                raise self.error(f"{ptr}/{key}", f"{quote(text)} is not of the form node.port", "e.g. \"read_csv.out\"")
            ends.append((node_id, port))
        return Edge(ends[0][0], ends[0][1], ends[1][0], ends[1][1])

    def layout(self, data, ptr: str, flow: FlowDoc) -> None:
        self.obj(data, ptr)
        self.keys(data, ptr, ("nodes", "notes"))
        for nid, pos in self.obj(data.get("nodes", {}), f"{ptr}/nodes").items():
            p = f"{ptr}/nodes/{_esc(nid)}"
            if not isinstance(pos, list) or len(pos) != 2:
                raise self.error(p, f"a position is [x, y], got {_kind(pos)}")
            flow.positions[nid] = (self.number(pos[0], f"{p}/0"), self.number(pos[1], f"{p}/1"))
        for i, note in enumerate(self.lst(data.get("notes", []), f"{ptr}/notes")):
            p = f"{ptr}/notes/{i}"
            self.obj(note, p)
            self.keys(note, p, ("id", "text", "x", "y", "width", "height"))
            flow.notes.append(Note(id=self.string(note.get("id", f"note{i}"), f"{p}/id"),
                                   text=self.string(note.get("text", ""), f"{p}/text"),
                                   **{k: self.number(note[k], f"{p}/{k}") for k in ("x", "y", "width", "height") if k in note}))


def _got(value) -> str:
    """A number as written ("got 0"), anything else described (``_kind``)."""
    return _kind(value)[len("the number "):] if type(value) in (int, float) else _kind(value)


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        text = str(value)
        return f"the number {text if len(text) <= 60 else text[:60] + f'... ({len(text)} digits)'}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {quote(value)}"
    if isinstance(value, list):
        return f"a list of {_count(len(value), 'item')}" if value else "an empty list"
    if isinstance(value, dict):
        return f"an object of {_count(len(value), 'key')}" if value else "an empty object"
    return type(value).__name__


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# ---------------------------------------------------------------- writing

def to_json(doc: BotDoc) -> dict:
    data: dict = {"format": _migrate.CURRENT_FORMAT, "name": doc.name}
    description = doc.description or doc.main.description  # one key holds both
    if description:
        data["description"] = description
    if doc.version:
        data["version"] = doc.version
    if doc.requires:
        data["requires"] = dict(sorted(doc.requires.items()))
    if doc.secrets:
        data["secrets"] = dict(sorted(doc.secrets.items()))
    settings = {area: block for area, block in sorted(doc.settings.items()) if block}
    if settings:
        data["settings"] = settings
    logic = doc.main.logic_json()
    logic.pop("description", None)
    data.update(logic)
    if doc.subflows:
        data["subflows"] = {name: flow.logic_json() for name, flow in sorted(doc.subflows.items())}
    flows = [("main", doc.main), *sorted(doc.subflows.items())]  # the order of the logic above
    data["layout"] = {name: flow.layout_json() for name, flow in flows if flow.positions or flow.notes}
    data.update(sorted(doc.extra.items()))
    return data


def dumps(doc: BotDoc) -> str:
    """The canonical text. Raises BotFileError, with a pointer, for a value that the loader
    would refuse (NaN, a lone surrogate...): what is saved must open again."""
    data = to_json(doc)
    try:
        strict.check(data, strings=False)  # nesting and NaN; the rest shows up while writing
        try:
            text = _format(data, ()) + "\n"
            text.encode("utf-8")  # a lone surrogate cannot be written
        except ValueError:  # also a whole number too long for Python to write
            strict.check(data, numbers=True)  # finds where, and raises
            raise
    except strict.Unfit as exc:
        raise BotFileError(f"cannot be saved: {exc.message}", file=doc.label, pointer=exc.pointer,
                           fix=exc.fix) from None
    return text


def save(doc: BotDoc, path: str | os.PathLike) -> None:
    """Write atomically: a crash while saving never leaves a half-written bot file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(dumps(doc), encoding="utf-8")
    os.replace(tmp, path)
    doc.source = os.fspath(path)


def _inline(path: tuple) -> bool:
    """Edges, declarations, canvas positions and notes each go on one line of their own."""
    if len(path) >= 2 and path[-2] == "edges" and isinstance(path[-1], int):
        return True
    if len(path) >= 2 and path[-2] in ("inputs", "outputs", "variables") and "params" not in path:
        return True
    return len(path) == 4 and path[0] == "layout" and path[2] in ("nodes", "notes")


def _format(value: Any, path: tuple, indent: int = 0) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        if _inline(path):
            return json.dumps(value, ensure_ascii=False)
        pad = "  " * (indent + 1)
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_format(v, path + (k,), indent + 1)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        flat = json.dumps(value, ensure_ascii=False)
        if _inline(path) or (not any(isinstance(v, (dict, list)) for v in value) and len(flat) <= 72):
            return flat
        pad = "  " * (indent + 1)
        items = [pad + _format(v, path + (i,), indent + 1) for i, v in enumerate(value)]
        return "[\n" + ",\n".join(items) + "\n" + "  " * indent + "]"
    return json.dumps(value, ensure_ascii=False)
