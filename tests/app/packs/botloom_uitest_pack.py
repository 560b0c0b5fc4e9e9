"""A node pack for the designer tests, installed the way any pack is (an entry point in the
``botloom.nodes`` group); the tests put this folder on PYTHONPATH so the runs the designer
starts in child processes find it too."""

from __future__ import annotations

import os
import signal
import struct
import zlib

from botloom.runner.sdk import NodePack, Output, Param, node


@node("uitest.find_image", title="Find image", category="Desktop", aliases=("locate picture",),
      params=[Param("target", "object", widget="screen-target", description="What to find on the screen."),
              Param("mode", "string", default="fast", choices=("fast", "exact")),
              Param("confidence", "number", default=0.9, minimum=0, maximum=1, show_if={"mode": "exact"})],
      outputs=[Output("found", "boolean")])
def find_image(ctx, target, mode, confidence):
    """Finds an image on the screen (a stand-in: it only says whether a target is set)."""
    return {"found": bool(target)}


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


@node("uitest.screenshot", title="Take screenshot", category="Desktop",
      params=[Param("name", "string", default="screen.png")], outputs=[Output("path", "path")])
def screenshot(ctx, name):
    """Keeps a small PNG with the run, as a desktop screenshot would be kept."""
    return {"path": str(ctx.artifact(_png(40, 24, (46, 139, 87)), name=name, kind="screenshot"))}


@node("uitest.die", title="Kill the run's process", category="Desktop", side_effects=True)
def die(ctx):
    """Kills the process running the bot (as a crashing native library would)."""
    os.kill(os.getpid(), signal.SIGKILL)


def pack() -> NodePack:
    return NodePack("uitest", "1.0", [find_image, screenshot, die], title="Designer test pack")
