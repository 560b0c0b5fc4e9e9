"""A JSON Schema (draft 2020-12) of the bot file format, for editors and outside tools.

The schema describes format 2 (and format 1, which loads too) as the loader
(``botloom.runner.botfile.io``) accepts it, built from the loader's own constants, so the two
cannot drift apart: a key added to ``TOP_KEYS`` or ``NODE_KEYS`` without a schema here makes
:func:`bot_schema` fail. What a schema cannot say is left to the loader and to ``botloom
validate``: that ``layout`` names only existing flows, that no edge is listed twice, whether
node types and parameters exist, and the shape of the graph.

``docs/bot-format.schema.json`` is generated from this module::

    python -c "from botloom.runner.botfile.schema import write_schema; write_schema('docs/bot-format.schema.json')"
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..sdk.types import TYPES
from .io import DECL_KEYS, FLOW_KEYS, NODE_KEYS, TOP_KEYS
from .migrate import CURRENT_FORMAT
from .model import NAME, NODE_ID, ON_ERROR, RETRY_KEYS, SETTINGS
from .requires import PACK

SCHEMA_ID = f"https://botloom.dev/schema/bot-{CURRENT_FORMAT}.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
FORMAT = CURRENT_FORMAT
# a version requirement (requires.py): *, a bare version, or operator+version clauses joined by commas
REQUIREMENT = (r"^\s*(\*|(((>=|<=|==|!=|>|<)?\s*\d+(\.\d+){0,3}\s*)(,\s*(>=|<=|==|!=|>|<)?\s*\d+(\.\d+){0,3}\s*)*))?$")
EXTENSION = "^x-"  # the loader accepts any key starting with "x-" next to the known keys
# "node.port": one dot, something on both sides (the loader's rule; ids are checked by `validate`)
ENDPOINT = r"^[^.]+\.[^.]+$"


def _ref(name: str) -> dict:
    return {"$ref": f"#/$defs/{name}"}


def _text(description: str) -> dict:
    return {"type": "string", "description": description}


def _ecma(pattern: str) -> str:
    """JSON Schema regexes are ECMA 262: ``\\Z`` (Python's strict end of text) is written ``$``."""
    return pattern.replace("\\Z", "$")


def _closed(keys: tuple[str, ...], properties: dict, description: str | None = None,
            required: tuple = (), extensions: bool = False) -> dict:
    """An object with exactly ``keys`` (in that order), plus ``x-`` extension keys where
    Botloom keeps them (``extensions``: the top level, node blocks and node settings).

    ``properties`` must give a schema for every key in ``keys`` and no other, so a key the
    loader learns is also described here (otherwise this raises when the schema is built).
    """
    if set(properties) != set(keys):
        raise KeyError(f"schema properties {sorted(properties)} do not match the loader's keys {sorted(keys)}")
    schema: dict = {"type": "object"}
    if description:
        schema["description"] = description
    if required:
        schema["required"] = list(required)
    schema["properties"] = {key: properties[key] for key in keys}
    if extensions:
        schema["patternProperties"] = {EXTENSION: {"description": "An extension key; Botloom keeps it and ignores it."}}
    schema["additionalProperties"] = False
    return schema


def _flow_properties() -> dict:
    """The logic of a flow, shared by the bot's main flow (top level) and its subflows."""
    return {
        "description": _text("What the flow does."),
        "inputs": _ref("declarations") | {"description": "Values passed in when the flow runs."},
        "outputs": _ref("declarations") | {"description": "Values the flow gives back, taken from the "
                                                          "variables of the same names when it ends."},
        "variables": _ref("declarations") | {"description": "Variables of the flow, with types and defaults."},
        "nodes": {"type": "object", "description": "The steps of the flow, by node id.",
                  "propertyNames": _ref("node_id"), "additionalProperties": _ref("node")},
        "edges": {"type": "array", "description": "Connections between node ports.",
                  "items": _ref("edge"), "uniqueItems": True},
    }


def _defs() -> dict:
    number = {"type": "number"}
    return {
        "name": {"type": "string", "pattern": _ecma(NAME.pattern),
                 "description": "Letters, digits and _, starting with a letter or _ (at most 64)."},
        "node_id": {"type": "string", "pattern": _ecma(NODE_ID.pattern),
                    "description": "Letters, digits, _ and -, starting with a letter or _ (at most 64). "
                                   "Chosen once; it never changes."},
        "type_name": {"enum": list(TYPES), "description": "A value type."},
        "declaration": {
            "description": "A declared input, output or variable: a type name, or an object.",
            "anyOf": [
                _ref("type_name"),
                _closed(DECL_KEYS, {
                    "type": _ref("type_name") | {"default": "any"},
                    "default": {"description": "The value used when none is given (any JSON value)."},
                    "required": {"type": "boolean", "default": False,
                                 "description": "An input that must be given (inputs only)."},
                    "description": _text("What the value is for."),
                }, "A declaration in full."),
            ],
        },
        "declarations": {"type": "object", "propertyNames": _ref("name"),
                         "additionalProperties": _ref("declaration")},
        "retry": _closed(RETRY_KEYS, {
            "attempts": {"type": "integer", "minimum": 1, "maximum": 100, "default": 1,
                         "description": "How many times to run the node in all."},
            "delay": number | {"minimum": 0, "description": "Seconds before the second attempt (default 1)."},
            "backoff": number | {"minimum": 0, "description": "Each later wait is this many times longer "
                                                             "(default 2)."},
            "max_delay": number | {"minimum": 0, "description": "The longest wait in seconds (default 60)."},
            "on": {"type": "array", "items": {"type": "string"},
                   "description": "Error kinds to retry (e.g. timeout); empty: any error except bad_input, "
                                  "expression, missing_dependency and failed; \"*\": any error."},
        }, "Run the node again when it fails."),
        "settings": _closed(SETTINGS, {
            "timeout": number | {"exclusiveMinimum": 0, "description": "Seconds the node may take."},
            "retry": _ref("retry"),
            "on_error": {"enum": list(ON_ERROR), "default": "fail",
                         "description": "When the node fails (after retries) and its 'error' port is not "
                                        "connected: fail the run, or continue through 'out'."},
        }, "How the node runs.", extensions=True),
        "node": _closed(NODE_KEYS, {
            "type": _text("The node type, e.g. core.log."),
            "version": {"type": "integer", "minimum": 1, "default": 1,
                        "description": "The version of the node type the parameters were written for."},
            "title": _text("The title shown on the canvas."),
            "params": {"type": "object", "description": "Parameter values by name; a text value may hold "
                                                        "{{ expressions }}."},
            "settings": _ref("settings"),
            "disabled": {"type": "boolean", "default": False,
                         "description": "A disabled node is skipped: the run continues through 'out'."},
            "notes": _text("Notes for people reading the bot."),
        }, "One step of a flow.", required=("type",), extensions=True),
        "edge": _closed(("from", "to"), {
            "from": {"type": "string", "pattern": ENDPOINT, "description": "node.port the edge leaves."},
            "to": {"type": "string", "pattern": ENDPOINT,
                   "description": "node.in for a control edge; node.PARAMETER for a data edge."},
        }, "A connection from one node's port to another's.", required=("from", "to")),
        "subflow": _closed(FLOW_KEYS, _flow_properties(), "A flow called from other flows of the bot."),
        "position": {"type": "array", "prefixItems": [number, number], "minItems": 2, "maxItems": 2,
                     "description": "[x, y] on the canvas."},
        "note": _closed(("id", "text", "x", "y", "width", "height"), {
            "id": _text("The note's id."),
            "text": _text("The note's text."),
            "x": number, "y": number,
            "width": number | {"default": 200}, "height": number | {"default": 100},
        }, "A sticky note on the canvas; it never runs."),
        "flow_layout": _closed(("nodes", "notes"), {
            "nodes": {"type": "object", "description": "Canvas position of each node, by node id.",
                      "additionalProperties": _ref("position")},
            "notes": {"type": "array", "items": _ref("note")},
        }, "The canvas of one flow."),
    }


def bot_schema() -> dict:
    """The JSON Schema of a ``*.bot.json`` file of the current format (format 1 files fit it too)."""
    properties = {
        **_flow_properties(),  # the main flow's logic is at the top level (ordered by TOP_KEYS below)
        "format": {"type": "integer", "minimum": 1, "maximum": FORMAT,
                   "description": f"The bot file format version ({FORMAT} is written). Older formats are upgraded "
                                  "on load; a newer one is refused."},
        "name": {"type": "string", "pattern": r"\S", "description": "The bot's name (not blank)."},
        "description": _text("What the bot does."),
        "version": _text("The bot's own version, free text (e.g. 1.2.0)."),
        "requires": {"type": "object", "propertyNames": {"type": "string", "pattern": _ecma(PACK.pattern)},
                     "additionalProperties": {"type": "string", "pattern": REQUIREMENT},
                     "description": "Node packs the bot needs, by name, each with a version requirement: "
                                    "* (any), 1.2 (read as >=1.2), or clauses such as >=0.1, <2."},
        "secrets": {"type": "object", "propertyNames": _ref("name"),
                    "additionalProperties": {"type": "string"},
                    "description": "Secrets the bot uses, by name, each with a description. Only names are "
                                   "stored; the values come from BOTLOOM_SECRET_<NAME> or the OS keyring."},
        "settings": {"type": "object", "propertyNames": _ref("name"),
                     "additionalProperties": {"type": "object"},
                     "description": "Bot-wide settings by area (e.g. 'desktop', 'browser'), each an object "
                                    "that the area's node pack reads; see the pack's documentation."},
        "subflows": {"type": "object", "description": "Subflows by name ('main' is the bot's own flow).",
                     "propertyNames": _ref("name") | {"not": {"const": "main"}},
                     "additionalProperties": _ref("subflow")},
        "layout": {"type": "object", "propertyNames": _ref("name"), "additionalProperties": _ref("flow_layout"),
                   "description": "The canvas, apart from the logic: by flow name, 'main' or a subflow's."},
    }
    top = _closed(TOP_KEYS, properties, required=("format", "name"), extensions=True)
    return {
        "$schema": DIALECT,
        "$id": SCHEMA_ID,
        "title": f"Botloom bot file (format {FORMAT})",
        "description": "A *.bot.json file: a bot's flows, declarations and canvas layout. The schema checks "
                       "the structure; `botloom validate` checks node types, parameters and the graph.",
        **top,
        "$defs": _defs(),
    }


def schema_text() -> str:
    """The schema as written to ``docs/bot-format.schema.json``: two-space indents, a final newline."""
    return json.dumps(bot_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: str | os.PathLike) -> None:
    Path(path).write_text(schema_text(), encoding="utf-8")
