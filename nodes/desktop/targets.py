"""Screen targets: where a desktop node clicks, types or looks.

A target is a JSON object (see docs/desktop.md):

    {"kind": "point", "x": 120, "y": 45, "window": "Calculator"}
    {"kind": "image", "image": "images/ok.png", "confidence": 0.9, "window": "...", "region": [x, y, w, h]}
    {"kind": "text",  "text": "Save", "window": "..."}
    {"kind": "element", "selector": "button[name=\"Save\"]", "window": "..."}   (accessibility tree)

each optionally with "fallbacks": [target, ...] tried in order, and "offset": [dx, dy] added
to the found point. Images are matched at several scales (a bot recorded at 100 % still
finds its images at 125 % and 150 % display scaling).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from botloom.runner.sdk import Lint, NodeError, capability

from .session import require_display, screen_scale, settings_of

KINDS = ("element", "point", "image", "text")
DEFAULT_CONFIDENCE = 0.9
DEFAULT_SCALES = (1.0, 1.25, 1.5, 0.8, 2 / 3, 1.75, 2.0)


@dataclass
class Hit:
    x: int  # the point to act on, screen pixels
    y: int
    box: tuple[int, int, int, int]  # what was found (x, y, w, h) on the screen
    kind: str
    score: float = 1.0
    scale: float = 1.0
    index: int = 0  # 0 = the target itself, 1.. = fallback number
    label: str = ""
    window: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "box": list(self.box), "kind": self.kind, "score": round(self.score, 4),
                "scale": round(self.scale, 3), "fallback": self.index, "target": self.label, "window": self.window}


class Miss(Exception):
    """One attempt at one target found nothing (carries the best score seen)."""

    def __init__(self, reason: str, score: float | None = None, scale: float | None = None):
        super().__init__(reason)
        self.reason, self.score, self.scale = reason, score, scale


# ---------------------------------------------------------------- normalising
def normalize(target: Any, where: str = "target") -> dict:
    """A target dict with its kind filled in (accepts a few shorthands)."""
    if isinstance(target, str):
        text = target.strip()
        if text.lower().endswith((".png", ".jpg", ".jpeg", ".bmp")):
            return {"kind": "image", "image": text}
        parts = [p.strip() for p in text.split(",")]
        if len(parts) == 2 and all(p.lstrip("-").isdigit() for p in parts):
            return {"kind": "point", "x": int(parts[0]), "y": int(parts[1])}
        if text:
            return {"kind": "text", "text": text}
    if isinstance(target, (list, tuple)) and len(target) == 2:
        return {"kind": "point", "x": target[0], "y": target[1]}
    if not isinstance(target, dict) or not target:
        raise NodeError(f"the {where} is empty or not a target object: {target!r}", kind="bad_input",
                        fix='give a target such as {"kind": "image", "image": "images/ok.png"} or '
                            '{"kind": "point", "x": 10, "y": 20, "window": "Title"}')
    t = dict(target)
    kind = t.get("kind") or ("image" if "image" in t else "text" if "text" in t else "point" if "x" in t
                             else "element" if "selector" in t else None)
    if kind not in KINDS:
        raise NodeError(f"the {where} has an unknown kind {t.get('kind')!r}", kind="bad_input",
                        fix=f"use one of: {', '.join(KINDS)}")
    t["kind"] = kind
    need = {"point": ("x", "y"), "image": ("image",), "text": ("text",), "element": ("selector",)}[kind]
    missing = [k for k in need if t.get(k) in (None, "")]
    if missing:
        raise NodeError(f"the {where} ({kind}) lacks {', '.join(missing)}", kind="bad_input",
                        fix=f"a {kind} target needs: {', '.join(need)}")
    if "region" in t and t["region"] is not None:
        r = t["region"]
        if not (isinstance(r, (list, tuple)) and len(r) == 4 and all(isinstance(v, (int, float)) for v in r)
                and r[2] > 0 and r[3] > 0):
            raise NodeError(f"the {where}'s region must be [x, y, width, height] with a positive size, got {r!r}",
                            kind="bad_input", fix="e.g. \"region\": [0, 0, 400, 300]")
    return t


def chain(target: Any) -> list[dict]:
    first = normalize(target)
    fallbacks = first.pop("fallbacks", None) or []
    if not isinstance(fallbacks, list):
        raise NodeError("a target's 'fallbacks' must be a list of targets", kind="bad_input")
    return [first] + [normalize(f, f"fallback #{i}") for i, f in enumerate(fallbacks, 1)]


TARGET_PARAMS = ("target", "source", "destination")


def lint_targets(params: dict, info) -> list:
    """The checks ``botloom validate`` makes of a node's written-out targets (the SDK's lint
    hook): the target's shape, image files that do not exist, and points outside the screen the
    bot declares (``settings.desktop.screen``) when they are not relative to a window."""
    from .session import parse_screen

    found = []
    declared = info.area("desktop").get("screen")
    try:
        screen = parse_screen(declared) if declared else None
    except NodeError:
        screen = None  # the preflight says what is wrong with the setting
    for name in TARGET_PARAMS:
        value = params.get(name)
        if value in (None, "", {}):
            continue
        try:
            targets = chain(value)
        except NodeError as exc:
            found.append(Lint(exc.message, param=name, fix=exc.fix))
            continue
        for i, t in enumerate(targets):
            which = "the target" if i == 0 else f"fallback #{i}"
            if t["kind"] == "element" and not (isinstance(t["selector"], str) and "{{" in t["selector"]):
                from . import a11y

                try:
                    a11y.parse(t["selector"], f"{which}'s selector")
                except NodeError as exc:
                    found.append(Lint(exc.message, param=name, fix=exc.fix))
            elif t["kind"] == "image" and isinstance(t["image"], str) and "{{" not in t["image"]:
                path = info.path(t["image"])
                if not path.is_file():
                    found.append(Lint(f"{which}'s image '{t['image']}' does not exist ({path})", param=name,
                                      fix="image paths are relative to the bot file; capture the image again with "
                                          "the designer's Capture button"))
            elif t["kind"] == "point" and screen and not t.get("window") and not t.get("region"):
                x, y = t.get("x"), t.get("y")
                if isinstance(x, int) and isinstance(y, int) and not (0 <= x < screen[0] and 0 <= y < screen[1]):
                    found.append(Lint(f"{which}, the point {x},{y}, is outside the {screen[0]}x{screen[1]} screen the "
                                      "bot declares (settings.desktop.screen)", param=name,
                                      fix=f"use coordinates between 0,0 and {screen[0] - 1},{screen[1] - 1}, or give "
                                          "a window so they are relative to it"))
    return found


def label(t: dict) -> str:
    win = f" in /{t['window']}/" if t.get("window") else ""
    if t["kind"] == "point":
        return f"point {t['x']},{t['y']}{win}"
    if t["kind"] == "element":
        sel = t["selector"] if isinstance(t["selector"], str) else str(t["selector"])
        return f"element {sel}{win}"
    if t["kind"] == "image":
        return f"image {t['image']}{win}"
    return f"text '{t['text']}'{win}"


# ---------------------------------------------------------------- areas
def window_of(t: dict, ctx=None):
    if not t.get("window"):
        return None
    from . import windows

    return windows.find(str(t["window"]), str(t.get("process") or ""), 0, ctx)


def search_area(t: dict, win) -> tuple[int, int, int, int]:
    """The screen box to look in: the region (relative to the window if one is given),
    else the window, else the whole screen; clipped to the screen."""
    from . import screen

    sw, sh = screen.screen_size()
    if t.get("region"):
        rx, ry, rw, rh = (int(v) for v in t["region"])
        if win is not None:
            rx, ry = rx + win.x, ry + win.y
    elif win is not None:
        rx, ry, rw, rh = win.box
    else:
        rx, ry, rw, rh = 0, 0, sw, sh
    x0, y0 = max(0, rx), max(0, ry)
    x1, y1 = min(sw, rx + rw), min(sh, ry + rh)
    if x1 <= x0 or y1 <= y0:
        raise NodeError(f"the search area {rx},{ry} {rw}x{rh} lies outside the {sw}x{sh} screen", kind="bad_input",
                        fix="check the target's region, or move the window onto the screen")
    return x0, y0, x1 - x0, y1 - y0


# ---------------------------------------------------------------- image matching
_TEMPLATES: dict[tuple[str, float], Any] = {}


def load_image(path: str) -> Any:
    """An image file as a grayscale array (cached by path and modification time)."""
    import cv2
    import numpy as np

    try:
        mtime = os.path.getmtime(path)
    except OSError:
        raise NodeError(f"image file not found: {path}", kind="bad_input",
                        fix="image paths are relative to the bot file; capture the image again with the designer's "
                            "picker or copy it into the bot's images/ folder") from None
    key = (path, mtime)
    if key not in _TEMPLATES:
        data = np.fromfile(path, dtype=np.uint8)
        img = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise NodeError(f"cannot read the image {path}: not a PNG/JPEG/BMP picture", kind="bad_input",
                            fix="save the target image as PNG")
        _TEMPLATES[key] = img
    return _TEMPLATES[key]


def to_gray(rgb: Any) -> Any:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


PYRAMID_MIN_SIDE = 24  # templates smaller than this (at the tried scale) are matched at full resolution only
PYRAMID_MIN_AREA = 300 * 300  # small search areas are matched at full resolution only


def _score_at(haystack: Any, tpl: Any) -> tuple[float, tuple[int, int]]:
    import cv2

    result = cv2.matchTemplate(haystack, tpl, cv2.TM_CCOEFF_NORMED)
    _, score, _, loc = cv2.minMaxLoc(result)
    if score != score:  # NaN on a flat area
        score = 0.0
    return float(score), (int(loc[0]), int(loc[1]))


def _match_one(haystack: Any, small_hay: Any, tpl: Any, confidence: float) -> tuple[float, tuple[int, int]]:
    """Best (score, top-left) of ``tpl`` in ``haystack``: coarse-to-fine when both are large
    enough (a half-resolution search picks candidates, full resolution confirms them), else a
    plain full-resolution search."""
    import cv2
    import numpy as np

    th, tw = tpl.shape[:2]
    hh, hw = haystack.shape[:2]
    if small_hay is None or min(th, tw) < PYRAMID_MIN_SIDE:
        return _score_at(haystack, tpl)
    small_tpl = cv2.resize(tpl, (tw // 2, th // 2), interpolation=cv2.INTER_AREA)
    coarse = cv2.matchTemplate(small_hay, small_tpl, cv2.TM_CCOEFF_NORMED)
    np.nan_to_num(coarse, copy=False)
    best = (-1.0, (0, 0))
    floor = max(0.3, confidence - 0.35)
    for _ in range(3):  # the three best coarse candidates, each confirmed at full resolution
        _, cscore, _, cloc = cv2.minMaxLoc(coarse)
        if cscore < floor and best[0] >= 0:
            break
        x0, y0 = max(0, cloc[0] * 2 - 4), max(0, cloc[1] * 2 - 4)
        x1, y1 = min(hw, cloc[0] * 2 + tw + 4), min(hh, cloc[1] * 2 + th + 4)
        score, loc = _score_at(haystack[y0:y1, x0:x1], tpl)
        if score > best[0]:
            best = (score, (loc[0] + x0, loc[1] + y0))
        if best[0] >= confidence:
            break
        # suppress this candidate's neighbourhood and look at the next one
        coarse[max(0, cloc[1] - th // 4):cloc[1] + th // 4 + 1, max(0, cloc[0] - tw // 4):cloc[0] + tw // 4 + 1] = -1
    return best


def match_template(haystack: Any, template: Any, scales=DEFAULT_SCALES, confidence: float = DEFAULT_CONFIDENCE
                   ) -> tuple[float, tuple[int, int, int, int] | None, float]:
    """Best match of ``template`` in ``haystack`` (both grayscale) over ``scales``.

    Returns (score, box in haystack pixels or None, scale). Stops at the first scale whose
    score reaches ``confidence``; otherwise returns the best seen."""
    import cv2

    hh, hw = haystack.shape[:2]
    th, tw = template.shape[:2]
    small_hay = None
    if hh * hw >= PYRAMID_MIN_AREA:
        small_hay = cv2.resize(haystack, (hw // 2, hh // 2), interpolation=cv2.INTER_AREA)
    best = (-1.0, None, 1.0)
    for scale in scales:
        w, h = max(1, round(tw * scale)), max(1, round(th * scale))
        if w > hw or h > hh or w < 3 or h < 3:
            continue
        if scale == 1.0:
            tpl = template
        else:
            tpl = cv2.resize(template, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        score, loc = _match_one(haystack, small_hay, tpl, confidence)
        if score > best[0]:
            best = (score, (loc[0], loc[1], w, h), float(scale))
        if score >= confidence:
            break
    return best


def scales_for(ctx, t: dict) -> list[float]:
    custom = t.get("scales") or settings_of(ctx).get("scales")
    scales = [float(s) for s in custom] if custom else list(DEFAULT_SCALES)
    declared = settings_of(ctx).get("scale")
    if declared:
        try:
            ratio = round(screen_scale() / float(declared), 3)
        except (TypeError, ValueError, ZeroDivisionError):
            ratio = 1.0
        if ratio != 1.0:  # the likely scale first
            scales = [ratio] + [s for s in scales if abs(s - ratio) > 1e-3]
    return scales


def confidence_of(ctx, t: dict) -> float:
    value = t.get("confidence", settings_of(ctx).get("confidence", DEFAULT_CONFIDENCE))
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise NodeError(f"confidence must be a number between 0 and 1, got {value!r}", kind="bad_input") from None
    if not 0 < value <= 1:
        raise NodeError(f"confidence must be between 0 and 1, got {value}", kind="bad_input",
                        fix="0.9 is a good default; lower it (0.8) for images that change a little")
    return value


def image_path(ctx, t: dict) -> str:
    return str(ctx.path(t["image"])) if ctx is not None else str(t["image"])


# ---------------------------------------------------------------- one attempt
def _offset(t: dict) -> tuple[int, int]:
    off = t.get("offset") or (0, 0)
    return int(off[0]), int(off[1])


def attempt(ctx, t: dict, index: int = 0, searches: dict | None = None) -> Hit:
    """One look for target ``t``; raises Miss when it is not there. ``searches`` keeps a text
    target's search between the looks of one wait (an unchanged screen is not read again)."""
    from . import screen

    if t["kind"] == "element":
        return _attempt_element(ctx, t, index)
    win = window_of(t, ctx)
    windict = win.to_dict() if win is not None else {}
    sw, sh = screen.screen_size()
    dx, dy = _offset(t)
    if t["kind"] == "point":
        try:
            px, py = int(t["x"]), int(t["y"])
        except (TypeError, ValueError):
            raise NodeError(f"point target coordinates must be whole numbers, got {t['x']!r}, {t['y']!r}",
                            kind="bad_input") from None
        if win is not None:
            if not (0 <= px < win.width and 0 <= py < win.height):
                raise NodeError(f"the point {px},{py} is outside the window '{win.title}' "
                                f"({win.width}x{win.height})", kind="bad_coordinates",
                                details={"x": px, "y": py, "window": windict},
                                fix="point coordinates are relative to the window's top-left corner (inside its "
                                    "frame); pick the point again, or resize the window first")
            px, py = px + win.x, py + win.y
        px, py = px + dx, py + dy
        if not (0 <= px < sw and 0 <= py < sh):
            raise NodeError(f"the point {px},{py} is outside the {sw}x{sh} screen", kind="bad_coordinates",
                            details={"x": px, "y": py},
                            fix=f"use coordinates between 0,0 and {sw - 1},{sh - 1}, or give a window so they are "
                                "relative to it")
        return Hit(px, py, (px, py, 1, 1), "point", 1.0, 1.0, index, label(t), windict)

    area = search_area(t, win)
    shot = screen.grab(area)
    if t["kind"] == "image":
        template = load_image(image_path(ctx, t))
        conf = confidence_of(ctx, t)
        score, box, scale = match_template(to_gray(shot), template, scales_for(ctx, t), conf)
        if box is None:
            raise Miss(f"the image ({template.shape[1]}x{template.shape[0]}) is larger than the search area "
                       f"{area[2]}x{area[3]}", 0.0)
        if score < conf:
            raise Miss(f"best score {score:.3f} at scale {scale:g} is below the confidence {conf:g}", score, scale)
        bx, by = box[0] + area[0], box[1] + area[1]
        return Hit(bx + box[2] // 2 + dx, by + box[3] // 2 + dy, (bx, by, box[2], box[3]), "image", score, scale,
                   index, label(t), windict)

    # text (OCR)
    TextSearch = capability("ocr.text_search", purpose="text targets",
                            install="pip install 'botloom[ocr]' (or use an image or point target)")
    min_conf = float(t.get("confidence", 0.5))
    engine = t.get("engine") or None
    searches = {} if searches is None else searches
    search = searches.setdefault(index, TextSearch(str(t["text"]), engine=engine, min_confidence=min_conf))
    matches, _ = search(shot)
    if not matches:
        raise Miss(f"no text '{t['text']}' read in the area {area}", 0.0)
    m = matches[0]
    bx, by, bw, bh = (int(v) for v in m.box)
    bx, by = bx + area[0], by + area[1]
    return Hit(bx + bw // 2 + dx, by + bh // 2 + dy, (bx, by, bw, bh), "text", float(m.confidence), 1.0, index,
               label(t), windict)


