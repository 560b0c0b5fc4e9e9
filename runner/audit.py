"""The audit trail: an append-only, hash-chained log of security-relevant events, with signed digests.

What is recorded (``kind``, then the fields; every record also has ``seq``, ``time`` (UTC),
``user``, ``host`` and ``pid``):

    run_started / run_resumed   run, bot, bot_path, bot_hash (SHA-256 of the bot file's text), and
                                trigger when the listener is given it
    run_finished                run, bot, bot_hash, state, steps
    secret_read                 name, bot, run (the first read of each secret in a run; never the value)
    secret_set / secret_deleted name, backend
    setting_changed             key, value
    model_activated             model, version, previous (packs record through ``botloom.runner.sdk.audit``)
    review_decided              model, review, label, by (never the reviewed text)
    bot_imported, trust_approved  bot_path, bot_hash, and who approved what (``trust.py``)
    ...                         any other kind through :func:`record` (schedules, templates, trust and
                                review decisions record themselves as they are built)

Layout, in the data folder's ``audit/``: ``trail.jsonl`` holds one JSON record per line. Each
record carries ``prev``, the hash of the record before it (64 zeros for the first), and
``hash``, the SHA-256 of its own canonical JSON (sorted keys, no spaces) without ``hash``.
Editing a record breaks its hash; deleting, inserting or reordering breaks the sequence or the
chain. Rewriting the whole chain from some record on is caught by the digests:

``digests.jsonl`` holds signed digests, as AWS CloudTrail's log-file integrity validation does:
each lists the hashes of the records since the previous digest, the last ``seq`` it covers and
the previous digest's signature, signed with HMAC-SHA256. A digest is written after every
``run_finished`` and every :data:`DIGEST_EVERY` records (and by ``botloom audit digest``), so
cutting the end of the trail is detected as far back as the last digest: the digest names the
records that should be there. The key comes from ``BOTLOOM_AUDIT_KEY``, the systemd credential
``botloom-audit-key``, or else ``audit/key`` (made on first use, owner-only). What a local
administrator can do (delete the trail *and* its digests, or re-sign with a key on this
machine) no local log can prevent: keep exported digests, or the key, on another machine.

:meth:`AuditTrail.verify` names the first bad record and what is wrong with it.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
import secrets as _random
import socket
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from .errors import BotloomError

GENESIS = "0" * 64
DIGEST_EVERY = 20
KEY_VARIABLE = "BOTLOOM_AUDIT_KEY"
KEY_CREDENTIAL = "botloom-audit-key"
_TAIL = 65536


class AuditError(BotloomError):
    """The audit trail cannot be written or read (exit code 2)."""

    exit_code = 2


@dataclass
class Verdict:
    """What ``verify`` found: ``ok``, the counts, and the first problem (line, seq, message)."""

    ok: bool
    records: int
    digests: int
    covered: int  # the last seq a valid digest signs
    line: int | None = None
    seq: int | None = None
    problem: str = ""
    file: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = {"ok": self.ok, "records": self.records, "digests": self.digests, "covered": self.covered}
        if not self.ok:
            data.update(file=self.file, line=self.line, seq=self.seq, problem=self.problem)
        if self.notes:
            data["notes"] = self.notes
        return data


def canonical(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def record_hash(rec: dict) -> str:
    return hashlib.sha256(canonical({k: v for k, v in rec.items() if k != "hash"})).hexdigest()


class AuditTrail:
    def __init__(self, home: str | os.PathLike | None = None):
        from . import paths

        self.home = Path(home) if home is not None else paths.home()
        self.folder = self.home / "audit"
        self.trail = self.folder / "trail.jsonl"
        self.digests = self.folder / "digests.jsonl"

    # ------------------------------------------------------------ writing
    def record(self, kind: str, **fields: Any) -> dict:
        """Append one record (under a lock shared by every process of this data folder)."""
        from .filelock import locked

        try:
            self._ready()
            with locked(self.folder / "trail.lock"):
                last = _last_line(self.trail)
                if last is None:
                    seq, prev = 0, GENESIS
                else:
                    try:
                        tail = json.loads(last)
                        seq, prev = int(tail["seq"]), str(tail["hash"])
                    except (ValueError, KeyError, TypeError):
                        raise AuditError(f"the last record of the audit trail {self.trail} is damaged, so nothing "
                                         "can be chained to it", fix="run `botloom audit verify`; keep the file as "
                                         "evidence and move it aside to start a new trail") from None
                rec = {"seq": seq + 1, "time": _now(), "kind": kind, "user": _user(), "host": socket.gethostname(),
                       "pid": os.getpid(), **{k: v for k, v in fields.items() if v is not None}, "prev": prev}
                rec["hash"] = record_hash(rec)
                _append(self.trail, canonical(rec) + b"\n")
                if kind == "run_finished" or (rec["seq"] - self._last_digest()[0]) >= DIGEST_EVERY:
                    self._digest()
                return rec
        except OSError as exc:
            raise AuditError(f"cannot write the audit trail {self.trail}: {exc.strerror or exc}",
                             fix="check free disk space and the data folder's permissions") from None

    def digest(self) -> dict | None:
        """Sign the records since the last digest now (None when there are none)."""
        from .filelock import locked

        self._ready()
        with locked(self.folder / "trail.lock"):
            return self._digest()

    def _ready(self) -> None:
        from . import paths

        paths.private_dir(self.home)
        paths.private_dir(self.folder)

    def _last_digest(self) -> tuple[int, str, int]:
        """The last seq the last digest covers, its signature and its number."""
        last = _last_line(self.digests)
        if last is None:
            return 0, "", 0
        try:
            d = json.loads(last)
            return int(d["last"]), str(d["sig"]), int(d["digest"])
        except (ValueError, KeyError, TypeError):
            raise AuditError(f"the last digest of {self.digests} is damaged",
                             fix="run `botloom audit verify`") from None

    def _digest(self) -> dict | None:
        covered, prev_sig, number = self._last_digest()
        hashes = [rec["hash"] for rec in self._records_after(covered)]
        if not hashes:
            return None
        number += 1
        key = self._key()
        d = {"digest": number, "time": _now(), "first": covered + 1, "last": covered + len(hashes),
             "hashes": hashes, "prev": prev_sig, "key_id": hashlib.sha256(key).hexdigest()[:16]}
        d["sig"] = hmac.new(key, canonical(d), hashlib.sha256).hexdigest()
        _append(self.digests, canonical(d) + b"\n")
        return d

    def _records_after(self, covered: int) -> list[dict]:
        """The records after seq ``covered``, read from the end of the trail (not the whole file)."""
        size = self.trail.stat().st_size if self.trail.exists() else 0
        span = _TAIL
        while True:
            with open(self.trail, "rb") as f:
                f.seek(max(0, size - span))
                lines = f.read().split(b"\n")
            if size > span:
                lines = lines[1:]  # the first piece may be part of a line
            found = []
            for text in reversed(lines):
                try:
                    rec = json.loads(text)
                except ValueError:
                    continue
                if isinstance(rec, dict) and isinstance(rec.get("seq"), int):
                    if rec["seq"] <= covered:
                        return found[::-1]
                    found.append(rec)
            if span >= size:
                return found[::-1]
            span *= 4

    def _key(self, create: bool = True) -> bytes:
        value = os.environ.get(KEY_VARIABLE)
        if value:
            return value.encode()
        folder = os.environ.get("CREDENTIALS_DIRECTORY")
        if folder and (Path(folder) / KEY_CREDENTIAL).is_file():
            return (Path(folder) / KEY_CREDENTIAL).read_bytes().strip()
        from . import paths

        path = self.folder / "key"
        if not path.exists():
            if not create:
                raise AuditError(f"the digests of {self.digests} cannot be checked: their key {path} is missing",
                                 fix=f"restore the key file, or give the key in {KEY_VARIABLE} or the systemd "
                                     f"credential '{KEY_CREDENTIAL}'")
            with paths.private_open(path, "x", encoding="ascii") as f:
                f.write(_random.token_hex(32))
        return path.read_bytes().strip()

    # ------------------------------------------------------------ reading
    def records(self) -> Iterator[dict]:
        """The records, oldest first (a line that is not JSON as ``{"damaged": text}``)."""
        return self._read(self.trail)

    def digest_records(self) -> Iterator[dict]:
        return self._read(self.digests)

    def _read(self, path: Path) -> Iterator[dict]:
        for _, text in _lines(path):
            try:
                yield json.loads(text)
            except ValueError:
                yield {"damaged": text}

    def verify(self) -> Verdict:
        """Check every record and digest; the verdict names the first bad one."""
        signed, digests, covered, problem = self._check_digests()
        verdict = Verdict(True, 0, digests, covered)
        if problem is not None:
            verdict.ok, verdict.file, (verdict.line, verdict.problem) = False, str(self.digests), problem
            return verdict
        expected, prev = 1, GENESIS
        numbered = list(_lines(self.trail))
        later = _seqs(numbered)
        for index, (line, text) in enumerate(numbered):
            verdict.records += 1
            bad = _check_record(text, expected, prev, signed, later[index + 1:])
            if bad is not None:
                verdict.ok, verdict.file, verdict.line, verdict.seq, verdict.problem = False, str(self.trail), line, \
                    expected, bad
                return verdict
            rec = json.loads(text)
            expected, prev = rec["seq"] + 1, rec["hash"]
        if covered >= expected:
            verdict.ok, verdict.file, verdict.seq = False, str(self.trail), expected
            verdict.line = verdict.records + 1
            verdict.problem = (f"the trail ends at record {expected - 1}, but the signed digests cover records up to "
                               f"{covered}: records {expected} to {covered} were cut from its end")
        elif expected - 1 > covered:
            verdict.notes.append(f"records {covered + 1} to {expected - 1} are not yet signed by a digest "
                                 "(`botloom audit digest` signs them)")
        return verdict

    def _check_digests(self) -> tuple[dict[int, str], int, int, tuple[int, str] | None]:
        """The record hashes the digests sign, by seq; the digests' count; the last seq covered; a problem."""
        signed: dict[int, str] = {}
        count, covered, prev_sig = 0, 0, ""
        key = None
        for line, text in _lines(self.digests):
            count += 1
            try:
                d = json.loads(text)
                sig, body = d["sig"], {k: v for k, v in d.items() if k != "sig"}
                first, last, hashes = int(d["first"]), int(d["last"]), list(d["hashes"])
            except (ValueError, KeyError, TypeError):
                return signed, count, covered, (line, f"digest at line {line} is not a valid digest (edited or damaged)")
            key = key or self._key(create=False)
            if not hmac.compare_digest(sig, hmac.new(key, canonical(body), hashlib.sha256).hexdigest()):
                return signed, count, covered, (line, f"digest {d.get('digest')} at line {line} has a bad signature: "
                                                      "it was edited, or signed with another key")
            if d.get("prev") != prev_sig or first != covered + 1 or last - first + 1 != len(hashes):
                return signed, count, covered, (line, f"digest {d.get('digest')} at line {line} does not follow the "
                                                      "digest before it: a digest was deleted, inserted or reordered")
            signed.update(zip(range(first, last + 1), hashes))
            covered, prev_sig = last, sig
        return signed, count, covered, None


