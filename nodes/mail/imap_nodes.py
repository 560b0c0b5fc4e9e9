"""IMAP nodes: search a folder, read a message, download its attachments, move it, flag it.

Messages are named by their UID in their folder (what ``mail.search`` gives), which stays the
same while the message stays there, so a bot can search, then read, then move the same message
across steps (and across a resume).
"""

from __future__ import annotations

import fnmatch
import re
from datetime import date, datetime

from botloom.runner.sdk import NodeError, Output, Param, make_parent, node

from .connection import _text, check_ok, imap, select, server_params
from .message import parse_message, summary

CATEGORY = "E-mail"
FOLDER = Param("folder", "string", default="INBOX", description="The mailbox folder, e.g. INBOX or Archive/2024.")
UID = Param("uid", "string", required=True, description="The message's UID in the folder (from Search mail).")


def _connect(p: dict):
    return imap(p["host"], p["port"], p["security"], p["user"], p["password"], p["timeout"])


def _since(value) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        text = str(value).strip()
        try:
            value = date.fromisoformat(text[:10])
        except ValueError:
            raise NodeError(f"'since' must be a date like 2024-03-15, got {text!r}", kind="bad_input") from None
    return value.strftime("%d-%b-%Y")


def _criteria(sender, subject, since, unseen, text) -> list[str]:
    def q(value: str) -> str:
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

    parts = []
    if sender:
        parts += ["FROM", q(sender)]
    if subject:
        parts += ["SUBJECT", q(subject)]
    if text:
        parts += ["TEXT", q(text)]
    day = _since(since)
    if day:
        parts += ["SINCE", day]
    if unseen:
        parts.append("UNSEEN")
    return parts or ["ALL"]


def _uids(conn, criteria: list[str]) -> list[str]:
    charset = "UTF-8" if any(not c.isascii() for c in criteria) else None
    if charset:
        conn._encoding = "utf-8"  # imaplib sends the criteria as UTF-8 with CHARSET UTF-8
    data = check_ok("imap", conn.uid("SEARCH", *(("CHARSET", charset) if charset else ()), *criteria),
                    "search the folder", "simplify the search (from, subject, since)")
    return [u for u in _text(data[0]).split() if u] if data and data[0] else []


def _fetch(conn, uid: str, part: str) -> bytes:
    data = check_ok("imap", conn.uid("FETCH", str(uid), part), f"fetch message {uid}",
                    "search again: the message may have been moved or deleted")
    for item in data or ():
        if isinstance(item, tuple) and len(item) >= 2:
            return item[1]
    raise NodeError(f"there is no message with UID {uid} in this folder", kind="not_found",
                    fix="search again: UIDs are per folder, and a moved message has a new one there")


def _exists(conn, uid: str) -> None:
    """A clear error when the folder has no message with this UID."""
    data = check_ok("imap", conn.uid("FETCH", str(uid), "(UID)"), f"look for message {uid}",
                    "search again: the message may have been moved or deleted")
    if not [d for d in data or () if d]:
        raise NodeError(f"there is no message with UID {uid} in this folder", kind="not_found",
                        fix="search again: UIDs are per folder, and a moved message has a new one there")


@node("mail.search", title="Search mail", category=CATEGORY, icon="mail",
      params=[*server_params("imap"), FOLDER,
              Param("sender", "string", default="", description="Only messages whose From contains this."),
              Param("subject", "string", default="", description="Only messages whose subject contains this."),
              Param("text", "string", default="", advanced=True, description="Only messages containing this text."),
              Param("since", "any", default=None, description="Only messages from this day on (2024-03-15)."),
              Param("unseen", "boolean", default=False, description="Only messages not read yet."),
              Param("limit", "integer", default=50, minimum=1, description="At most this many, newest first.")],
      outputs=[Output("messages", "list", "uid, from, to, subject, date, seen, size of each message, newest first."),
               Output("count", "integer", "How many messages matched (before the limit).")],
      aliases=("imap", "find email", "get emails", "check mailbox", "read inbox"))
def search(ctx, host, port, security, user, password, timeout, folder, sender, subject, text, since, unseen,
           limit):
    """Finds messages in a mailbox folder by sender, subject, text, date or unread state."""
    p = locals()
    with _connect(p) as conn:
        select(conn, folder, readonly=True)
        uids = _uids(conn, _criteria(sender, subject, since, unseen, text))
        chosen = list(reversed(uids))[: int(limit)]
        messages = []
        for uid in chosen:
            data = check_ok("imap", conn.uid("FETCH", uid, "(FLAGS RFC822.SIZE BODY.PEEK[HEADER])"),
                            f"fetch message {uid}", "search again")
            header, meta = b"", ""
            for item in data or ():
                if isinstance(item, tuple):
                    meta, header = _text(item[0]), item[1]
            messages.append({"uid": uid, **summary(header), "seen": "\\Seen" in meta,
                             "size": int(m.group(1)) if (m := re.search(r"RFC822\.SIZE (\d+)", meta)) else None})
    ctx.log(f"{len(uids)} message(s) in {folder} matched; {len(messages)} listed")
    return {"messages": messages, "count": len(uids)}


