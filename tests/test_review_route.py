"""review.route: only the chosen fields' confidences count; rules, the vendor master and
duplicate references add reasons; and the review figures counted from real runs."""

from __future__ import annotations

import pytest

from bots import write_bot
from botloom.runner.runtime import Runner
from botloom.runner.store import tasks as store_tasks
from botloom.runner.tasks import complete_task, figures


def invoice(total="148.51", total_conf=0.95, vendor="Acme Office Supplies GmbH", number="INV-1", **low):
    fields = {"total": {"value": total, "confidence": total_conf, "box": [700, 760, 300, 30], "page": 1},
              "vendor": {"value": vendor, "confidence": 0.9},
              "invoice_number": {"value": number, "confidence": 0.99},
              "due_date": {"value": "2024-04-14", "confidence": 0.2}}  # a field nobody asked for, doubtful
    for name, conf in low.items():
        fields[name]["confidence"] = conf
    return fields


@pytest.fixture
def route_bot(work):
    (work / "vendors.csv").write_text("name,id\nAcme Office Supplies GmbH,1\nMuster Handel GmbH,2\n")

    def make(review_node: bool = False, **params):
        route = {"fields": "{{ fields }}", "check": ["total", "vendor"], "rules": ["total > 5000"],
                 "vendor_master": "vendors.csv", "reference_field": "invoice_number", **params}
        nodes = {"start": {"type": "core.start"},
                 "route": {"type": "review.route", "params": route},
                 "to_review": {"type": "core.set_variable", "params": {"name": "way", "value": "review"}},
                 "straight": {"type": "core.set_variable", "params": {"name": "way", "value": "straight"}},
                 "reasons": {"type": "core.set_variable", "params": {"name": "reasons",
                                                                     "value": "{{ nodes.route.reasons }}"}}}
        edges = [("start.out", "route.in"), ("route.review", "to_review.in"), ("route.straight", "straight.in"),
                 ("to_review.out", "reasons.in"), ("straight.out", "reasons.in")]
        if review_node:
            nodes["task"] = {"type": "review.task", "params": {"title": "check", "fields": "{{ nodes.route.fields }}"}}
            edges[3] = ("to_review.out", "task.in")
            edges.append(("task.out", "reasons.in"))
        return write_bot(work, "ap", nodes, edges, inputs={"fields": {"type": "object"}},
                         variables={"way": {"type": "string", "default": ""}, "reasons": {"type": "list", "default": []}},
                         outputs={"way": {"type": "string"}, "reasons": {"type": "list"}})
    return make


def routed(runner, bot, fields):
    result = runner.start_run(bot, {"fields": fields})
    assert result.state == "succeeded", result.error
    return result.outputs["way"], result.outputs["reasons"]


def test_a_clear_invoice_goes_straight_through_whatever_the_fields_nobody_chose(route_bot):
    way, reasons = routed(Runner(), route_bot(), invoice())
    assert (way, reasons) == ("straight", [])


@pytest.mark.parametrize("fields, reason", [
    (invoice(total_conf=0.5), "total confidence 0.50 is below 0.70"),
    (invoice(total="7200.00"), "total > 5000 (total is 7200.00)"),
    (invoice(vendor="Unknown Trading Ltd"), "vendor 'Unknown Trading Ltd' is not in the vendor master"),
    (invoice(total=None), "total was not found"),
])
def test_a_doubtful_invoice_goes_to_review_with_the_reason(route_bot, fields, reason):
    way, reasons = routed(Runner(), route_bot(), fields)
    assert way == "review" and reasons == [reason]


def test_per_field_thresholds_and_rule_objects(route_bot):
    bot = route_bot(thresholds={"total": 0.99}, rules=[{"when": "{{ fields.vendor.value == 'Acme Office Supplies GmbH' }}",
                                                         "reason": "Acme is on hold"}])
    way, reasons = routed(Runner(), bot, invoice())
    assert way == "review" and reasons == ["total confidence 0.95 is below 0.99", "Acme is on hold"]