def _seqs(numbered: list[tuple[int, str]]) -> list[int | None]:
    found = []
    for _, text in numbered:
        try:
            found.append(int(json.loads(text)["seq"]))
        except (ValueError, KeyError, TypeError):
            found.append(None)
    return found


def _check_record(text: str, expected: int, prev: str, signed: dict[int, str], later: list) -> str | None:
    """What is wrong with one line of the trail (``later``: the seqs of the lines after it), or None."""
    try:
        rec = json.loads(text)
        seq, digest = rec["seq"], rec["hash"]
    except (ValueError, KeyError, TypeError):
        return f"the line is not a valid record (edited or damaged); record {expected} was expected"
    if record_hash(rec) != digest:
        return f"record {seq} was altered: its content does not match its hash"
    if not isinstance(seq, int) or seq != expected:
        if isinstance(seq, int) and seq > expected and expected in later:
            return f"records were reordered: record {seq} comes before record {expected}"
        if isinstance(seq, int) and seq > expected:
            return f"record {expected} is missing (deleted): the next line holds record {seq}"
        return f"record {seq} is out of place where record {expected} was expected (records were reordered or inserted)"
    if rec.get("prev") != prev:
        return f"record {seq} does not follow record {seq - 1}: it was inserted, or records were reordered"
    if seq in signed and signed[seq] != digest:
        return f"record {seq} is not the record the digest signed: it was replaced or inserted and the chain rebuilt"
    return None


