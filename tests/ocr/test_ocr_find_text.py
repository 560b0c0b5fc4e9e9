"""Finding a text on a screen: the quick look for labels (``screen_labels.py``), the detector's
staged reading, and how matches are ranked. Screens are rendered here with the DejaVu fonts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from botloom.nodes.ocr.api import search_text, text_stages
from botloom.nodes.ocr.screen_labels import label_boxes, line_boxes, misfit

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def font(name: str, px: int):
    from PIL import ImageFont

    path = DEJAVU / name
    if not path.exists():
        pytest.skip(f"{path} is not installed (apt-get install fonts-dejavu-core)")
    return ImageFont.truetype(str(path), px)


def screen(items, size=(1280, 800), background=(242, 242, 242)):
    """``items``: (text, x, y, px[, font file, colour]) drawn on a flat background."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(img)
    for text, x, y, px, *rest in items:
        face = rest[0] if rest else "DejaVuSans.ttf"
        colour = rest[1] if len(rest) > 1 else (20, 20, 20)
        draw.text((x, y), text, fill=colour, font=font(face, px))
    return np.asarray(img)


@pytest.fixture
def detector_runs(rapid, monkeypatch):
    """How many times a search went on to the detector (``read_staged``)."""
    calls = []
    original = rapid.read_staged

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(rapid, "read_staged", counting)
    return calls


@pytest.mark.parametrize("face", ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSans-Bold.ttf",
                                  "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf"])
@pytest.mark.parametrize("px", [12, 14, 18])
def test_a_label_fits_its_own_words_and_not_others(face, px):
    image = screen([("Save changes", 100, 100, px, face), ("Payment terms", 100, 200, px, face),
                    ("Reminders", 100, 300, px, face)], size=(500, 400))
    import cv2

    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    save, payment, reminders = sorted(line_boxes(gray), key=lambda b: b[1])
    assert misfit(gray, save, ["Save", "changes"]) is not None
    assert misfit(gray, payment, ["Payment", "terms"]) is not None
    assert misfit(gray, reminders, ["Reminders"]) is not None
    assert misfit(gray, save, ["Reminders"]) is None  # two words are not one
    assert misfit(gray, payment, ["Save", "changes"]) is None  # 7 + 5 characters are not 4 + 7


def test_rules_and_field_borders_are_not_text():
    import cv2

    image = screen([("Customer name", 40, 44, 13)], size=(700, 120))
    image = image.copy()
    cv2.rectangle(image, (180, 38), (600, 66), (150, 150, 150), 1)  # an empty input field
    cv2.line(image, (0, 100), (700, 100), (120, 120, 120), 1)  # a rule
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    boxes = line_boxes(gray)
    assert len(boxes) == 1 and boxes[0][0] < 60 and boxes[0][2] < 140, boxes
    assert len(label_boxes(gray, "Customer name")) == 1


def test_a_label_is_found_without_the_detector(rapid, detector_runs):
    image = screen([("File", 20, 8, 14), ("Edit", 90, 8, 14), ("Customer 07   Invoice INV-1007   Amount 122.50",
                                                                 40, 120, 14),
                    ("Cancel", 900, 700, 14), ("Save changes", 1040, 700, 14)])
    matches, result = search_text(image, "save changes", engine=rapid)
    assert detector_runs == []
    assert matches[0].line == "Save changes" and matches[0].confidence > 0.9
    x, y, w, h = matches[0].box
    assert abs(x - 1040) < 10 and abs(y - 700) < 10 and 80 < w < 130
    assert [ln.text for ln in result.lines] == ["Save changes"]  # one line read, nothing else


def test_the_same_label_twice_gives_both_top_first(rapid, detector_runs):
    image = screen([("Approve", 300, 500, 16), ("Approve", 300, 200, 16), ("Reject", 500, 200, 16)])
    matches, _ = search_text(image, "Approve", engine=rapid)
    assert detector_runs == []
    assert [abs(m.box[1] - y) < 10 for m, y in zip(matches, (200, 500))] == [True, True]


