"""Run ids: ULIDs, time-ordered and unique across processes; the CLI takes a part of one."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from botloom.runner.engine.runs import new_run_id
from botloom.runner.errors import StoreError
from botloom.runner.store import RunStore

ULID = re.compile(r"[0-9a-hjkmnp-tv-z]{26}")  # Crockford's base 32: no i, l, o, u


def test_ids_are_ulids_in_the_order_they_were_made():
    ids = [new_run_id() for _ in range(10_000)]  # many in one millisecond: still strictly increasing
    assert all(ULID.fullmatch(i) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_ids_from_separate_processes_do_not_collide_and_sort_by_time():
    code = "from botloom.runner.engine.runs import new_run_id; print('\\n'.join(new_run_id() for _ in range(2000)))"
    batches = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
               for _ in range(2)]
    assert len(set(batches[0]) | set(batches[1])) == 4000
    assert max(batches[0]) < min(batches[1])  # the second process started later: its ids sort after


@pytest.fixture
def store(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite")
    yield s
    s.close()


def add(store, run_id: str, started: float = 0.0) -> None:
    store.create_run(run_id, bot_name="b", bot_path=None, bot_text="{}", bot_hash="", inputs={})
    store.conn.execute("UPDATE runs SET started_at=? WHERE id=?", (started, run_id))


def test_a_run_is_found_by_a_unique_prefix_or_suffix_in_either_case(store):
    new, other = new_run_id(), new_run_id()
    add(store, new, 2)
    add(store, other, 3)
    add(store, "20261123-201512-3fa9c1", 1)  # an id made by an earlier Botloom
    assert store.resolve(new) == new
    assert store.resolve(new[-5:]) == new and store.resolve(new[-5:].upper()) == new
    assert store.resolve("20261123") == "20261123-201512-3fa9c1" and store.resolve("3fa9c1") == "20261123-201512-3fa9c1"
    assert store.resolve("last") == other
    with pytest.raises(StoreError, match="matches several runs") as several:
        store.resolve(new[:8])  # made in the same second: the time part is shared
    assert "last characters" in several.value.fix


def test_like_wildcards_in_a_reference_match_only_themselves(store):
    add(store, new_run_id())
    for ref in ("_", "%", "__", "%a"):
        with pytest.raises(StoreError, match="no run"):
            store.resolve(ref)
