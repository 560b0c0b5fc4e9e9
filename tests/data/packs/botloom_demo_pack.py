"""A third-party node pack, installed the way any pack is: a distribution whose entry point in
the ``botloom.nodes`` group names a NodePack. The tests put it on PYTHONPATH."""

import time
from pathlib import Path

from botloom.runner.sdk import NodePack, Output, Param, Requirement, node


@node("demo.append_then_wait", title="Append, then wait", category="Demo", side_effects=True, idempotent=False,
      params=[Param("path", "path", required=True), Param("text", "string", required=True),
              Param("seconds", "number", default=0)])
def append_then_wait(ctx, path, text, seconds):
    """Appends a line, then waits: killed while waiting, its effect has happened but the
    journal cannot know it."""
    with open(ctx.path(path), "a", encoding="utf-8") as f:
        f.write(text + "\n")
    time.sleep(seconds)


@node("demo.write_then_wait", title="Write, then wait", category="Demo", side_effects=True, idempotent=True,
      params=[Param("path", "path", required=True), Param("text", "string", required=True),
              Param("seconds", "number", default=0)])
def write_then_wait(ctx, path, text, seconds):
    """Replaces a file's content, then waits (safe to repeat)."""
    Path(ctx.path(path)).write_text(text + "\n", encoding="utf-8")
    time.sleep(seconds)


@node("demo.shout", title="Shout", category="Demo", legacy_ids=("demo.yell",), version=2,
      migrations={1: lambda p: {"text": p.pop("words", ""), **p}},
      params=[Param("text", "string", required=True)], outputs=[Output("text", "string")])
def shout(ctx, text):
    """Upper-cases text. Version 1 called the parameter 'words'."""
    return {"text": text.upper()}


@node("demo.needs_extra", title="Needs an extra", category="Demo",
      requires=[Requirement("botloom_missing_extra_module", "pip install 'botloom-demo-pack[extra]'")])
def needs_extra(ctx):
    """Uses an optional dependency that is not installed."""
    ctx.require("botloom_missing_extra_module", "pip install 'botloom-demo-pack[extra]'")


@node("demo.reveal_length", title="Secret length", category="Demo",
      params=[Param("secret", "secret", required=True)], outputs=[Output("length", "integer")])
def reveal_length(ctx, secret):
    """Reads a secret's text (and only says how long it is)."""
    return {"length": len(secret.reveal())}


@node("demo.snapshot", title="Keep a snapshot", category="Demo",
      params=[Param("name", "string", default="snapshot.txt"), Param("text", "string", default="")],
      outputs=[Output("path", "path")])
def snapshot(ctx, name, text):
    """Keeps a small file with the run, as a screenshot would be kept."""
    return {"path": str(ctx.artifact(text.encode(), name=name, kind="screenshot"))}


def pack():
    return NodePack("demo", "1.0", [append_then_wait, write_then_wait, shout, needs_extra, reveal_length,
                     snapshot],
                    title="Demo")
