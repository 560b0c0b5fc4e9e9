"""`botloom record-web`: record what you do in a browser into a new bot file (or, for the
designer, as JSON lines)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("record-web", help="record clicks, typing and choices in a browser into a new bot file")
    p.add_argument("url", nargs="?", default="", help="the address to start at")
    p.add_argument("--out", default="", help="the bot file to write (e.g. my-bot.bot.json)")
    p.add_argument("--name", default="", help="the bot's name (default: from the file name)")
    p.add_argument("--browser", default="auto", help="auto, chrome, msedge, chromium, playwright or a path")
    p.add_argument("--events", choices=("jsonl",), default=None,
                   help="report the steps as JSON lines on stdout; a line 'stop' on stdin ends the recording")
    p.add_argument("--pick", action="store_true",
                   help="with --events: pick one element instead (the click is not made); reports its best target")
    p.add_argument("--headless", action="store_true", help="no browser window (with --cdp-port, for another tool)")
    p.add_argument("--cdp-port", type=int, default=0,
                   help="open the browser's DevTools protocol on this local port (to watch or drive it from another tool)")
    p.set_defaults(func=_record)


def _record(args) -> int:
    import os
    import sys

    from botloom.runner.sdk import BotloomError, recording

    from .recorder import WebPicker, WebRecorder

    recorder = (WebPicker if args.pick else WebRecorder)(args.url, args.browser, headless=args.headless,
                                                          cdp_port=args.cdp_port)
    if args.events:
        return recording.serve(recorder)
    if args.pick:
        raise BotloomError("--pick reports the picked element as JSON lines", where="--pick", fix="add --events jsonl")
    out = recording.bot_file(args.out, "botloom record-web https://example.com --out my-bot.bot.json")
    if not args.headless and sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or
                                                                       os.environ.get("WAYLAND_DISPLAY")):
        raise BotloomError("recording needs a visible browser, but there is no display (DISPLAY is not set)",
                           fix="run it in a desktop session, or inside Xvfb with a VNC viewer")
    return recording.record_to_file(
        recorder, out, args.name,
        f"Recording in the browser at {args.url or 'a blank page'}. Close the browser (or press Ctrl+C) to finish.",
        f"Recorded in the browser from {args.url}.")
