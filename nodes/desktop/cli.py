"""`botloom inspect`: print a window's accessibility tree with the selector of each element."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("inspect", help="print a desktop window's accessibility tree with each element's selector")
    p.add_argument("--window", default="", help="the window's title (a regular expression); default: every window")
    p.add_argument("--process", default="", help="the application's process name or id")
    p.add_argument("--depth", type=int, default=40, help="how deep to go (default 40)")
    p.add_argument("--selector", default="", help="only list the elements this selector finds, with their details")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the window (default 5)")
    p.add_argument("--json", action="store_true", help="with --selector: print the elements as JSON")
    p.set_defaults(func=_inspect)


def _inspect(args) -> int:
    from botloom.runner.sdk import NodeError

    from . import a11y
    from .session import require_display

    require_display()
    roots = a11y.roots_for(args.window, args.process, None, args.timeout)
    if not roots:
        raise NodeError(f"no accessible window matches /{args.window}/" if args.window else
                        "no application exposes an accessibility tree", kind="not_found",
                        fix="start the application with accessibility on (desktop.launch, desktop.app, or "
                            "QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1 for Qt) in this D-Bus session")
    if args.selector:
        found = a11y.find_all(roots, a11y.parse(args.selector))
        rows = [{**el.describe(), "text": el.text()} for el in found]
        if args.json:
            print(json.dumps(rows, indent=2, ensure_ascii=False))
        else:
            for row in rows:
                print(f"{row['role']} {row['name']!r} text={row['text']!r} box={row['box']} "
                      f"states={','.join(row['states'])}")
            print(f"{len(rows)} element(s) match {a11y.render(a11y.parse(args.selector))}")
        return 0 if found else 1
    for root in roots:
        print("\n".join(a11y.tree_lines(root, args.depth)))
    return 0
