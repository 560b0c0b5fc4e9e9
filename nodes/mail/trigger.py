"""What the service's mail trigger asks of the mail pack (the capability ``mail.inbox``): the
new messages of a folder, and taking one so that it starts no second run."""

from __future__ import annotations

import re

from .connection import _quote, _text, check_ok, folders, imap, move_message, select
from .message import summary


class Inbox:
    """One IMAP folder of a ``mail`` schedule's spec (host, port, security, user, folder)."""

    def __init__(self, spec: dict, password=None, timeout: float = 30.0):
        """``password``: an SDK Secret (or None for no login)."""
        self.spec, self.password, self.timeout = spec, password, timeout

    def _connect(self):
        s = self.spec
        return imap(s["host"], int(s.get("port") or 0), s.get("security", "ssl"), s.get("user", ""),
                    self.password, self.timeout)

    def new_messages(self, limit: int = 50) -> list[dict]:
        """The folder's unread messages, oldest first: uid, message_id, from, to, subject, date."""
        with self._connect() as conn:
            select(conn, self.spec.get("folder") or "INBOX", readonly=True)
            data = check_ok("imap", conn.uid("SEARCH", "UNSEEN"), "search the folder", "check the folder")
            uids = [u for u in _text(data[0]).split() if u] if data and data[0] else []
            found = []
            for uid in uids[:limit]:
                data = check_ok("imap", conn.uid("FETCH", uid, "(BODY.PEEK[HEADER])"), f"fetch message {uid}",
                                "check the folder")
                header = next((item[1] for item in data or () if isinstance(item, tuple)), b"")
                m = re.search(rb"^Message-ID:\s*(\S+)", header, re.I | re.M)
                found.append({"uid": uid, "folder": self.spec.get("folder") or "INBOX",
                              "message_id": m.group(1).decode("ascii", "replace") if m else "", **summary(header)})
            return found

    def take(self, uid: str) -> None:
        """Mark the message read, or move it to the spec's ``move_to`` folder."""
        target = self.spec.get("move_to")
        with self._connect() as conn:
            if target and target not in folders(conn):
                conn.create(_quote(target))
            select(conn, self.spec.get("folder") or "INBOX", readonly=False)
            if not target:
                check_ok("imap", conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)"), f"mark message {uid} read",
                         "check the folder's permissions")
                return
            move_message(conn, uid, target)

