"""Looking at the screen: screenshots (kept with the run), find / wait for an image (or any
target), wait for the screen to settle."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from botloom.runner.sdk import Next, NodeError, NodeTimeoutError, Output, Param, node

from . import targets as tg
from .input import TARGET_HELP, target_param
from .session import preflight, require_display, with_evidence

CATEGORY = "Desktop"


def area_box(ctx, area: str, window: str, region) -> tuple[int, int, int, int] | None:
    """The screen box for area "screen" (None), "window" or "region" (relative to the window if one is given)."""
    if area == "screen":
        return None
    t = {"kind": "image", "image": "-", "window": window or None, "region": region or None}
    if area == "region" and not region:
        raise NodeError("area 'region' needs a region [x, y, width, height]", kind="bad_input",
                        fix="fill 'region', or choose area 'screen' or 'window'")
    if area == "window" and not window:
        raise NodeError("area 'window' needs a window title pattern", kind="bad_input", fix="fill 'window'")
    if region:
        tg.normalize(t)  # validates the region's shape
    win = tg.window_of(t, ctx)
    return tg.search_area(t, win)


AREA_PARAMS = [
    Param("area", "string", default="screen", choices=("screen", "window", "region")),
    Param("window", "string", default="", show_if={"area": ["window", "region"]},
          description="Title pattern of the window (for 'region': the region is relative to it)."),
    Param("region", "list", default=None, show_if={"area": "region"},
          description="[x, y, width, height] in pixels (relative to the window when one is given)."),
]


@node("desktop.screenshot", title="Screenshot", category=CATEGORY, icon="camera", preflight=preflight,
      params=[*AREA_PARAMS,
              Param("name", "string", default="", description="File name of the artifact (default: the node id)."),
              Param("save_to", "path", default="", path="save", advanced=True,
                    description="Also save the PNG here (relative to the bot's folder).")],
      outputs=[Output("path", "path", "The screenshot kept with the run (PNG)."),
               Output("width", "integer"), Output("height", "integer")],
      aliases=("screen capture", "capture screen", "print screen", "snapshot"))
@with_evidence
def screenshot(ctx, area, window, region, name, save_to):
    """Captures the screen, a window or a region and keeps it with the run as a PNG."""
    require_display(ctx)
    from . import screen

    image = screen.grab(area_box(ctx, area, window, region))
    fname = (name or f"{ctx.node_id}").strip()
    if not fname.lower().endswith(".png"):
        fname += ".png"
    if save_to:
        target = ctx.path(save_to)
        target.parent.mkdir(parents=True, exist_ok=True)
        screen.save_png(image, str(target))
        kept = ctx.artifact(target, name=f"{ctx.seq:05d}-{fname}", kind="screenshot")
    else:
        with tempfile.TemporaryDirectory(prefix="botloom-shot-") as tmp:
            path = Path(tmp) / fname
            screen.save_png(image, str(path))
            kept = ctx.artifact(path, kind="screenshot")
    return {"path": str(kept), "width": int(image.shape[1]), "height": int(image.shape[0])}


@node("desktop.find_image", title="Find on screen", category=CATEGORY, icon="search", preflight=preflight, lint=tg.lint_targets,
      params=[target_param(description="What to look for (an image, a text, or a point to check). " + TARGET_HELP),
              Param("timeout", "number", default=0, minimum=0, description="Seconds to keep looking (0: look once).")],
      outputs=[Output("found", "boolean"), Output("x", "integer", "Centre of the match (screen pixels)."),
               Output("y", "integer"), Output("score", "number"), Output("match", "object")],
      ports=("found", "missing"), aliases=("find image", "image exists", "locate on screen", "find text on screen"))
@with_evidence
def find_image(ctx, target, timeout):
    """Looks for an image (or text) on the screen; leaves through 'found' or 'missing'."""
    try:
        hit = tg.locate(ctx, target, timeout)
    except NodeError as exc:
        if exc.kind != "not_found":
            raise
        ctx.log(f"not found: {exc.message}", "info")
        return Next("missing", {"found": False, "x": None, "y": None,
                                "score": exc.details.get("best_score"), "match": {}})
    return Next("found", {"found": True, "x": hit.x, "y": hit.y, "score": round(hit.score, 4), "match": hit.to_dict()})


@node("desktop.wait_image", title="Wait for image", category=CATEGORY, icon="hourglass", preflight=preflight, lint=tg.lint_targets,
      params=[target_param(description="The image (or text) to wait for. " + TARGET_HELP),
              Param("state", "string", default="appear", choices=("appear", "vanish")),
              Param("timeout", "number", default=30, minimum=0)],
      outputs=[Output("match", "object")], aliases=("wait until visible", "wait for text", "wait until gone"))
@with_evidence
def wait_image(ctx, target, state, timeout):
    """Waits until an image (or text) appears on the screen, or until it is gone."""
    if state == "appear":
        hit = tg.locate(ctx, target, timeout)
        return {"match": hit.to_dict()}
    deadline = time.monotonic() + float(timeout)
    while True:
        try:
            hit = tg.locate(ctx, target, 0, log=False)
        except NodeError as exc:
            if exc.kind == "not_found":
                return {"match": {}}
            raise
        if time.monotonic() >= deadline:
            raise NodeTimeoutError(f"{hit.label} was still on the screen after {float(timeout):g} s "
                                   f"(score {hit.score:.3f} at {hit.x},{hit.y})", details={"best_score": hit.score},
                                   fix="raise the timeout, or check what keeps it on the screen in the screenshot")
        ctx.sleep(0.1)


@node("desktop.wait_settle", title="Wait for the screen to settle", category=CATEGORY, icon="hourglass",
      preflight=preflight,
      params=[*AREA_PARAMS,
              Param("stable_for", "number", default=0.3, minimum=0,
                    description="Seconds the area must stay unchanged."),
              Param("tolerance", "number", default=0.001, minimum=0, maximum=1, advanced=True,
                    description="Fraction of pixels allowed to change (a blinking cursor, a clock)."),
              Param("timeout", "number", default=10, minimum=0)],
      outputs=[Output("waited", "number", "Seconds waited.")],
      aliases=("wait until idle", "wait for screen", "wait for redraw", "settle"))
@with_evidence
def wait_settle(ctx, area, window, region, stable_for, tolerance, timeout):
    """Waits until the screen (or a window / region) stops changing: after a click that
    opens a dialog, loads a list or animates."""
    import numpy as np

    from . import screen

    require_display(ctx)
    box = area_box(ctx, area, window, region)
    t0 = time.monotonic()
    deadline = t0 + float(timeout)
    last = screen.grab(box)
    stable_since = time.monotonic()
    changed = 1.0
    while True:
        ctx.sleep(0.05)
        now_img = screen.grab(box)
        if now_img.shape != last.shape:
            changed = 1.0
        else:
            changed = float(np.count_nonzero(np.any(now_img != last, axis=2))) / max(1, now_img.shape[0] * now_img.shape[1])
        now = time.monotonic()
        if changed > tolerance:
            stable_since = now
        elif now - stable_since >= float(stable_for):
            return {"waited": round(now - t0, 3)}
        if now >= deadline:
            raise NodeTimeoutError(f"the screen kept changing for {float(timeout):g} s ({changed:.1%} of the pixels "
                                   "changed in the last frame)",
                                   fix="narrow the area to the part that must settle, raise 'tolerance' for a "
                                       "blinking cursor or clock, or raise the timeout")
        last = now_img