def test_a_duplicate_invoice_number_from_an_earlier_run_is_caught(route_bot):
    runner, bot = Runner(), route_bot()
    assert routed(runner, bot, invoice(number="INV-7")) == ("straight", [])
    way, reasons = routed(runner, bot, invoice(number="INV-7"))
    assert way == "review" and len(reasons) == 1 and reasons[0].startswith("duplicate invoice_number 'INV-7': seen on")
    assert routed(runner, bot, invoice(number="INV-8")) == ("straight", [])


@pytest.mark.parametrize("params, why", [
    ({"rules": ["total >>> 3"]}, "cannot read the rule 'total >>> 3'"),
    ({"rules": ["amount > 3"]}, "names the field 'amount', which the item does not have"),
    ({"vendor_master": "missing.csv"}, "vendor master not found"),
    ({"vendor_column": "vendor"}, "has no column 'vendor'"),
])
def test_a_wrong_rule_or_master_is_a_clear_error(route_bot, params, why):
    result = Runner().start_run(route_bot(**params), {"fields": invoice()})
    assert result.state == "failed" and why in result.error["message"] + (result.error.get("where") or "")
    assert "route" in result.error["where"]


def test_figures_count_straight_through_interventions_and_turnaround(route_bot):
    runner, bot = Runner(), route_bot(review_node=True)
    for n in range(3):
        assert runner.start_run(bot, {"fields": invoice(number=f"S-{n}")}).state == "succeeded"
    waiting = [runner.start_run(bot, {"fields": invoice(number=f"R-{n}", total_conf=0.3)}) for n in range(2)]
    assert [r.state for r in waiting] == ["suspended", "suspended"]
    store = runner.store()
    try:
        open_tasks = store_tasks.find(store.conn, bot="ap")
        before = figures(store.conn)["ap"]
    finally:
        store.close()
    assert len(open_tasks) == 2
    assert (before["routed"], before["straight"], before["to_review"], before["open"]) == (5, 3, 2, 2)
    assert before["straight_through_rate"] == 0.6 and before["intervention_rate"] == 0.0
    assert before["turnaround"]["median"] is None
    task, result = complete_task(runner, open_tasks[0]["id"], "approve", {"total": "149.00"}, by="maria")
    assert result.state == "succeeded" and task["values"]["total"] == "149.00"  # the field's type: text
    changes = {c["field"]: c for c in store_tasks.corrections(task)}
    assert changes["total"] == {"field": "total", "type": "string", "original": "148.51", "corrected": "149.00",
                                "confidence": 0.3, "changed": True}
    assert changes["vendor"]["changed"] is False and "due_date" in changes
    assert store_tasks.corrections(open_tasks[1]) == []  # still open: nothing to learn from yet
    store = runner.store()
    try:
        after = figures(store.conn)["ap"]
        other = figures(store.conn, bot="nobody")
    finally:
        store.close()
    assert (after["completed"], after["by_person"], after["open"]) == (1, 1, 1)
    assert after["intervention_rate"] == 0.2 and after["turnaround"]["median"] >= 0
    assert other == {}
    from prometheus_client.parser import text_string_to_metric_families

    from botloom.runner.server.metrics import Metrics

    families = {f.name: f for f in text_string_to_metric_families(Metrics(runner).text().decode())}
    rates = {(s.labels["bot"], s.labels["kind"]): s.value for s in families["botloom_review_rate"].samples}
    assert rates == {("ap", "straight_through"): 0.6, ("ap", "intervention"): 0.2}  # the service's metrics agree
    assert families["botloom_review_turnaround_seconds"].samples[0].labels == {"bot": "ap"}


def test_in_and_not_in_rules_compare_without_case(route_bot):
    bot = route_bot(rules=["vendor not in [muster handel gmbh, Globex]", "invoice_number in (INV-9, inv-1)"])
    way, reasons = routed(Runner(), bot, invoice())
    assert way == "review" and [r.rsplit(" (", 1)[0] for r in reasons] == [
        "vendor not in [muster handel gmbh, Globex]", "invoice_number in (INV-9, inv-1)"]
