"""The run store's tables, declared with SQLModel.

These classes are the schema. ``schema.sql`` beside this file is generated from them
(``python -m botloom.runner.store.models > runner/store/schema.sql``; a test keeps the two
identical) so that creating a store does not import SQLModel (~0.3 s); the queries behind
``botloom runs``/``show`` read through these classes. The journal that writes during a
run uses the same tables through ``sqlite3`` directly (see ``journal.py``) because importing
SQLModel costs ~0.3 s and an ORM insert per step costs far more than the 50 µs budget.
JSON columns hold text; the run's bot is kept as it ran (``bot_snapshot``) so a resume
replays exactly the bot that started.

The journal is append-only (schema 3): ``node_runs`` gets a row per attempt of a step in each
process that ran it, keyed by ``entry`` (the order rows were written); a step that waited, or was
in flight when its process died, keeps that row when it runs again. ``waits`` holds every wait
and, once it comes, its answer (the data, who, when). Large values live in ``blobs`` (see
``payloads.py``); a payload column that refers to them starts with ``@``.
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class Run(SQLModel, table=True):
    __tablename__ = "runs"

    id: str = Field(primary_key=True)
    bot_name: str = Field(index=True)
    bot_path: Optional[str] = None
    bot_hash: str = ""
    bot_snapshot: str = ""
    state: str = Field(index=True)
    trigger: str = "cli"
    inputs: Optional[str] = None
    start_node: Optional[str] = None
    outputs: Optional[str] = None
    error: Optional[str] = None
    attention: Optional[str] = None
    wake: Optional[str] = None
    wake_at: Optional[float] = Field(default=None, index=True)
    signal: Optional[str] = None
    started_at: float = 0.0
    ended_at: Optional[float] = None
    steps: int = 0
    pid: Optional[int] = None
    host: Optional[str] = None
    pruned_at: Optional[float] = None  # when `botloom runs prune --payloads` dropped its payloads


class NodeRun(SQLModel, table=True):
    __tablename__ = "node_runs"
    __table_args__ = (Index("ix_node_runs_run_id_seq", "run_id", "seq"),)

    entry: Optional[int] = Field(default=None, primary_key=True)  # the order rows were written in
    run_id: str = Field(foreign_key="runs.id")
    seq: int
    attempt: int = 1
    node_id: str
    node_type: str
    flow: str = "main"
    state: str
    port: Optional[str] = None
    params: Optional[str] = None
    outputs: Optional[str] = None
    writes: Optional[str] = None
    error: Optional[str] = None
    wake: Optional[str] = None
    started_at: float = 0.0
    duration: Optional[float] = None


class RunBot(SQLModel, table=True):
    """A bot a run called (Call bot), as it was when first called: a resume runs this text,
    never the file, which may have changed since."""

    __tablename__ = "run_bots"

    run_id: str = Field(primary_key=True, foreign_key="runs.id")
    path: str = Field(primary_key=True)
    text: str
    hash: str = ""


class StateChange(SQLModel, table=True):
    __tablename__ = "state_changes"

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: str = Field(index=True, foreign_key="runs.id")
    at: float
    state: str
    detail: Optional[str] = None


class Wait(SQLModel, table=True):
    """A step that suspended the run, and the answer that resumed it (data, who, when)."""

    __tablename__ = "waits"

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: str = Field(index=True, foreign_key="runs.id")
    seq: int
    node_id: str
    reason: Optional[str] = None
    signal: Optional[str] = None
    wake_at: Optional[float] = None
    started_at: float = 0.0
    answered_at: Optional[float] = None
    answered_by: Optional[str] = None
    answer: Optional[str] = None  # JSON: the data the run was resumed with


class Blob(SQLModel, table=True):
    """A large value of a run's payloads, stored once: whole (``data``), or as the items a list
    gained since an earlier blob of the same run (``base`` + ``data`` holding the tail)."""

    __tablename__ = "blobs"
    __table_args__ = {"sqlite_with_rowid": False}  # the key is the table: no second copy of it in an index

    run_id: str = Field(primary_key=True, foreign_key="runs.id")
    id: int = Field(primary_key=True)
    base: Optional[int] = None
    digest: Optional[str] = None
    data: str
    size: int = 0


class Task(SQLModel, table=True):
    """A human task (``review.task``): the form a person fills in for a suspended step, and the
    answer. ``form`` is JSON (title, instructions, fields with values, confidences and boxes, page
    images, outcomes); ``state`` is open, completed or expired. One task per step of a run."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_run_id_seq", "run_id", "seq", unique=True),
                      Index("ix_tasks_state_queue", "state", "queue"))

    id: str = Field(primary_key=True)
    run_id: str = Field(foreign_key="runs.id")
    seq: int
    node: str
    bot: str
    queue: Optional[str] = None
    assignee: Optional[str] = None
    state: str = "open"
    form: str = "{}"
    outcome: Optional[str] = None
    values: Optional[str] = None  # JSON: the answer's field values
    by: Optional[str] = None
    created_at: float = 0.0
    deadline: Optional[float] = None
    completed_at: Optional[float] = None


