"""Accessibility selectors without a screen: parsing, rendering, matching, and the checks that
`botloom validate` makes of them before anything starts."""

from __future__ import annotations

import json

import pytest

from botloom.nodes.desktop import a11y


class Fake(a11y.Element):
    def __init__(self, role, name="", kids=(), showing=True, ident=""):
        self.role, self.name, self.automation_id, self._kids, self._showing = role, name, ident, list(kids), showing

    def children(self):
        return self._kids

    def states(self):
        return {"showing"} if self._showing else set()

    def box(self):
        return (0, 0, 10, 10)

    def text(self):
        return self.name


def window():
    seven = Fake("toggle button", "7")
    return Fake("frame", "calc", [
        Fake("panel", "keys", [Fake("toggle button", "1"), seven, Fake("push button", "OK", ident="ok-btn")]),
        Fake("panel", "more", [Fake("toggle button", "7", showing=False), Fake("text", "", []), Fake("text", "")]),
    ]), seven


@pytest.mark.parametrize("text, role, filters, nth", [
    ('toggle button[name="7"]', "toggle button", [("name", "=", "7")], None),
    ("button[name~=sav]:nth(1)", "button", [("name", "~=", "sav")], 1),
    ("edit[id='search'][class^=Gtk]", "edit", [("id", "=", "search"), ("class", "^=", "Gtk")], None),
    ('[name="a ] b"]', None, [("name", "=", "a ] b")], None),
])
def test_selector_text_is_parsed_into_steps(text, role, filters, nth):
    (step,) = a11y.parse(text)
    assert (step.role, step.filters, step.nth) == (role, filters, nth)


def test_a_path_of_steps_and_the_object_form_mean_the_same():
    steps = a11y.parse('panel[name="keys"] >> button:nth(1)')
    assert [s.role for s in steps] == ["panel", "button"] and steps[1].nth == 1
    obj = a11y.parse({"path": 'panel[name="keys"]', "role": "button", "index": 1})
    assert a11y.render(obj) == a11y.render(steps) == 'panel[name="keys"] >> button:nth(1)'


@pytest.mark.parametrize("bad, says", [
    ('button[name="x"', "unclosed"),
    ("button[colour=red]", "unknown selector key 'colour'"),
    ({"role": "button", "size": 3}, "unknown keys: size"),
    ("", "empty"),
    ({"index": 2}, "names no role"),
])
def test_malformed_selectors_say_what_is_wrong(bad, says):
    with pytest.raises(a11y.SelectorError) as err:
        a11y.parse(bad)
    assert says in err.value.message and err.value.fix


def test_roles_match_their_family_and_hidden_elements_only_when_asked():
    win, seven = window()
    assert a11y.find_all([win], a11y.parse('button[name="7"]')) == [seven]
    assert len(a11y.find_all([win], a11y.parse('button[name="7"][hidden=true]'))) == 2
    assert [e.name for e in a11y.find_all([win], a11y.parse("button"))] == ["1", "7", "OK"]
    assert a11y.find_all([win], a11y.parse('panel[name="more"] >> edit:nth(1)'))[0] is win._kids[1]._kids[2]
    assert a11y.find_all([win], a11y.parse('button[id="ok-btn"]'))[0].name == "OK"


def test_the_best_selector_finds_exactly_its_element():
    win, _ = window()
    seen = a11y.snapshot(win)
    for i, s in enumerate(seen):
        sel = a11y.best_selector(i, seen)
        assert a11y.find_all([win], a11y.parse(sel)) == [s.el], (sel, s.role, s.name)
    texts = [a11y.best_selector(i, seen) for i, s in enumerate(seen)]
    assert 'toggle button[name="7"]' in texts and 'push button[id="ok-btn"]' in texts


def test_validate_reports_bad_selectors_and_bad_element_targets(tmp_path, cli):
    bot = {"format": 1, "name": "sel", "nodes": {
        "start": {"type": "core.start"},
        "a": {"type": "desktop.element_click", "params": {"selector": 'button[name="Save"'}},
        "b": {"type": "desktop.click", "params": {"target": {"kind": "element", "selector": "button[size=2]"}}}},
        "edges": [{"from": "start.out", "to": "a.in"}, {"from": "a.out", "to": "b.in"}]}
    path = tmp_path / "sel.bot.json"
    path.write_text(json.dumps(bot), encoding="utf-8")
    out = cli("validate", path)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "unclosed bracket" in text and "unknown selector key 'size'" in text
    assert "Traceback" not in text