def _attempt_element(ctx, t: dict, index: int) -> Hit:
    from . import a11y

    try:
        found, why = a11y.search(t["selector"], window=str(t.get("window") or ""),
                                 process=str(t.get("process") or ""), ctx=ctx)
    except a11y.A11yUnavailable as exc:  # no tree here: the image or text fallback may still find it
        raise Miss(f"no accessibility tree ({exc.message})") from None
    if not found:
        raise Miss(why)
    el = found[0]
    x, y, w, h = el.box()
    if w <= 1 and h <= 1:
        raise Miss(f"the element {el.role} {el.name!r} is hidden")
    dx, dy = _offset(t)
    return Hit(x + w // 2 + dx, y + h // 2 + dy, (x, y, w, h), "element", 1.0, 1.0, index, label(t),
               {"title": el.name} if el.role in ("frame", "window", "dialog") else {})


# ---------------------------------------------------------------- with fallbacks and waiting
def locate(ctx, target: Any, timeout: float = 0.0, *, log: bool = True) -> Hit:
    """Find a target (trying its fallbacks in order), retrying until ``timeout`` seconds.

    Raises NodeError(kind="not_found") naming each target's best score; hard errors (bad
    coordinates, missing image file, window not found) are raised at once."""
    require_display(ctx)
    targets = chain(target)
    started = time.monotonic()
    deadline = started + max(0.0, float(timeout or 0))
    searches: dict = {}
    took = 0.0  # the last round's time: a round that cannot end before the deadline is not begun
    while True:
        round_start = time.monotonic()
        misses: list[tuple[dict, Miss]] = []
        for i, t in enumerate(targets):
            try:
                hit = attempt(ctx, t, i, searches)
            except Miss as miss:
                misses.append((t, miss))
                continue
            except NodeError as exc:
                # a window that is not there yet may appear while we wait; with fallbacks, try the next
                if exc.kind == "not_found" and (len(targets) > 1 or time.monotonic() < deadline):
                    misses.append((t, Miss(exc.message.split(";")[0], None)))
                    continue
                raise
            if log and ctx is not None:
                which = "target" if i == 0 else f"fallback #{i}"
                extra = f" score {hit.score:.3f}" + (f" at scale {hit.scale:g}" if hit.kind == "image" else "")
                ctx.log(f"{which} matched: {hit.label}{extra if hit.kind != 'point' else ''} -> {hit.x},{hit.y}",
                        "info" if i else "debug")
            return hit
        now = time.monotonic()
        took = now - round_start
        if now >= deadline or now + took > deadline + 0.25:  # reading a whole screen takes a second or more
            raise not_found(targets, misses, timeout, waited=now - started)
        if ctx is not None:
            ctx.sleep(0.05)
        else:
            time.sleep(0.05)


