"""Help text and reference docs generated from node declarations (the single source)."""

from __future__ import annotations

import json
import textwrap

from .sdk.node import NodeType
from .sdk.registry import Registry
from .sdk.types import TYPES


def _default(p) -> str:
    return json.dumps(p.default, ensure_ascii=False) if p.has_default else ""


def _hints(p) -> str:
    hints = []
    if p.required:
        hints.append("required")
    if p.choices:
        hints.append("one of " + ", ".join(map(str, p.choices)))
    if p.path:
        hints.append(f"{p.path} path")
    if p.multiline:
        hints.append("multi-line")
    if p.expression:
        hints.append("expression")
    if p.type == "secret":
        hints.append("secret name")
    if p.show_if:
        hints.append("when " + ", ".join(f"{k}={v}" for k, v in p.show_if.items()))
    if p.minimum is not None:
        hints.append(f">= {p.minimum:g}")
    if p.maximum is not None:
        hints.append(f"<= {p.maximum:g}")
    if p.advanced:
        hints.append("advanced")
    return "; ".join(hints)


def node_help(nt: NodeType) -> str:
    lines = [f"{nt.title}  ({nt.id}, version {nt.version}, pack '{nt.pack}', category {nt.category})", ""]
    lines += textwrap.wrap(nt.description, 88) or ["(no description)"]
    lines.append("")
    if nt.params:
        lines.append("Parameters:")
        for p in nt.params:
            default = f" = {_default(p)}" if p.has_default else ""
            hints = _hints(p)
            lines.append(f"  {p.name} ({TYPES[p.type].title}){default}" + (f"  [{hints}]" if hints else ""))
            if p.description:
                lines += ["      " + line for line in textwrap.wrap(p.description, 80)]
    if nt.outputs:
        lines.append("Outputs (nodes.ID.NAME):")
        lines += [f"  {o.name} ({TYPES[o.type].title})" + (f": {o.description}" if o.description else "")
                  for o in nt.outputs]
    ports = list(nt.ports) + ([f"one per value of '{nt.ports_from}'"] if nt.ports_from else [])
    lines.append("Control ports: " + (", ".join(ports + ["error"]) if ports else "error (ends the path)"))
    if nt.body_ports:
        lines.append("Runs the paths behind: " + ", ".join(nt.body_ports))
    effects = "has side effects" + (", safe to repeat" if nt.idempotent is True else
                                    ", NOT safe to repeat" if nt.idempotent is False else
                                    ", safe to repeat depending on its parameters") if nt.side_effects else "no side effects"
    lines.append(f"Effects: {effects}")
    for req in nt.requires:
        state = "installed" if req.available() else f"missing: {req.install}"
        lines.append(f"Needs: {req.module} ({state})")
    if nt.aliases:
        lines.append("Also known as: " + ", ".join(nt.aliases))
    return "\n".join(lines)


def node_reference(reg: Registry) -> str:
    """Markdown reference of every installed node type, grouped by category."""
    out = ["# Node reference", "",
           "Generated from the node declarations by `botloom nodes docs`; do not edit by hand.", ""]
    by_category: dict[str, list[NodeType]] = {}
    for nt in reg.latest():
        by_category.setdefault(nt.category, []).append(nt)
    for category in sorted(by_category):
        out += [f"## {category}", ""]
        for nt in by_category[category]:
            out += [f"### {nt.title} (`{nt.id}`)", "", nt.description or "", ""]
            if nt.params:
                out += ["| parameter | type | default | notes | description |", "|---|---|---|---|---|"]
                for p in nt.params:
                    desc = p.description.replace("|", "\\|")
                    default = _default(p).replace("|", "\\|")
                    out.append(f"| `{p.name}` | {TYPES[p.type].title} | {default} | {_hints(p)} | {desc} |")
                out.append("")
            if nt.outputs:
                out.append("Outputs: " + ", ".join(f"`{o.name}` ({TYPES[o.type].title})" for o in nt.outputs))
                out.append("")
            ports = list(nt.ports) + ([f"a port per value of `{nt.ports_from}`"] if nt.ports_from else [])
            out.append("Control ports: " + ", ".join(ports + ["error"]) +
                       (f"; runs: {', '.join(nt.body_ports)}" if nt.body_ports else "") +
                       ("; has side effects" + ({True: "", False: " (not idempotent)"}.get(nt.idempotent,
                                                 " (idempotent depending on parameters)"))
                        if nt.side_effects else ""))
            out.append("")
    return "\n".join(out).rstrip() + "\n"
