"""Screen capture shared by the desktop and OCR packs.

`grab(region)` returns the screen (or a region of it) as an RGB numpy array
(H x W x 3, uint8). `region` is (x, y, width, height) in screen pixels.
mss and numpy are imported lazily so importing this module is cheap.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_local = threading.local()


def _mss(fresh: bool = False) -> Any:
    """One mss instance per thread and per DISPLAY (mss handles are not thread safe)."""
    display = os.environ.get("DISPLAY", "")
    inst = getattr(_local, "mss", None)
    if fresh or inst is None or getattr(_local, "display", None) != display:
        import mss  # lazy

        if inst is not None:
            try:
                inst.close()
            except Exception:  # pragma: no cover - best effort
                pass
            _local.mss = None
        inst = mss.MSS() if hasattr(mss, "MSS") else mss.mss()
        _local.mss = inst
        _local.display = display
    return inst


def _grab_raw(box: dict) -> Any:
    """mss grab; if the display went away and came back (a restarted X server, a new login),
    reconnect once and try again."""
    try:
        return _mss().grab(box)
    except Exception:
        return _mss(fresh=True).grab(box)


def check() -> None:
    """Make sure the capture connection works (reconnects once if the X server changed)."""
    _grab_raw({"left": 0, "top": 0, "width": 1, "height": 1})


def screen_size() -> tuple[int, int]:
    """(width, height) of the whole virtual screen."""
    mon = _mss().monitors[0]
    return int(mon["width"]), int(mon["height"])


def grab(region: tuple[int, int, int, int] | None = None) -> Any:
    """Capture the screen or a region of it as an RGB uint8 array (H x W x 3)."""
    import numpy as np  # lazy

    if region is None:
        check()
        mon = _mss().monitors[0]
        box = {"left": mon["left"], "top": mon["top"], "width": mon["width"], "height": mon["height"]}
    else:
        x, y, w, h = (int(v) for v in region)
        if w <= 0 or h <= 0:
            raise ValueError(f"screen region must have a positive size, got {region!r}")
        box = {"left": x, "top": y, "width": w, "height": h}
    shot = _grab_raw(box)
    # mss gives BGRA; drop alpha and reorder to RGB.
    arr = np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)
    return np.ascontiguousarray(arr[:, :, 2::-1])


def save_png(image: Any, path: str) -> str:
    """Write an RGB array to a PNG file; returns the path."""
    from PIL import Image  # lazy

    Image.fromarray(image).save(path)
    return path