def not_found(targets: list[dict], misses: list[tuple[dict, Miss]], timeout: float,
              waited: float | None = None) -> NodeError:
    parts = [f"{label(t)}: {m.reason}" for t, m in misses]
    scores = [m.score for _, m in misses if m.score is not None]
    best = max(scores) if scores else None
    within = f" within {float(timeout):g} s" if timeout else ""
    what = "the target did not match" if len(targets) == 1 else f"none of the {len(targets)} targets matched"
    kinds = {t["kind"] for t in targets}
    noun = {"image": "image not found", "text": "text not found", "point": "target not found",
            "element": "element not found"}[targets[0]["kind"]]
    fixes = []
    if "element" in kinds:
        fixes.append("check the selector with `botloom inspect --window TITLE` (the application must expose its "
                     "accessibility tree)")
    if "text" in kinds:
        fixes.append("check the text as the screen shows it (spelling; a text inside a longer line is found too), "
                     "give a region or window where it appears, or lower its confidence")
    if "image" in kinds:
        fixes.append("compare the screenshot with the image: capture it again or lower its confidence (e.g. 0.8)")
    fixes.append("wait for the application to be ready (raise 'timeout'), or add a fallback")
    return NodeError(f"{noun}: {what}{within} ({'; '.join(parts)})", kind="not_found",
                     details={"best_score": best, "attempts": parts,
                              "waited": round(waited, 2) if waited is not None else None},
                     fix="; ".join(fixes))