def test_light_text_on_a_dark_bar_is_found_quickly(rapid, detector_runs):
    image = screen([("Acme Billing - Invoices", 12, 8, 13, "DejaVuSans.ttf", (255, 255, 255))],
                   size=(600, 200), background=(40, 70, 120))
    matches, _ = search_text(image, "Acme Billing - Invoices", engine=rapid)
    assert detector_runs == [] and matches and matches[0].confidence > 0.9


def test_a_text_inside_a_longer_line_of_a_flat_screen_is_read_without_the_detector(rapid, detector_runs):
    image = screen([("Menu", 20, 8, 14), ("Please save changes before closing", 40, 150, 16)], size=(900, 300))
    matches, result = search_text(image, "save changes", engine=rapid)
    assert detector_runs == []
    assert matches and matches[0].line == "Please save changes before closing"
    x, _, w, _ = matches[0].box
    assert 90 < x < 160 and w < 150  # narrowed to the two words inside the line
    assert "Menu" not in [ln.text for ln in result.lines]  # too short to hold the text: never read


def test_an_absent_text_on_a_flat_screen_is_answered_without_the_detector(rapid, detector_runs):
    image = screen([("Menu", 20, 8, 14), ("Please save changes before closing", 40, 150, 16),
                    ("Customer 07   Invoice INV-1007   Amount 122.50", 40, 200, 14)], size=(900, 300))
    matches, result = search_text(image, "Delete forever", engine=rapid)
    assert matches == [] and detector_runs == []
    assert "Please save changes before closing" in [ln.text for ln in result.lines]  # every wide line was read


def test_a_screen_with_a_picture_goes_to_the_detector(rapid, detector_runs):
    """Ink outside every line box (a photo) means the line boxes may have missed text: the
    detector decides, and the text is still found."""
    image = screen([("Menu", 20, 8, 14), ("Please save changes before closing", 40, 150, 16)], size=(900, 300))
    image = image.copy()
    image[40:140, 600:860] = np.random.default_rng(1).integers(0, 255, (100, 260, 3), dtype=np.uint8)
    from botloom.nodes.ocr.screen_labels import screen_lines
    import cv2

    assert screen_lines(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))[1] > 0.01
    matches, _ = search_text(image, "save changes", engine=rapid)
    assert detector_runs == [1]
    assert matches and matches[0].line == "Please save changes before closing"


def test_faint_text_beside_dark_text_is_found(rapid):
    """A light grey placeholder whose edges are fainter than the screen's usual ones: either the
    line boxes hold it or the faint ink they leave out sends the search to the detector."""
    image = screen([("Customer name", 40, 40, 14), ("Payment terms", 40, 80, 14),
                    ("Search invoices by number", 300, 40, 14, "DejaVuSans.ttf", (200, 200, 200))],
                   size=(700, 140), background=(255, 255, 255))
    matches, _ = search_text(image, "invoices by", engine=rapid)
    assert matches and matches[0].line == "Search invoices by number"
    assert search_text(image, "Delete forever", engine=rapid)[0] == []


def test_a_screen_is_read_alike_squeezed_and_in_parallel(rapid):
    """Screen lines read squeezed across (find-text) say what they say read in full; batches
    run side by side come back in their lines' order."""
    from botloom.nodes.ocr.api import _loose
    from botloom.nodes.ocr.screen_labels import line_boxes
    import cv2

    texts = ["Customer 07 Invoice INV-1007", "Payment terms 30 days net", "Hauptstraße 5, 80331 München",
             "Reminders", "anna.berger@example.de", "Total 1,234.56 EUR", "Save changes", "Export to CSV"]
    image = screen([(t, 40, 20 + 34 * i, 13 + i % 3) for i, t in enumerate(texts)], size=(700, 300))
    boxes = sorted(line_boxes(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)), key=lambda b: b[1])
    padded = [(x - 4, y - 4, w + 8, h + 8) for x, y, w, h in boxes]
    recogniser = rapid._ocr._load_rec_model()
    full = [_loose(ln.text) for ln in rapid.recognise(image, padded)]
    squeezed = [_loose(ln.text) for ln in rapid.recognise(image, padded, squeeze=True)]
    pool, recogniser.pool = recogniser.pool, None
    try:
        one_by_one = [_loose(ln.text) for ln in rapid.recognise(image, padded)]
    finally:
        recogniser.pool = pool
    assert full == [_loose(t) for t in texts]
    assert squeezed == full and one_by_one == full
    assert recogniser.squeezing is False  # only while a screen is read


