"""`botloom record-web`: record what you do in a browser into a new bot file (or, for the
designer, as JSON lines)."""

from __future__ import annotations

import signal
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("record-web", help="record clicks, typing and choices in a browser into a new bot file")
    p.add_argument("url", nargs="?", default="", help="the address to start at")
    p.add_argument("--out", default="", help="the bot file to write (e.g. my-bot.bot.json)")
    p.add_argument("--name", default="", help="the bot's name (default: from the file name)")
    p.add_argument("--browser", default="auto", help="auto, chrome, msedge, chromium, playwright or a path")
    p.add_argument("--events", choices=("jsonl",), default=None,
                   help="report the steps as JSON lines on stdout; a line 'stop' on stdin ends the recording")
    p.add_argument("--headless", action="store_true", help="no browser window (with --cdp-port, for another tool)")
    p.add_argument("--cdp-port", type=int, default=0,
                   help="open the browser's DevTools protocol on this local port (to watch or drive it from another tool)")
    p.set_defaults(func=_record)


def _record(args) -> int:
    import os
    import sys

    from botloom.runner.sdk import BotloomError, recording

    from .recorder import WebRecorder

    if args.events:
        return recording.serve(WebRecorder(args.url, args.browser, headless=args.headless, cdp_port=args.cdp_port))
    if not args.out:
        raise BotloomError("no bot file to write the recording to", where="--out",
                           fix="e.g. botloom record-web https://example.com --out my-bot.bot.json")
    out = Path(args.out)
    if out.exists():
        raise BotloomError(f"{out} exists already", where="--out", fix="give a new file name, or delete the file first")
    if not args.headless and sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or
                                                                       os.environ.get("WAYLAND_DISPLAY")):
        raise BotloomError("recording needs a visible browser, but there is no display (DISPLAY is not set)",
                           fix="run it in a desktop session, or inside Xvfb with a VNC viewer")
    name = args.name or out.name.split(".")[0] or "recorded-bot"
    recorder = WebRecorder(args.url, args.browser, headless=args.headless, cdp_port=args.cdp_port).start()
    shown = 0
    stopping = []
    previous = signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    print(f"Recording in the browser at {args.url or 'a blank page'}. Close the browser (or press Ctrl+C) to finish.",
          flush=True)
    try:
        while not stopping and not recorder.closed.is_set():
            recorder.pump(0.2)
            steps = recorder.steps()
            for step in steps[shown:]:
                print(f"  {step.title}" + (f"  (check: {step.warning})" if step.warning else ""), flush=True)
            shown = max(shown, len(steps))
    finally:
        signal.signal(signal.SIGINT, previous)
        recorder.pump(0.3)  # the last actions before the stop
        steps = recorder.stop()
    recording.write_bot(out, name, steps, description=f"Recorded in the browser from {args.url}.")
    print(f"{len(steps)} step(s) written to {out}")
    return 0
