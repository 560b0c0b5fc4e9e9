"""``review.task``: a person checks (and corrects) what a bot extracted, and decides.

The node builds the task's form (fields, instructions, page images with each field's box,
outcomes, assignee or queue, deadline) and suspends the run with it (``ctx.suspend(...,
state={"task": form})``). Nothing waits in memory: the runner's journal keeps the form as a row
of the store's ``tasks`` table in the same transaction as the wait, and the process may exit.
Completing the task (``botloom tasks complete``, the service's API, the designer's inbox) checks
the answer against the form in one store transaction and resumes the run with it; the node then
leaves through the port named like the outcome (when it is connected, else ``out``) with the
outputs ``outcome``, ``values`` (every field, corrected where the person changed it), ``by``, ``at``.

At the deadline the service's due job (or ``botloom resume --due``) marks the task expired and
resumes the run; the node then does what ``on_deadline`` says: ``escalate`` (the task opens again
in the ``escalate_to`` queue, with no deadline), ``outcome`` (leaves with ``deadline_outcome`` and
the values as extracted, by "deadline"), or ``fail``.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timezone

from botloom.runner.sdk import NodeError, Next, Output, Param, TypeMismatch, node

from .form import build_fields

CATEGORY = "Review"
OUTCOMES = ("approve", "reject", "correct")
ON_DEADLINE = ("escalate", "outcome", "fail")


def deadline_at(value, now: float, where: str) -> float | None:
    """Epoch seconds of a deadline given as seconds from now or as an ISO date or date and time
    (a date alone: the end of that day; no time zone: the machine's)."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value <= 0:
            raise NodeError(f"the deadline is {value} seconds from now; it must be after now", kind="bad_input",
                            where=f"{where}, parameter 'deadline'", fix="give seconds (e.g. 86400) or a date")
        return now + float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, date):
        return datetime.combine(value, datetime.max.time()).timestamp()
    text = str(value).strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.max.time()).timestamp()
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        try:
            return now + float(text)
        except ValueError:
            pass
    raise NodeError(f"the deadline {text!r} is neither seconds nor an ISO date", kind="bad_input",
                    where=f"{where}, parameter 'deadline'",
                    fix="give seconds from now (3600), a date (2026-12-31) or a date and time (2026-12-31T17:00)")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _form(ctx, title, instructions, fields, document, outcomes, assignee, queue, deadline, on_deadline,
          escalate_to, deadline_outcome) -> dict:
    where = f"node '{ctx.node_id}'"
    outcomes = [str(o) for o in (outcomes or OUTCOMES)]
    if len(set(outcomes)) != len(outcomes) or not all(o.strip() for o in outcomes):
        raise NodeError(f"the outcomes {outcomes} repeat a name or have an empty one", kind="bad_input",
                        where=f"{where}, parameter 'outcomes'", fix="give distinct names, e.g. approve, reject")
    if on_deadline == "outcome" and deadline_outcome not in outcomes:
        raise NodeError(f"the deadline's outcome {deadline_outcome!r} is not one of the outcomes",
                        kind="bad_input", where=f"{where}, parameter 'deadline_outcome'",
                        fix=f"choose one of: {', '.join(outcomes)}")
    now = ctx.timestamp()
    pages = []
    if document:
        from .pages import page_images

        pages = page_images(ctx, ctx.path(document))
    return {"title": title, "instructions": instructions or "", "fields": build_fields(fields, where),
            "outcomes": outcomes, "document": str(ctx.path(document)) if document else None, "pages": pages,
            "assignee": assignee or None, "queue": queue or None, "deadline": deadline_at(deadline, now, where),
            "on_deadline": on_deadline, "escalate_to": escalate_to or None, "deadline_outcome": deadline_outcome or None,
            "created_at": now}


def _leave(ctx, form: dict, outcome: str, values: dict, by, at) -> Next:
    outputs = {"outcome": outcome, "values": values, "by": by, "at": at}
    return Next(outcome if ctx.has_branch(outcome) else "out", outputs)