def test_stage_one_answers_without_reading_the_longer_lines(rapid):
    """With the quick look out of the way, the detector's first stage (boxes the size of the
    text alone) finds the label and the long lines are not read."""
    image = screen([("Customer 07   Invoice INV-1007   Amount 122.50", 40, 100 + 40 * i, 15) for i in range(5)]
                   + [("Save changes", 1040, 700, 15)])
    from botloom.nodes.ocr.api import _loose, match_lines

    def enough(result):
        return any(_loose(m.line) == "savechanges" for m in match_lines(result.lines, "Save changes"))

    result = rapid.read_staged(image, text_stages("Save changes"), enough)
    assert [ln.text for ln in result.lines] == ["Save changes"]
    everything = rapid.read_staged(image, text_stages("Save changes"), lambda result: False)
    assert len(everything.lines) == 6
    detector = rapid._detector
    assert detector.select is None and detector.replay is None and detector.last is None  # reads whole again
    assert len(rapid.read(image).lines) == 6


def test_lines_too_narrow_to_hold_the_text_are_never_read(rapid):
    image = screen([("File", 20, 10, 18), ("Edit", 100, 10, 18), ("View", 180, 10, 18),
                    ("Please save changes before closing", 20, 150, 18)], size=(900, 300))
    assert {"File", "Edit", "View"} <= {ln.text for ln in rapid.read(image).lines}
    result = rapid.read_staged(image, text_stages("save changes"), lambda result: False)
    assert [ln.text for ln in result.lines] == ["Please save changes before closing"]
    assert rapid.read_staged(image, text_stages("x" * 80), lambda result: False).lines == []


def test_an_absent_text_on_a_screen_with_a_picture_reads_everything_and_finds_nothing(rapid, detector_runs):
    image = screen([("Save changes", 1040, 700, 14), ("Cancel", 900, 700, 14)]).copy()
    image[100:300, 100:400] = np.random.default_rng(2).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    matches, result = search_text(image, "Delete forever", engine=rapid)
    assert matches == [] and detector_runs == [1]


def test_the_text_as_a_whole_line_ranks_before_the_text_inside_another(rapid):
    from botloom.nodes.ocr.api import match_lines
    from botloom.nodes.ocr.engines import Line, split_words

    lines = [Line(text, (100, y, 120, 20), conf, split_words(text, (100, y, 120, 20), conf))
             for text, y, conf in [("Subtotal", 100, 0.99), ("Total", 200, 0.90)]]
    assert [m.line for m in match_lines(lines, "total")] == ["Total", "Subtotal"]
    image = screen([("Subtotal", 100, 100, 18), ("Total", 100, 200, 18)], size=(600, 300))
    matches, _ = search_text(image, "total", engine=rapid)
    assert matches[0].line == "Total" and abs(matches[0].box[1] - 200) < 10


def test_engines_without_a_detector_stage_read_everything(docs):
    from botloom.nodes.ocr.engines import OcrEngine, OcrResult

    class Whole(OcrEngine):
        name = "whole"

        def _read(self, image):
            from botloom.nodes.ocr.engines import Line, split_words

            return [Line("Save changes", (10, 10, 100, 20), 0.99, split_words("Save changes", (10, 10, 100, 20), 0.99))]

    matches, result = search_text(np.zeros((50, 200, 3), np.uint8), "save changes", engine=Whole())
    assert isinstance(result, OcrResult) and matches[0].box[0] == 10


