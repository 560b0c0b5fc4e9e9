"""The gallery (offscreen): installed templates and samples with a picture of their flow; "new bot
from template" asks for the inputs and secret names, and the new bot opens and validates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from botloom.app.gallery import Gallery, NewFromTemplate, flow_picture
from botloom.runner.runtime import Runner
from botloom.runner.templates import gallery as model
from botloom.runner.templates import install as inst
from botloom.runner.templates.pack import pack

ROOT = Path(__file__).resolve().parents[2]


def _install(tmp_path: Path, home: Path, change=None) -> dict:
    folder = tmp_path / "src" / "csv-report"
    shutil.copytree(ROOT / "bots" / "csv-report", folder, ignore=shutil.ignore_patterns("out"))
    bot = folder / "csv-report.bot.json"
    if change:
        data = json.loads(bot.read_text())
        change(data)
        bot.write_text(json.dumps(data))
    runner = Runner(home)
    return inst.install(pack(bot, tmp_path, runner.registry, author="Ada"), home, runner.registry)


def test_the_gallery_makes_a_bot_from_an_installed_template_and_it_validates(win, qtbot, botloom_home, tmp_path):
    _install(tmp_path, botloom_home)
    gallery = win.gallery
    gallery.reload()
    kinds = {(e.name, e.kind) for e in gallery.entries}
    assert ("csv-report", "template") in kinds and ("csv-report", "sample") in kinds
    assert ("web-form-entry", "sample") in kinds
    assert gallery.entries[0].kind == "template" and gallery.list.currentRow() == 0
    assert "Ada" in gallery.about.text() and "not signed" in gallery.about.text()
    assert not gallery.picture.pixmap().isNull() and gallery.picture.pixmap().width() >= 400

    target = tmp_path / "mine" / "invoices"
    asked = []
    gallery.ask_new = lambda entry: asked.append(entry.name) or (str(target), {"min_confidence": 0.5}, {})
    made = gallery.new_from_selected()
    assert asked == ["csv-report"] and made == str(target / "csv-report.bot.json")
    assert win.doc is not None and win.doc.path == Path(made).resolve()  # opened in the window
    loaded = Runner(botloom_home).load_bot(made)  # validates against the installed node packs
    assert loaded.doc.main.inputs["min_confidence"].default == 0.5
    assert (target / "invoices.csv").is_file()
    assert Runner(botloom_home).start_run(made).state == "succeeded"  # the copy is the user's own bot


def test_new_from_template_asks_for_inputs_and_secret_names(qtbot, botloom_home, tmp_path, registry):
    def needs_more(data):
        data["secrets"] = {"erp_token": "API token of the ERP"}
        data["inputs"]["erp_url"] = {"type": "string", "required": True, "description": "Where the ERP is"}
        data["nodes"]["post"] = {"type": "http.request",
                                 "params": {"url": "{{ erp_url }}", "bearer_token": "erp_token"}}
        data["edges"].append({"from": "report.out", "to": "post.in"})

    _install(tmp_path, botloom_home, needs_more)
    [entry] = [e for e in model.entries(botloom_home) if e.kind == "template"]
    assert model.required_inputs(entry) == ["erp_url"]
    dialog = NewFromTemplate(entry)
    qtbot.addWidget(dialog)
    assert set(dialog.inputs) == {"erp_url", "invoices", "min_confidence", "out_dir", "review_over"}
    assert set(dialog.secrets) == {"erp_token"} and dialog.secrets["erp_token"].text() == "erp_token"
    dialog.folder.setText(str(tmp_path / "new"))
    dialog.inputs["erp_url"].setText("https://erp.example.com/api")
    dialog.inputs["review_over"].setText("2500")
    dialog.secrets["erp_token"].setText("acme_erp_token")
    folder, inputs, secrets = dialog.answer()
    assert inputs == {"erp_url": "https://erp.example.com/api", "review_over": 2500.0}
    bot = model.create(entry, folder, registry, inputs=inputs, secrets=secrets)
    doc = Runner(botloom_home).load_bot(bot).doc
    assert doc.secrets == {"acme_erp_token": "API token of the ERP"}
    assert doc.main.nodes["post"].params["bearer_token"] == "acme_erp_token"
    assert doc.main.inputs["erp_url"].default == "https://erp.example.com/api"

    gallery = Gallery(registry, botloom_home)
    qtbot.addWidget(gallery)
    gallery.ask_new = lambda e: (str(tmp_path / "other"), {}, {})  # the required input left out
    assert gallery.new_from_selected() is None
    assert "give a value for the input erp_url" in gallery.messages[-1]
    assert not (tmp_path / "other").exists()


def test_the_flow_picture_draws_even_unknown_node_types(qtbot, registry):
    picture = flow_picture(ROOT / "bots" / "mousepad-note" / "mousepad-note.bot.json", registry)
    image = picture.toImage()
    seen = {image.pixelColor(x, y).name() for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    assert len(seen) > 3  # background, nodes, their borders, text and edges: not a blank picture
