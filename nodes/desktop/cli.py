"""`botloom inspect`: print a window's accessibility tree with the selector of each element;
`botloom record-desktop`: record clicks and keystrokes on the screen into a new bot file (or,
for the designer, as JSON lines)."""

from __future__ import annotations

import json
from pathlib import Path


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

def register_recorder(sub) -> None:
    p = sub.add_parser("record-desktop", help="record clicks and typing on the desktop into a new bot file")
    p.add_argument("--out", default="", help="the bot file to write (its images go into an images/ folder beside it)")
    p.add_argument("--name", default="", help="the bot's name (default: from the file name)")
    p.add_argument("--events", choices=("jsonl",), default=None,
                   help="report the steps as JSON lines on stdout; a line 'stop' on stdin ends the recording")
    p.add_argument("--images", default="", help="with --events: the folder for the images of clicked places "
                                                "(targets name them images/FILE, relative to the bot)")
    p.add_argument("--ignore-pid", type=int, action="append", default=[],
                   help="do not record clicks and keys in the windows of this process (e.g. the designer)")
    p.add_argument("--no-ocr", action="store_true", help="no text targets (faster when OCR is slow here)")
    p.set_defaults(func=_record)


def _record(args) -> int:
    from botloom.runner.sdk import recording

    from .recorder import DesktopRecorder

    if args.events:
        images = Path(args.images) if args.images else None
        return recording.serve(DesktopRecorder(images, ignore_pids=set(args.ignore_pid), ocr=not args.no_ocr))
    out = recording.bot_file(args.out, "botloom record-desktop --out my-bot.bot.json")
    recorder = DesktopRecorder(out.parent / "images", ignore_pids=set(args.ignore_pid), ocr=not args.no_ocr)
    return recording.record_to_file(
        recorder, out, args.name, "Recording clicks and keys on the desktop. Press Ctrl+C here to finish.",
        "Recorded on the desktop.",
        drop=lambda step: step.type == "desktop.hotkey" and step.params.get("keys") == "ctrl+c")  # the stopping
