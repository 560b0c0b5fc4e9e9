"""Label-based form filling: a form whose fields move, get new ids and other labels on every load."""

from __future__ import annotations

import random

from bots import chain, finished, make, run
from browser_site import moving_form

from botloom.nodes.browser.forms import compact, match_fields, normalise, truthy

START = {"type": "core.start"}

PEOPLE = [
    {"Full name": "Ann Lee", "E-mail": "ann@example.com", "Country": "France", "Newsletter": "yes",
     "Plan": "Pro", "Comments": "first", "Start date": "2026-01-02"},
    {"full_name": "Bo Ek", "email": "bo@example.com", "country": "germany", "newsletter": False,
     "plan": "basic", "comments": "", "start_date": "2026-02-03T00:00:00"},
    {"FULL NAME": "Cy Dee", "Email": "cy@example.com", "Country:": "United Kingdom", "Newsletter": 1,
     "Plan": "Basic", "Comments": "third one", "Start date": "2026-03-04"},
]
EXPECTED = [
    {"full_name": "Ann Lee", "email": "ann@example.com", "country": "FR", "newsletter": "on", "plan": "pro",
     "comments": "first", "start_date": "2026-01-02"},
    {"full_name": "Bo Ek", "email": "bo@example.com", "country": "GE", "plan": "basic", "comments": "",
     "start_date": "2026-02-03"},
    {"full_name": "Cy Dee", "email": "cy@example.com", "country": "UN", "newsletter": "on", "plan": "basic",
     "comments": "third one", "start_date": "2026-03-04"},
]


def form_bot(url: str, fill_params: dict | None = None):
    nodes = {"start": START,
             "each": {"type": "core.for_each", "params": {"items": "{{ people }}", "item_var": "person"}},
             "open": {"type": "browser.goto", "params": {"url": url}},
             "fill": {"type": "browser.fill_form", "params": {"record": "{{ person }}", **(fill_params or {})}},
             "send": {"type": "browser.click", "params": {"target": 'role=button[name="Send"]'}},
             "result": {"type": "browser.get_text", "params": {"target": "#result"}},
             "keep": {"type": "core.set_variable", "params": {"name": "results",
                                                              "value": "{{ results + [nodes.result.text] }}"}}}
    return make(nodes, [("start", "each"), ("each.body", "open")] + chain("open", "fill", "send", "result", "keep"),
                inputs={"people": {"type": "table"}}, variables={"results": {"type": "list", "default": []}},
                outputs={"results": {"type": "list"}})


def test_a_form_that_changes_on_every_load_is_filled_by_its_labels(site):
    first = random.Random(site.loads + 1), random.Random(site.loads + 2)
    assert moving_form(first[0]) != moving_form(first[1])  # the page really differs between loads
    before = len(site.submissions)
    result, log = run(form_bot(site.url + "/form"), {"people": PEOPLE})
    assert result.state == "succeeded", result.error
    assert len(result.outputs["results"]) == 3 and all(r.startswith("Saved #") for r in result.outputs["results"])
    assert site.submissions[before:] == EXPECTED
    fills = [e.outputs for e in finished(log, "fill")]
    assert all(len(f["filled"]) == 7 and f["unmatched"] == [] for f in fills)


def test_a_column_without_a_field_is_reported_with_did_you_mean(site):
    people = [{"Full name": "Ann", "Emial": "a@b.example", "Phone": "123"}]
    result, log = run(form_bot(site.url + "/form"), {"people": people})
    assert result.state == "failed"
    err = result.error
    assert err["kind"] == "not_found"
    assert err["message"].startswith("2 column(s) match no field of the form: 'Emial' (did you mean '")
    assert "'Phone' (no similar label)" in err["message"]
    suggestion = err["details"]["unmatched"][0]["suggestion"]
    assert compact(suggestion) == "email"
    assert "rename the column" in err["fix"]
    assert [a.artifact_kind for a in log.of("artifact")][:1] == ["screenshot"]


def test_unmatched_columns_can_be_skipped_mapped_or_ignored(site):
    people = [{"Name": "Ann", "Mail": "a@b.example", "Phone": "123", "row": 7}]
    params = {"labels": {"Name": ["Name", "Full name"], "Mail": "E-mail"}, "ignore": ["row"], "unmatched": "skip"}
    before = len(site.submissions)
    result, log = run(form_bot(site.url + "/form", params), {"people": people})
    assert result.state == "succeeded", result.error
    out = finished(log, "fill")[-1].outputs
    assert out["filled"] == ["Name", "Mail"]
    assert out["unmatched"] == [{"column": "Phone", "suggestion": None}]
    assert site.submissions[before]["full_name"] == "Ann" and site.submissions[before]["email"] == "a@b.example"


def test_a_value_that_fits_no_option_says_which_options_there_are(site):
    people = [{"Country": "Frnace", "Plan": "Gold"}]
    result, _ = run(form_bot(site.url + "/form"), {"people": people})
    assert result.state == "failed"
    err = result.error
    assert err["kind"] == "bad_input"
    assert "'Country' (field '" in err["message"] and "'Frnace' is not one of its options (did you mean 'France'?)" \
           in err["message"]
    assert "'Gold' is not one of its choices (Basic, Pro)" in err["message"]


# ---------------------------------------------------------------- matching rules, without a browser
def field(fid, kind="text", labels=(), names=(), visible=True):
    return {"id": fid, "kind": kind, "labels": list(labels), "names": list(names), "visible": visible}


def test_labels_are_compared_without_case_accents_punctuation_or_markers():
    assert normalise("  E-Mail Address *: ") == "e mail address"
    assert compact("Rue (optional)") == compact("rue") == "rue"
    assert compact("Prénom") == compact("prenom")
    fields = [field("a", labels=["E-Mail *"]), field("b", labels=["Prénom:"]), field("c", names=["zip_code"]),
              field("d", labels=["Phone number"])]
    matched, missing = match_fields(["email", "prenom", "Zip code", "phone"], fields, {})
    assert {k: v["id"] for k, v in matched.items()} == {"email": "a", "prenom": "b", "Zip code": "c", "phone": "d"}
    assert missing == []


def test_two_fields_with_one_label_are_not_guessed_between():
    fields = [field("a", labels=["Name"]), field("b", labels=["Name"]), field("c", labels=["Name"], visible=False)]
    matched, missing = match_fields(["name"], fields, {})
    assert matched == {} and missing[0]["ambiguous"] is True
    one_visible = [field("a", labels=["Name"]), field("b", labels=["Name"], visible=False)]
    matched, _ = match_fields(["name"], one_visible, {})
    assert matched["name"]["id"] == "a"


def test_yes_and_no_spellings():
    assert [truthy(v) for v in (True, "Yes", "x", 1, "on", "ja")] == [True] * 6
    assert [truthy(v) for v in (False, "no", "", 0, None, "off")] == [False] * 6