@node("review.task", title="Human review", category=CATEGORY, icon="user-check",
      ports=("out", *OUTCOMES), ports_from="outcomes",
      params=[Param("title", "string", required=True, description="What the reviewer sees first, e.g. "
                                                                   "Invoice {{ item.name }}."),
              Param("instructions", "string", default="", multiline=True),
              Param("fields", "any", default=None,
                    description="The fields to check: a list of {name, type, value, confidence, box, page, "
                                "required, choices}, or the 'fields' output of Extract invoice fields."),
              Param("document", "path", default=None, path="open",
                    description="The document (PDF or image) shown beside the form, with each field's box."),
              Param("outcomes", "list", default=list(OUTCOMES),
                    description="The decisions the reviewer can take; each is a port of this node."),
              Param("assignee", "string", default="", description="The person the task is for."),
              Param("queue", "string", default="", description="Or the queue of people it is for."),
              Param("deadline", "any", default=None,
                    description="Seconds from now, or an ISO date (2026-12-31) or date and time."),
              Param("on_deadline", "string", default="escalate", choices=ON_DEADLINE,
                    description="At the deadline: escalate to another queue, take an outcome, or fail."),
              Param("escalate_to", "string", default="", show_if={"on_deadline": "escalate"},
                    description="The queue the task moves to at the deadline (default: the same queue)."),
              Param("deadline_outcome", "string", default="", show_if={"on_deadline": "outcome"},
                    description="The outcome taken at the deadline, with the values as extracted.")],
      outputs=[Output("outcome", "string", "The reviewer's decision."),
               Output("values", "object", "Every field's value, as corrected by the reviewer."),
               Output("by", "string", "Who completed the task ('deadline' when its deadline decided)."),
               Output("at", "string", "When, as an ISO date and time in UTC.")],
      aliases=("human task", "approval", "human in the loop", "validation station", "review"))
def task(ctx, title, instructions, fields, document, outcomes, assignee, queue, deadline, on_deadline,
         escalate_to, deadline_outcome):
    """Creates a task for a person with a form and the document, and waits (holding no process)
    until it is completed; leaves through the port of the chosen outcome."""
    form = (ctx.suspended_state or {}).get("task")
    if form is None:
        form = _form(ctx, title, instructions, fields, document, outcomes, assignee, queue, deadline, on_deadline,
                     escalate_to, deadline_outcome)
    answer = ctx.resume_data
    if answer and answer.get("outcome") is not None:
        return _answered(ctx, form, answer)
    expired = bool(answer and answer.get("expired")) or (
        form.get("deadline") is not None and ctx.timestamp() >= form["deadline"])
    if expired:
        action = form.get("on_deadline") or "escalate"
        if action == "fail":
            raise NodeError(f"the review task '{form['title']}' was not completed by its deadline "
                            f"({_iso(form['deadline'])})", kind="deadline",
                            fix="give reviewers more time (deadline), or let the deadline escalate or take an "
                                "outcome (on_deadline)")
        if action == "outcome":
            values = {f["name"]: f["value"] for f in form["fields"]}
            return _leave(ctx, form, form["deadline_outcome"], values, "deadline", _iso(ctx.timestamp()))
        form = {**form, "queue": form.get("escalate_to") or form.get("queue"), "assignee": None, "deadline": None,
                "escalated_at": ctx.timestamp()}
        ctx.log(f"the review task was not completed by its deadline; it moves to "
                f"{'queue ' + repr(form['queue']) if form['queue'] else 'everyone'}", "warning")
    who = f"for {form['assignee']}" if form.get("assignee") else (f"in queue '{form['queue']}'" if form.get("queue")
                                                                   else "for anyone")
    ctx.suspend(f"waiting for review: {form['title']} ({who})", signal="review", wake_at=form.get("deadline"),
                state={"task": form})


def _answered(ctx, form: dict, answer: dict) -> Next:
    """The completed task's answer (the store checked it against the form; it is checked again
    here, so a hand-written `botloom signal`/`resume --data` cannot slip a wrong one in)."""
    where = f"node '{ctx.node_id}'"
    outcome = answer["outcome"]
    if outcome not in form["outcomes"]:
        raise NodeError(f"the review's answer has the outcome {outcome!r}, which the task does not offer",
                        kind="bad_input", where=where, fix=f"complete the task with one of: {', '.join(form['outcomes'])}")
    given = answer.get("values") or {}
    values = {}
    for field in form["fields"]:
        value = given.get(field["name"], field["value"])
        try:
            values[field["name"]] = Param(field["name"], field["type"], required=field.get("required", False),
                                          choices=tuple(field.get("choices") or ())).check(value)
        except TypeMismatch as exc:
            raise NodeError(f"the review's value for '{field['name']}' does not fit: {exc}", kind="bad_input",
                            where=where, fix="complete the task through `botloom tasks complete`, which checks it")
    return _leave(ctx, form, outcome, values, answer.get("by"), answer.get("at") or _iso(time.time()))