class QueueItem(SQLModel, table=True):
    """A work queue's item (``queue.add``, ``botloom queue add``): its reference is unique in its
    queue; performers take the next one by priority, deadline and age (``store/queues.py``)."""

    __tablename__ = "queue_items"
    __table_args__ = (Index("ix_queue_items_queue_reference", "queue", "reference", unique=True),
                      Index("ix_queue_items_queue_status", "queue", "status", "priority"))

    id: Optional[int] = Field(default=None, primary_key=True)
    queue: str
    reference: str
    priority: int = 0  # higher first
    deadline: Optional[float] = None
    status: str = "new"
    retries: int = 0  # system failures (and abandonments) retried so far
    max_retries: int = 2
    payload: Optional[str] = None  # JSON through the value codec
    output: Optional[str] = None
    error: Optional[str] = None
    performer: Optional[str] = None  # "run id/step" of the run that holds it, or a name
    created_at: float = 0.0
    started_at: Optional[float] = None
    ended_at: Optional[float] = None


class QueueEvent(SQLModel, table=True):
    """Every change of a queue item's status, who made it and why: the item's history."""

    __tablename__ = "queue_events"

    id: Optional[int] = Field(default=None, primary_key=True)
    item_id: int = Field(index=True, foreign_key="queue_items.id")
    at: float
    status: str
    performer: Optional[str] = None
    detail: Optional[str] = None


class ReviewExample(SQLModel, table=True):
    """A labelled example from a completed review: a field's original and corrected value, per
    model or extractor (``source``), with the text the model read; training reads these
    (``botloom models train NAME --from-reviews``)."""

    __tablename__ = "review_examples"
    __table_args__ = (Index("ix_review_examples_source_field", "source", "field"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: str = Field(index=True)
    bot: str = ""
    source: str = ""  # the model or extractor that gave the value ("" when the form did not say)
    field: str
    text: Optional[str] = None  # what the model read (a ticket's text), when the form carried it
    original: Optional[str] = None  # JSON through the value codec
    corrected: Optional[str] = None
    changed: bool = False
    confidence: Optional[float] = None
    outcome: Optional[str] = None
    at: float = 0.0


class Artifact(SQLModel, table=True):
    __tablename__ = "artifacts"

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: str = Field(index=True, foreign_key="runs.id")
    seq: int = 0
    node_id: str = ""
    name: str
    kind: str = "file"
    path: str
    created_at: float = 0.0


def schema_sql() -> str:
    """The SQLite DDL of these tables, as SQLModel/SQLAlchemy create them."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    statements = []
    for table in SQLModel.metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=sqlite.dialect())).strip())
        statements += [str(CreateIndex(index).compile(dialect=sqlite.dialect())).strip()
                       for index in sorted(table.indexes, key=lambda i: i.name)]
    header = "-- Generated from runner/store/models.py by `python -m botloom.runner.store.models`; do not edit.\n"
    return header + "".join(f"{statement};\n" for statement in statements)


if __name__ == "__main__":
    print(schema_sql(), end="")
