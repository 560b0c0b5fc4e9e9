"""The form of a review task: its fields, declared with the same parameter schema as nodes.

A field is ``{name, type, value, confidence, box, page, required, choices, label}``; ``type`` is
a parameter type (string, number, integer, boolean, ...). Each field gets the JSON Schema of the
:class:`Param` it stands for (``schema``), so the designer's inbox builds its form the way the
inspector builds a node's, and the runner checks an answer with the same ``Param.check``.

The ``fields`` parameter takes that list, or the ``fields`` object of ``ocr.extract_invoice``
(name -> {value, confidence, box, page}), whose types are guessed from the values.
"""

from __future__ import annotations

from typing import Any

from botloom.runner.sdk import NodeError, Param, TypeMismatch

KEYS = ("name", "type", "value", "confidence", "box", "page", "required", "choices", "label", "description", "source")
MAX_FIELDS = 200


def guess_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "string"


def as_list(fields: Any, where: str) -> list[dict]:
    """The fields as a list of dicts, from a list or from an extractor's name -> field object."""
    if fields is None:
        return []
    if isinstance(fields, dict):
        items = []
        for name, field in fields.items():
            field = dict(field) if isinstance(field, dict) else {"value": field}
            field.setdefault("name", name)
            items.append(field)
        return items
    if isinstance(fields, list):
        return list(fields)
    raise NodeError(f"'fields' is {type(fields).__name__}; it takes a list of fields or an object of them",
                    kind="bad_input", where=where,
                    fix="give e.g. [{\"name\": \"total\", \"type\": \"number\", \"value\": 12.5}] or the "
                        "'fields' output of Extract invoice fields")


def build_fields(fields: Any, where: str) -> list[dict]:
    """The form's fields, each checked (a clear error names the field) and with its ``schema``."""
    items = as_list(fields, where)
    if len(items) > MAX_FIELDS:
        raise NodeError(f"'fields' has {len(items)} fields; a review form takes at most {MAX_FIELDS}",
                        kind="bad_input", where=where, fix="send only the fields a person has to check")
    out, seen = [], set()
    for i, raw in enumerate(items):
        at = f"{where}, parameter 'fields', item {i + 1}"
        if not isinstance(raw, dict):
            raise NodeError(f"a field is an object with a name, got {type(raw).__name__}", kind="bad_input", where=at,
                            fix="write {\"name\": \"total\", \"value\": 12.5}")
        unknown = sorted(set(raw) - set(KEYS) - {"text", "schema"})
        if unknown:
            raise NodeError(f"unknown key(s) {', '.join(unknown)} in a field", kind="bad_input", where=at,
                            fix=f"a field has: {', '.join(KEYS)}")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise NodeError("a field has no name", kind="bad_input", where=at, fix="give each field a 'name'")
        if name in seen:
            raise NodeError(f"two fields are named '{name}'", kind="bad_input", where=at,
                            fix="give each field a name of its own")
        seen.add(name)
        value = raw.get("value")
        kind = raw.get("type") or guess_type(value)
        choices = raw.get("choices") or ()
        try:
            param = Param(name, kind, title=raw.get("label") or "", description=raw.get("description") or "",
                          required=bool(raw.get("required")), choices=tuple(choices))
        except (ValueError, TypeError) as exc:
            raise NodeError(f"field '{name}': {exc}", kind="bad_input", where=at,
                            fix="the types are those of node parameters: string, number, integer, boolean, "
                                "list, object, table, path") from None
        if value is not None:
            try:
                value = param.check(value)
            except TypeMismatch:
                pass  # an extracted value that does not fit is what the person is asked to correct
        confidence = raw.get("confidence")
        if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))):
            raise NodeError(f"field '{name}': confidence must be a number from 0 to 1", kind="bad_input", where=at)
        box = raw.get("box")
        if box is not None and not (isinstance(box, (list, tuple)) and len(box) == 4
                                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)):
            raise NodeError(f"field '{name}': box must be [x, y, width, height] in the page image's pixels",
                            kind="bad_input", where=at)
        page = raw.get("page")
        out.append({"name": name, "type": kind, "label": param.title, "value": value,
                    "confidence": None if confidence is None else float(confidence),
                    "box": list(box) if box is not None else None, "page": int(page) if page else (1 if box else None),
                    "required": param.required, "choices": list(param.choices), "schema": param.ui_schema(),
                    "source": raw.get("source"), "text": raw.get("text")})  # for the examples of corrections
    return out
