"""Image targets: a reference recorded at 100 % is found at 100, 125 and 150 % scaling, on
a synthetic screen and on the virtual screen through a bot; fallbacks are tried in order
and the log says which one matched with what score."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_helpers import artifacts, chain, messages, outputs, run_bot, write_bot


def reference_image() -> np.ndarray:
    """A button-like picture: a framed box with a few strokes (what a user would capture)."""
    import cv2

    img = np.full((36, 96, 3), 235, np.uint8)
    cv2.rectangle(img, (1, 1), (94, 34), (60, 60, 60), 2)
    cv2.putText(img, "OK 42", (12, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (20, 40, 160), 2, cv2.LINE_AA)
    cv2.circle(img, (82, 18), 6, (0, 140, 0), -1)
    return img


def scaled(img: np.ndarray, factor: float) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    return cv2.resize(img, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_CUBIC)


def busy_screen(seed: int = 1) -> np.ndarray:
    """1280x800 of noise-free clutter: rectangles and text that are not the reference."""
    import cv2

    rng = np.random.RandomState(seed)
    screen = np.full((800, 1280, 3), (48, 52, 60), np.uint8)
    for _ in range(40):
        x, y = int(rng.randint(0, 1180)), int(rng.randint(0, 760))
        color = tuple(int(c) for c in rng.randint(0, 255, 3))
        cv2.rectangle(screen, (x, y), (x + int(rng.randint(20, 100)), y + int(rng.randint(10, 40))), color, -1)
        cv2.putText(screen, "Item %d" % rng.randint(100), (x, y + 30), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (220, 220, 220), 1, cv2.LINE_AA)
    return screen


@pytest.mark.parametrize("factor", [1.0, 1.25, 1.5])
def test_reference_found_at_display_scale(factor):
    from botloom.nodes.desktop import targets

    ref = reference_image()
    screen = busy_screen()
    shown = scaled(ref, factor)
    x, y = 700, 333
    screen[y:y + shown.shape[0], x:x + shown.shape[1]] = shown
    score, box, scale = targets.match_template(targets.to_gray(screen), targets.to_gray(ref),
                                               targets.DEFAULT_SCALES, 0.9)
    assert score >= 0.9
    assert scale == pytest.approx(factor)
    bx, by, bw, bh = box
    assert abs(bx - x) <= 2 and abs(by - y) <= 2
    assert abs(bw - shown.shape[1]) <= 1 and abs(bh - shown.shape[0]) <= 1


def test_reference_absent_gives_a_low_best_score():
    from botloom.nodes.desktop import targets

    score, box, _ = targets.match_template(targets.to_gray(busy_screen()), targets.to_gray(reference_image()),
                                           targets.DEFAULT_SCALES, 0.9)
    assert score < 0.9


@pytest.mark.parametrize("factor", [1.0, 1.25, 1.5])
def test_bot_clicks_image_shown_at_scale_on_the_virtual_screen(desktop, tmp_path, factor):
    import cv2

    folder = tmp_path / "bot"
    (folder / "images").mkdir(parents=True)
    ref = reference_image()
    cv2.imwrite(str(folder / "images" / "ok.png"), cv2.cvtColor(ref, cv2.COLOR_RGB2BGR))
    screen = busy_screen(seed=7)
    shown = scaled(ref, factor)
    x, y = 411, 517
    screen[y:y + shown.shape[0], x:x + shown.shape[1]] = shown
    desktop.show_image(screen)
    bot = write_bot(folder, "click-ok", {
        "find": {"type": "desktop.find_image", "params": {"target": {"kind": "image", "image": "images/ok.png"}}},
        "click": {"type": "desktop.click", "params": {"target": {"kind": "image", "image": "images/ok.png",
                                                                "confidence": 0.9}}},
    }, [("start", "find"), ("find.found", "click")], settings={"screen": "1280x800"})
    result, log = run_bot(bot)
    assert result.state == "succeeded", result.error
    found = outputs(log, "find")
    assert found["found"] is True and found["score"] >= 0.9
    assert found["match"]["scale"] == pytest.approx(factor, abs=0.01)
    cx, cy = x + shown.shape[1] // 2, y + shown.shape[0] // 2
    assert abs(found["x"] - cx) <= 2 and abs(found["y"] - cy) <= 2
    import pyautogui

    assert abs(pyautogui.position()[0] - cx) <= 2 and abs(pyautogui.position()[1] - cy) <= 2


def test_fallbacks_are_tried_in_order_and_logged(desktop, tmp_path):
    import cv2

    folder = tmp_path / "bot"
    (folder / "images").mkdir(parents=True)
    ref = reference_image()
    other = np.full((30, 30, 3), 0, np.uint8)
    cv2.line(other, (0, 0), (29, 29), (255, 0, 255), 3)
    cv2.imwrite(str(folder / "images" / "ok.png"), cv2.cvtColor(ref, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(folder / "images" / "absent.png"), cv2.cvtColor(other, cv2.COLOR_RGB2BGR))
    screen = busy_screen(seed=3)
    screen[200:236, 300:396] = ref
    desktop.show_image(screen)
    target = {"kind": "image", "image": "images/absent.png", "confidence": 0.95,
              "fallbacks": [{"kind": "image", "image": "images/ok.png"}, {"kind": "point", "x": 1, "y": 1}]}
    bot = write_bot(folder, "fallbacks", {"click": {"type": "desktop.click", "params": {"target": target}}},
                    chain("click"))
    result, log = run_bot(bot)
    assert result.state == "succeeded", result.error
    match = outputs(log, "click")["match"]
    assert match["fallback"] == 1 and match["kind"] == "image" and match["score"] >= 0.9
    assert abs(match["x"] - 348) <= 1 and abs(match["y"] - 218) <= 1
    assert any(m.startswith("fallback #1 matched: image images/ok.png score 0.9") or
               m.startswith("fallback #1 matched: image images/ok.png score 1.0") for m in messages(log)), messages(log)


def test_image_not_found_reports_best_score_and_keeps_a_screenshot(desktop, tmp_path):
    import cv2

    folder = tmp_path / "bot"
    (folder / "images").mkdir(parents=True)
    cv2.imwrite(str(folder / "images" / "ok.png"), cv2.cvtColor(reference_image(), cv2.COLOR_RGB2BGR))
    desktop.show_image(busy_screen(seed=5))
    bot = write_bot(folder, "missing", {"click": {"type": "desktop.click", "params": {
        "target": {"kind": "image", "image": "images/ok.png"}, "timeout": 0.3}}}, chain("click"))
    result, log = run_bot(bot)
    assert result.state == "failed"
    err = result.error
    assert err["kind"] == "not_found"
    assert err["message"].startswith("image not found")
    assert "best score 0." in err["message"] and "below the confidence 0.9" in err["message"]
    assert 0 <= err["details"]["best_score"] < 0.9
    shot = artifacts(log, "screenshot")[-1]
    assert shot.exists() and str(shot) in err["message"] and err["details"]["screenshot"] == str(shot)
    kept = cv2.imread(str(shot))
    assert kept.shape == (800, 1280, 3)


def test_find_image_takes_the_missing_port_and_a_missing_file_is_explained(desktop, tmp_path):
    folder = tmp_path / "bot"
    desktop.show_image(busy_screen(seed=9))
    import cv2

    (folder / "images").mkdir(parents=True)
    cv2.imwrite(str(folder / "images" / "ok.png"), cv2.cvtColor(reference_image(), cv2.COLOR_RGB2BGR))
    bot = write_bot(folder, "branch", {
        "find": {"type": "desktop.find_image", "params": {"target": {"kind": "image", "image": "images/ok.png"}}},
        "yes": {"type": "core.log", "params": {"message": "found"}},
        "no": {"type": "core.log", "params": {"message": "missing, best {{ nodes.find.score }}"}},
        # an expression: validation leaves it to the run (a written-out missing file is refused before it)
        "gone": {"type": "desktop.find_image", "params": {"target": {"kind": "image",
                                                                     "image": "{{ 'images/' ~ 'nope.png' }}"}}},
    }, [("start", "find"), ("find.found", "yes"), ("find.missing", "no"), ("no", "gone")])
    result, log = run_bot(bot)
    assert any(m.startswith("missing, best 0.") for m in messages(log)), messages(log)
    assert result.state == "failed"
    assert result.error["message"].startswith("image file not found:") and "nope.png" in result.error["message"]


def test_wait_image_vanish(desktop, tmp_path):
    import cv2

    folder = tmp_path / "bot"
    (folder / "images").mkdir(parents=True)
    ref = reference_image()
    cv2.imwrite(str(folder / "images" / "ok.png"), cv2.cvtColor(ref, cv2.COLOR_RGB2BGR))
    screen = busy_screen(seed=4)
    screen[100:136, 100:196] = ref
    desktop.show_image(screen)
    bot = write_bot(folder, "vanish", {"gone": {"type": "desktop.wait_image", "params": {
        "target": {"image": "images/ok.png"}, "state": "vanish", "timeout": 0.3}}}, chain("gone"))
    result, _ = run_bot(bot)
    assert result.state == "failed" and result.error["kind"] == "timeout"
    assert result.error["message"].startswith("image images/ok.png was still on the screen after 0.3 s")
    desktop.show_image(busy_screen(seed=4))
    result, _ = run_bot(bot)
    assert result.state == "succeeded", result.error
