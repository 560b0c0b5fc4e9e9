"""A step's payloads (its parameters, outputs and writes) as the journal stores them, so that the
store grows with the data a run handles and not with its square.

A payload is a dict. A small one is stored as codec JSON text, as it always was. When one of its
values is large (its JSON over ``BLOB_MIN`` characters), the column holds ``@`` and a JSON object
whose values are either ``[value]`` (kept inline) or the number of a blob (a JSON integer)::

    @{"name":["acc"],"value":17}

Blobs (table ``blobs``, numbered per run) are of two kinds:

- a whole value, with a digest of its text: the same value met again in the run (a table that is
  one node's output, the next node's parameter and a variable) is stored once;
- a delta: a list that only grew since the value last stored in the same *slot* (the same
  parameter or output of the same node, or the same variable): ``base`` (that blob) and the items
  added (``data``). ``{{ acc + [row.id] }}`` in a loop costs each step its new item, not the list.

A growing list is recognised without encoding it: its first items must be the very objects
(``is``) held by a copy of the list taken when it was last stored. Items that are only equal
(``1`` and ``1.0``, a rebuilt dict) make a whole value instead, so what is read back is exactly
what was written. Not seen: an item changed in place after it was stored (a dict inside the list
mutated by a later step); nodes and expressions give new values, so the engine's own nodes never
do that.

Reading (``PayloadReader``) rebuilds a value from its chain of deltas, keeping the last few values
it built, so a resume that replays a loop in order extends the previous list instead of walking
the chain from its start each step. ``StoredStep`` decodes a step's payloads when the engine first
reads them: loading a long run for a resume does not rebuild every intermediate list at once.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import OrderedDict
from operator import is_
from typing import Any

from ..engine.runs import StepRecord
from ..errors import StoreError
from ..codec import to_json
from ..states import StepState
from .db import dumps, loads

BLOB_MIN = 1024  # characters of JSON: a value longer than this is stored once, as a blob
_SIZED = frozenset({list, dict, str, tuple, set, frozenset, bytes})
_CHECK_LEN = 32  # values of a sized type at least this long are looked at one by one
_key = json.JSONEncoder(ensure_ascii=False).encode
_BLOB_SQL = "INSERT INTO blobs (run_id, id, base, digest, data, size) VALUES (?,?,?,?,?,?)"


class _Slot:
    """The last list stored in one slot: a copy of its items and its blob."""

    __slots__ = ("items", "blob")

    def __init__(self, items: list, blob: int):
        self.items = items
        self.blob = blob


class PayloadWriter:
    """Encodes the payloads of one run's steps, in one process; ``pending`` holds the blob rows
    to write in the same transaction as the steps that refer to them."""

    def __init__(self, conn: sqlite3.Connection, run_id: str):
        self.run_id = run_id
        row = conn.execute("SELECT MAX(id) FROM blobs WHERE run_id=?", (run_id,)).fetchone()
        self._next = (row[0] or 0) + 1
        self._slots: dict[tuple, _Slot] = {}
        self._digests: dict[str, int] = {}
        self.pending: list[tuple] = []

    def encode_step(self, node: str, params: dict | None, outputs: dict | None, writes: dict | None) -> tuple:
        """The params, outputs and writes columns of one step. A value met twice in the step (a
        parameter that is also the output and the write) is stored once."""
        plain = _plain if self._digests else _small  # until a first large value, look no closer
        p, o, w = plain(params), plain(outputs), plain(writes)
        if p is _SPLIT or o is _SPLIT or w is _SPLIT:
            memo: dict = {}
            p = self._split(params, ("p", node), memo) if p is _SPLIT else p
            o = self._split(outputs, ("o", node), memo) if o is _SPLIT else o
            w = self._split(writes, ("w",), memo) if w is _SPLIT else w
        return p, o, w

    def encode(self, values: dict | None, slot: tuple, memo: dict) -> str | None:
        """The column text for one payload. ``slot`` names where it lives (("p", node) for a
        node's parameters...); ``memo`` maps values already stored in this step to their blob."""
        text = _plain(values)
        return self._split(values, slot, memo) if text is _SPLIT else text

    def _split(self, values: dict, slot: tuple, memo: dict) -> str:
        if any(type(k) is not str or k == "$t" for k in values):
            return dumps(values)  # keys the codec writes as a tagged map: kept whole
        parts, refs = [], False
        for key, value in values.items():
            ref = self._value(value, (*slot, key), memo)
            if type(ref) is int:
                refs = True
                parts.append(f"{_key(key)}:{ref}")
            else:
                parts.append(f"{_key(key)}:[{ref}]")
        if not refs:
            return dumps(values)
        return "@{" + ",".join(parts) + "}"

    def _value(self, value: Any, slot: tuple, memo: dict) -> int | str:
        """A blob number for a large value, else its JSON text."""
        hit = memo.get(id(value))
        if hit is not None and hit[0] is value:
            if hit[2] is not None:
                self._slots[slot] = hit[2]
            return hit[1]
        if type(value) is list:
            state = self._slots.get(slot)
            if state is not None and len(value) >= len(state.items) and all(map(is_, state.items, value)):
                if len(value) > len(state.items):
                    ref = self._add(state.blob, None, to_json(value[len(state.items):]))
                    state = _Slot(list(value), ref)
                self._slots[slot] = state
                memo[id(value)] = (value, state.blob, state)
                return state.blob
        text = to_json(value)  # "null" for None, as inside any JSON object
        if len(text) <= BLOB_MIN:
            self._slots.pop(slot, None)
            memo[id(value)] = (value, text, None)
            return text
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        ref = self._digests.get(digest)
        if ref is None:
            ref = self._digests[digest] = self._add(None, digest, text)
        state = _Slot(list(value), ref) if type(value) is list else None
        if state is None:
            self._slots.pop(slot, None)
        else:
            self._slots[slot] = state
        memo[id(value)] = (value, ref, state)
        return ref

    def _add(self, base: int | None, digest: str | None, data: str) -> int:
        ref = self._next
        self._next += 1
        self.pending.append((self.run_id, ref, base, digest, data, len(data)))
        return ref

    def write_pending(self, conn: sqlite3.Connection) -> None:
        if self.pending:
            conn.executemany(_BLOB_SQL, self.pending)
            self.pending.clear()


_SPLIT = object()


def _plain(values: dict | None) -> Any:
    """The JSON text of a payload with no large value (None for none), else ``_SPLIT``."""
    if not values:
        return None
    for value in values.values():
        if type(value) in _SIZED and len(value) >= _CHECK_LEN:
            return _SPLIT
    text = to_json(values)
    return text if len(text) <= BLOB_MIN else _SPLIT


def _small(values: dict | None) -> Any:
    """``_plain`` without looking at each value first: the first large value is encoded twice."""
    if not values:
        return None
    text = to_json(values)
    return text if len(text) <= BLOB_MIN else _SPLIT


class PayloadReader:
    """Decodes the payload columns of one run, rebuilding values from its blobs."""

    CACHED = 8  # values kept after they are built: the previous step's list is the next one's base

    def __init__(self, conn: sqlite3.Connection, run_id: str):
        self.conn = conn
        self.run_id = run_id
        self._built: OrderedDict[int, Any] = OrderedDict()

    def column(self, text: str | None) -> Any:
        if text is None:
            return None
        if not text.startswith("@"):
            return loads(text)
        return {key: (item[0] if type(item) is list else self.blob(item)) for key, item in loads(text[1:]).items()}

    def blob(self, ref: int) -> Any:
        value = self._built.get(ref)
        if value is None:
            value = self._build(ref)
        return _fresh(value)

    def _build(self, ref: int) -> Any:
        tails: list[str] = []
        at = ref
        while True:
            if at in self._built:
                base = self._built[at]
                break
            row = self.conn.execute("SELECT base, data FROM blobs WHERE run_id=? AND id=?", (self.run_id, at)).fetchone()
            if row is None:
                raise StoreError(f"run {self.run_id}: a value of its journal is missing (blob {at})",
                                 fix="its payloads were dropped by `botloom runs prune --payloads`, or the store "
                                     "was edited; start a new run")
            if row[0] is None:
                base = loads(row[1])
                break
            tails.append(row[1])
            at = row[0]
        if tails:
            value = list(base)
            for data in reversed(tails):
                value.extend(loads(data))
        else:
            value = base
        self._built[ref] = value
        self._built.move_to_end(ref)
        while len(self._built) > self.CACHED:
            self._built.popitem(last=False)
        return value


def _fresh(value: Any) -> Any:
    """A shallow copy of a built container: a node changing it in place must not change the cache."""
    kind = type(value)
    return kind(value) if kind in (list, dict, set) else value


class _Payload:
    """A StoredStep attribute decoded on first read (a small payload is then kept decoded)."""

    def __set_name__(self, owner, name: str) -> None:
        self.slot = "_raw_" + name

    def __get__(self, obj, owner=None) -> Any:
        if obj is None:
            return None
        raw = obj.__dict__[self.slot]
        if type(raw) is not str:
            return raw.value if type(raw) is _Decoded else raw
        value = obj._reader.column(raw)
        if not raw.startswith("@"):
            obj.__dict__[self.slot] = _Decoded(value)
        return value

    def __set__(self, obj, value: Any) -> None:
        obj.__dict__[self.slot] = _Decoded(value)


class _Decoded:
    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


class StoredStep(StepRecord):
    """A step record read from the store, whose payloads decode when first read."""

    outputs = _Payload()
    writes = _Payload()
    params = _Payload()

    def __init__(self, reader: PayloadReader, node: str, state: str, port: str | None, error: dict | None,
                 wake: dict | None, outputs: str | None, writes: str | None, params: str | None):
        self._reader = reader
        self.node, self.state, self.port, self.error, self.wake = node, state, port, error, wake
        self.__dict__["_raw_outputs"] = outputs
        self.__dict__["_raw_writes"] = writes
        # the parameters matter only to decide whether a step in flight may run again
        self.__dict__["_raw_params"] = params if state in (StepState.RUNNING, StepState.CANCELLED) else None
