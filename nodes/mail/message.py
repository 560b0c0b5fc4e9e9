"""Mail messages as values: parsed with the standard library's ``email`` package (the modern
policy), dates as aware datetimes, bodies as text, attachments with safe file names."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def _parse(raw: bytes, headers_only: bool = False):
    return BytesParser(policy=policy.default).parsebytes(raw or b"", headersonly=headers_only)


def _date(msg):
    value = msg.get("Date")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.astimezone()


def _addresses(msg, name: str) -> list[str]:
    return [addr for _, addr in getaddresses([str(v) for v in msg.get_all(name, [])]) if addr]


def summary(header: bytes) -> dict:
    """from, to, subject, date of a message's header block (what a search lists)."""
    msg = _parse(header, headers_only=True)
    return {"from": str(msg.get("From", "")), "to": _addresses(msg, "To"), "subject": str(msg.get("Subject", "")),
            "date": _date(msg)}


def safe_name(name: str | None, index: int) -> str:
    """A file name that stays inside the folder it is saved in: no directories, no device names."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    return base[:200] or f"attachment-{index}"


def attachments(raw: bytes) -> list[tuple[str, bytes]]:
    """(safe file name, content) of each attachment."""
    out = []
    for i, part in enumerate(_parse(raw).iter_attachments(), 1):
        payload = part.get_payload(decode=True)
        if payload is None:
            continue
        out.append((safe_name(part.get_filename(), i), payload))
    return out


def parse_message(raw: bytes) -> dict:
    msg = _parse(raw)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    files = []
    for i, part in enumerate(msg.iter_attachments(), 1):
        payload = part.get_payload(decode=True) or b""
        files.append({"name": safe_name(part.get_filename(), i), "size": len(payload),
                      "content_type": part.get_content_type()})
    return {"from": str(msg.get("From", "")), "to": _addresses(msg, "To"), "cc": _addresses(msg, "Cc"),
            "reply_to": str(msg.get("Reply-To", "")), "subject": str(msg.get("Subject", "")), "date": _date(msg),
            "message_id": str(msg.get("Message-ID", "")),
            "text": text_part.get_content() if text_part is not None else "",
            "html": html_part.get_content() if html_part is not None else "",
            "attachments": files}