@node("mail.read", title="Read mail", category=CATEGORY, icon="mail",
      params=[*server_params("imap"), FOLDER, UID,
              Param("mark_seen", "boolean", default=False, description="Mark the message as read.")],
      outputs=[Output("message", "object", "from, to, cc, subject, date, message_id, text, html and "
                                           "attachments (name, size, content_type) of the message.")],
      aliases=("open email", "get email body"))
def read(ctx, host, port, security, user, password, timeout, folder, uid, mark_seen):
    """Reads one message: its headers, text and HTML bodies and the list of its attachments."""
    p = locals()
    with _connect(p) as conn:
        select(conn, folder, readonly=not mark_seen)
        raw = _fetch(conn, uid, "(BODY[])" if mark_seen else "(BODY.PEEK[])")
    return {"message": {"uid": str(uid), "folder": folder, **parse_message(raw)}}


@node("mail.download_attachments", title="Download attachments", category=CATEGORY, icon="download",
      side_effects=True, idempotent=True,
      params=[*server_params("imap"), FOLDER, UID,
              Param("to", "path", required=True, path="folder", description="The folder to save them in."),
              Param("only", "string", default="", description="Only names matching this pattern, e.g. *.pdf.")],
      outputs=[Output("files", "list", "The paths of the files saved."),
               Output("count", "integer", "How many were saved.")],
      aliases=("save attachment", "email attachment", "get invoice from mail"))
def download_attachments(ctx, host, port, security, user, password, timeout, folder, uid, to, only):
    """Saves the attachments of a message into a folder (names made safe; a second copy of a name gets a number)."""
    from .message import attachments

    p = locals()
    with _connect(p) as conn:
        select(conn, folder, readonly=True)
        raw = _fetch(conn, uid, "(BODY.PEEK[])")
    target = ctx.path(to)
    saved, used = [], set()
    for name, payload in attachments(raw):
        if only and not fnmatch.fnmatch(name.lower(), only.lower()):
            continue
        stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
        candidate, n = name, 1
        while candidate in used:
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}" if dot else f"{name}-{n}"
        used.add(candidate)
        path = target / candidate
        make_parent(ctx, path)
        path.write_bytes(payload)
        saved.append(str(path))
    ctx.log(f"saved {len(saved)} attachment(s) of message {uid} to {target}")
    return {"files": saved, "count": len(saved)}


@node("mail.move", title="Move mail", category=CATEGORY, icon="move", side_effects=True, idempotent=False,
      params=[*server_params("imap"), FOLDER, UID,
              Param("to_folder", "string", required=True, description="The folder to move it to, e.g. Archive.")],
      outputs=[Output("uid", "string", "The message's UID in the new folder (when the server says it).")],
      aliases=("archive email", "file email"))
def move(ctx, host, port, security, user, password, timeout, folder, uid, to_folder):
    """Moves a message to another folder."""
    from .connection import folders, move_message

    p = locals()
    with _connect(p) as conn:
        if to_folder not in folders(conn):
            raise NodeError(f"there is no folder '{to_folder}' on the IMAP server", kind="not_found",
                            fix=f"folders there: {', '.join(folders(conn))}")
        select(conn, folder, readonly=False)
        _exists(conn, uid)
        data = move_message(conn, uid, to_folder)
        said = " ".join(_text(d) for d in (data or ()) if d) + " " + " ".join(
            _text(r) for r in (conn.untagged_responses.get("OK") or ()))
        new = re.search(r"COPYUID \d+ \S+ (\d+)", said)
    ctx.log(f"moved message {uid} from {folder} to {to_folder}")
    return {"uid": new.group(1) if new else None}


FLAGS = {"seen": ("+", r"\Seen"), "unseen": ("-", r"\Seen"), "flagged": ("+", r"\Flagged"),
         "unflagged": ("-", r"\Flagged"), "answered": ("+", r"\Answered")}


@node("mail.flag", title="Flag mail", category=CATEGORY, icon="flag", side_effects=True, idempotent=True,
      params=[*server_params("imap"), FOLDER, UID,
              Param("flag", "string", default="seen", choices=tuple(FLAGS),
                    description="seen / unseen (read or not), flagged / unflagged (starred), answered.")],
      aliases=("mark as read", "mark unread", "star email"))
def flag(ctx, host, port, security, user, password, timeout, folder, uid, flag):
    """Marks a message read or unread, flagged or not, or answered."""
    p = locals()
    sign, name = FLAGS[flag]
    with _connect(p) as conn:
        select(conn, folder, readonly=False)
        _exists(conn, uid)
        check_ok("imap", conn.uid("STORE", str(uid), f"{sign}FLAGS", f"({name})"), f"flag message {uid}",
                 "check the message is still in the folder")
    return None
