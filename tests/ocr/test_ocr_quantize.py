"""The default engine's int8 recogniser (made once per machine) and its detector input."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from botloom.nodes.ocr import quantize
from botloom.nodes.ocr.rapid import RapidOcrEngine, _DetectorInput
from botloom.nodes.ocr.documents import load_image
from botloom.runner.errors import NodeError


def test_the_default_engine_uses_the_int8_recogniser_on_the_cpu(rapid):
    assert rapid.precision == "int8"
    assert "int8 recogniser" in rapid.describe()
    assert ".int8-" in rapid._ocr.cfg.Rec.model_path


def test_int8_and_fp32_read_the_invoice_alike(docs, rapid):
    fp32 = RapidOcrEngine(threads=2, precision="fp32")
    assert fp32.precision == "fp32" and ".int8-" not in fp32._ocr.cfg.Rec.model_path
    image = load_image(docs["invoice-en.png"])
    assert [ln.text for ln in rapid.read(image).lines] == [ln.text for ln in fp32.read(image).lines]


def test_the_copy_is_made_once_reused_and_made_again_when_damaged(tmp_path, monkeypatch):
    import rapidocr

    path = Path(rapidocr.__file__).parent / "models" / RapidOcrEngine.MODELS["Rec"][0]
    made = []
    real = quantize._quantize
    monkeypatch.setattr(quantize, "_quantize", lambda *a: (made.append(a[1]), real(*a)))
    first = quantize.int8_recogniser(path, "ab" * 32, 160, str(tmp_path))
    assert first is not None and first.parent == tmp_path and len(made) == 1
    assert quantize.int8_recogniser(path, "ab" * 32, 160, str(tmp_path)) == first and len(made) == 1

    with open(first, "r+b") as f:  # damage the copy: its checksum no longer matches
        f.seek(1000)
        f.write(b"\0" * 64)
    again = quantize.int8_recogniser(path, "ab" * 32, 160, str(tmp_path))
    assert again == first and len(made) == 2
    assert (tmp_path / (first.name + ".sha256")).read_text().strip() == quantize.sha256_file(first)
    # another source model (another checksum) gets its own copy
    other = quantize.int8_recogniser(path, "cd" * 32, 160, str(tmp_path))
    assert other != first and len(made) == 3


def test_when_the_copy_cannot_be_made_the_engine_keeps_the_32_bit_model(tmp_path, monkeypatch, caplog):
    def broken(*_):
        raise RuntimeError("quantiser exploded")

    monkeypatch.setattr(quantize, "_quantize", broken)
    with caplog.at_level(logging.WARNING, logger="botloom.ocr"):
        engine = RapidOcrEngine(threads=1, cache_dir=str(tmp_path / "fresh"))
    assert engine.precision == "fp32" and ".int8-" not in engine._ocr.cfg.Rec.model_path
    assert "quantiser exploded" in caplog.text and "32-bit" in caplog.text


def test_an_unknown_precision_is_a_clear_error():
    with pytest.raises(NodeError) as info:
        RapidOcrEngine(precision="int4")
    assert "int4" in info.value.message and "fp32" in info.value.fix


@pytest.mark.parametrize("shape, expected", [
    ((1754, 1240), (1280, 896)),   # an A4 page at 150 dpi: longer side down to 1280
    ((800, 1280), (800, 1280)),    # a screen: as it is
    ((933, 461), (928, 448)),      # a receipt: not enlarged (rapidocr's own rule made it 1490x736)
    ((40, 300), (64, 480)),        # a thin strip: its shorter side up to 64
    ((3508, 2480), (1280, 896)),   # A4 at 300 dpi
])
def test_detector_input_sizes(shape, expected):
    prepare = _DetectorInput(1280, [0.5] * 3, [0.5] * 3)
    x = prepare(np.full((*shape, 3), 255, dtype=np.uint8))
    assert x.shape == (1, 3, *expected) and x.dtype == np.float32
    assert np.allclose(x, 1.0)  # white is 1 after (x/255 - 0.5) / 0.5


def test_small_print_of_a_200_dpi_scan_keeps_its_lone_quantity_digits(rapid):
    """invoice2data's Coolblue and QualityHosting invoices, rendered at 200 dpi and OCR'd: their
    quantity columns hold lone "1"s, which detection at 1280 pixels alone lost (at least 20 of
    21 quantities are found: 20 with rapidocr's batches of six lines, 21 with three)."""
    from botloom.nodes.ocr.evaluate import discover, run_extract
    from ocr_docs import shared_data

    folder = shared_data("invoice2data")
    docs = [d for d in discover(folder) if d.name in ("coolblue1", "coolblue2", "QualityHosting")]
    result = run_extract(docs, "rapidocr", {"threads": 2}, mode="ocr", log=lambda *_: None)
    found, total = map(int, result["line_items"]["counts"]["quantity"].split("/"))
    assert total == 21 and found >= 20


def test_the_copy_scores_only_the_alphabetic_characters_unless_told_all():
    import onnx
    import rapidocr

    path = Path(rapidocr.__file__).parent / "models" / RapidOcrEngine.MODELS["Rec"][0]
    model = onnx.load(str(path))
    characters = {p.key: p.value for p in model.metadata_props}["character"].splitlines()
    keep = quantize.keep_classes(characters, "alphabetic")
    assert quantize.keep_classes(characters, "all") is None
    assert keep[0] == 0 and keep[-1] == len(characters) + 1  # the blank and the space stay
    derived = quantize.derive(model, "alphabetic")
    kept = {p.key: p.value for p in derived.metadata_props}["character"].splitlines()
    assert len(kept) == len(keep) - 2 < len(characters) / 5
    assert {"€", "ü", "ß", "é", "ł", "5", "@", "α"} <= set(kept) and not {"中", "あ", "한"} & set(kept)
    weights = {i.name: tuple(i.dims) for i in derived.graph.initializer}
    assert sum(1 for dims in weights.values() if dims and dims[-1] == len(keep)) == 2  # the MatMul and its bias
    assert derived.graph.output[0].type.tensor_type.shape.dim[2].dim_value == len(keep)


def test_an_unknown_character_set_is_refused_clearly():
    with pytest.raises(NodeError) as err:
        RapidOcrEngine(threads=1, characters="klingon")
    assert "alphabetic" in err.value.fix and "settings.ocr.characters" in err.value.fix