def record(kind: str, *, home: str | os.PathLike | None = None, **fields: Any) -> dict:
    """Append a record to the audit trail of ``home`` (default: the current data folder)."""
    return AuditTrail(home).record(kind, **fields)


class AuditListener:
    """Records the start and end of a run, with the bot file's hash.

    Critical (``critical = True``, like the journal): a run whose start cannot be recorded
    does not run, because a trail that can miss runs cannot prove what ran."""

    critical = True

    def __init__(self, trail: AuditTrail, *, bot_hash: str, bot_path: str | None = None, trigger: str | None = None,
                 resumed: bool = False):
        """``resumed``: the run is a resume (also of a run that had not done a step yet)."""
        self.trail, self.bot_hash, self.bot_path, self.trigger = trail, bot_hash, bot_path, trigger
        self.resumed = resumed
        self._bot: str | None = None

    def handle(self, event: Any) -> None:
        if event.kind == "run_started":
            self.trail.record("run_resumed" if event.resumed or self.resumed else "run_started", run=event.run_id,
                              bot=event.bot, bot_path=self.bot_path, bot_hash=self.bot_hash, trigger=self.trigger)
            self._bot = event.bot
        elif event.kind == "run_finished":
            self.trail.record("run_finished", run=event.run_id, bot=self._bot,
                              bot_hash=self.bot_hash, state=str(event.state), steps=event.steps)

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- files
def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _append(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """The non-empty lines of a file, numbered from 1 (nothing when the file does not exist)."""
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with f:
        for number, text in enumerate(f, 1):
            if text.strip():
                yield number, text.rstrip("\n")


def _last_line(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - _TAIL))
            chunk = f.read()
    except FileNotFoundError:
        return None
    lines = [line for line in chunk.split(b"\n") if line.strip()]
    if not lines:
        return None
    if size > _TAIL and len(lines) == 1:
        raise AuditError(f"the last record of {path} is longer than {_TAIL} bytes", fix="run `botloom audit verify`")
    return lines[-1].decode("utf-8", "replace")


__all__ = ["AuditError", "AuditListener", "AuditTrail", "Verdict", "record"]