def test_easyocr_finds_a_label_by_the_quick_look_and_a_longer_line_without_its_detector(monkeypatch):
    from botloom.nodes.ocr import engines
    from botloom.runner.errors import MissingDependencyError

    try:
        engine = engines.get_engine("easyocr")
    except MissingDependencyError as exc:
        pytest.skip(f"easyocr is not installed here: {exc.message} (installer/setup.d/ocr.sh installs it)")
    calls = []
    original = engine.read_staged
    monkeypatch.setattr(engine, "read_staged", lambda *a, **k: calls.append(1) or original(*a, **k))
    image = screen([("Menu", 20, 8, 16), ("Please save changes before closing", 40, 80, 16),
                    ("Save changes", 420, 150, 16)], size=(700, 200))
    matches, _ = search_text(image, "Save changes", engine=engine)
    assert calls == [] and abs(matches[0].box[0] - 420) < 12
    matches, result = search_text(image, "changes before", engine=engine)
    assert calls == [] and matches[0].line == "Please save changes before closing"  # a flat screen
    assert "Menu" not in [ln.text for ln in result.lines]


def test_a_repeated_search_reads_an_unchanged_image_once():
    from botloom.nodes.ocr.api import TextSearch
    from botloom.nodes.ocr.engines import Line, OcrEngine, split_words

    class Counting(OcrEngine):
        name = "counting"
        reads = 0

        def _read(self, image):
            Counting.reads += 1
            text = "Saved" if image[0, 0, 0] else "Working"
            return [Line(text, (10, 10, 60, 20), 0.99, split_words(text, (10, 10, 60, 20), 0.99))]

    search = TextSearch("Saved", engine=Counting())
    waiting = np.zeros((40, 100, 3), np.uint8)
    assert search(waiting)[0] == [] and search(waiting.copy())[0] == [] and Counting.reads == 1
    done = waiting.copy()
    done[0, 0, 0] = 255  # one pixel changed: read again
    assert search(done)[0][0].line == "Saved" and Counting.reads == 2


def test_the_find_text_node_waiting_on_an_unchanged_image_reads_it_once(tmp_path, monkeypatch):
    from PIL import Image
    from botloom.nodes.ocr.rapid import RapidOcrEngine
    from nodes_helpers import run_node

    path = tmp_path / "screen.png"
    Image.fromarray(screen([("Working", 100, 100, 16)], size=(400, 200))).save(path)
    reads = []
    recognise = RapidOcrEngine.recognise
    monkeypatch.setattr(RapidOcrEngine, "recognise", lambda self, *a, **k: reads.append(1) or recognise(self, *a, **k))
    result, out = run_node("ocr.find_text", {"text": "Saved", "path": str(path), "timeout": 1.2})
    assert result.state == "succeeded", result.error
    looks, reads[:] = len(reads), []
    from botloom.nodes.ocr.api import search_text as once
    from botloom.nodes.ocr.engines import get_engine

    once(np.asarray(Image.open(path).convert("RGB")), "Saved", engine=get_engine("rapidocr"))
    assert out["found"] is False and looks == len(reads) > 0  # three looks, the reading of one


def test_a_label_after_an_icon_is_found_by_the_quick_look(rapid, detector_runs):
    import cv2

    image = screen([("Run tests", 44, 100, 14), ("Stop", 44, 160, 14)], size=(400, 220)).copy()
    cv2.rectangle(image, (22, 101), (35, 114), (40, 160, 60), -1)  # a filled icon left of each label
    cv2.rectangle(image, (22, 161), (35, 174), (200, 50, 50), -1)
    matches, _ = search_text(image, "Run tests", engine=rapid)
    assert detector_runs == [] and abs(matches[0].box[0] - 44) < 12  # the box starts at the text


def test_rows_of_a_dense_list_are_told_apart(rapid, detector_runs):
    rows = ["Classify text", "Record correction", "Run ONNX model", "Train text classifier", "Fill form"]
    image = screen([(text, 30, 100 + 14 * i, 13) for i, text in enumerate(rows)], size=(400, 220))
    for i, text in enumerate(rows):
        matches, _ = search_text(image, text, engine=rapid)
        assert matches and matches[0].line == text and abs(matches[0].center[1] - (107 + 14 * i)) <= 7, text
        assert detector_runs == [], text
