"""Connecting to mail servers: the parameters every mail node shares, and the errors people meet.

IMAP and SMTP come from the standard library (``imaplib``, ``smtplib``, ``email``); nothing else
is installed for mail. A node opens its connection, does its one thing and closes it: a bot
that reads a mailbox every five minutes holds no connection in between, and a resumed run
opens its own.

Errors say what failed, where (the server and the node) and what to do: a refused connection,
a server that does not answer, TLS that fails, a login the server refuses, a folder it has not
got. The password is a secret (by name, from the bot's ``secrets``), never a plain parameter.
"""

from __future__ import annotations

import socket
import ssl
from contextlib import contextmanager
from typing import Iterator

from botloom.runner.sdk import NodeError, Param, Secret

SECURITY = ("ssl", "starttls", "none")
IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}


def server_params(kind: str) -> list[Param]:
    """host, port, security, user, password, timeout: the connection of an IMAP or SMTP node."""
    ports = IMAP_PORTS if kind == "imap" else SMTP_PORTS
    return [
        Param("host", "string", required=True, description=f"The {kind.upper()} server, e.g. "
              + ("imap.example.com." if kind == "imap" else "smtp.example.com.")),
        Param("port", "integer", default=0, minimum=0, maximum=65535,
              description="0: the usual port for the security chosen ("
                          + ", ".join(f"{k} {v}" for k, v in ports.items()) + ")."),
        Param("security", "string", default="ssl" if kind == "imap" else "starttls", choices=SECURITY,
              description="ssl: TLS from the start; starttls: plain, then TLS; none: no encryption (test "
                          "servers only)."),
        Param("user", "string", default="", description="The account's user name (empty: no login)."),
        Param("password", "secret", default=None,
              description="Name of the secret holding the password (declared in the bot's secrets)."),
        Param("timeout", "number", default=30, minimum=1, advanced=True,
              description="Seconds to wait for the server."),
    ]


def _reveal(password) -> str | None:
    if password is None or password == "":
        return None
    if isinstance(password, Secret):
        return password.reveal()
    raise NodeError("the password must be a secret's name, not the password itself", kind="bad_input",
                    fix="declare a secret in the bot (\"secrets\": {\"mail_password\": \"...\"}), store it with "
                        "`botloom secrets set mail_password`, and give its name")


def _where(kind: str, host: str, port: int) -> str:
    return f"{kind.upper()} server {host}:{port}"


def _network_error(kind: str, host: str, port: int, exc: BaseException) -> NodeError:
    where = _where(kind, host, port)
    if isinstance(exc, ssl.SSLError):
        return NodeError(f"TLS with the {where} failed: {exc.reason or exc}", kind="network",
                         fix="check 'security' (ssl on the TLS port, starttls on the plain one) and the port")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return NodeError(f"the {where} did not answer in time", kind="timeout",
                         fix="check the host and port, the network, or raise 'timeout'")
    if isinstance(exc, socket.gaierror):
        return NodeError(f"the {kind.upper()} server name '{host}' is not known", kind="network",
                         fix="check the host name")
    if isinstance(exc, ConnectionRefusedError):
        return NodeError(f"the {where} refused the connection", kind="network",
                         fix="check the port (and that the server runs and accepts connections from here)")
    return NodeError(f"cannot talk to the {where}: {exc}", kind="network", fix="check the host, port and security")


@contextmanager
def _session(kind: str, host: str, port: int, connect, login, close, user: str, password) -> Iterator:
    """Connect, log in when there is a user, hand the connection over, always close it."""
    try:
        conn = connect()
    except OSError as exc:
        raise _network_error(kind, host, port, exc) from None
    try:
        if user:
            login(conn, user, _reveal(password) or "")
        yield conn
    except OSError as exc:
        raise _network_error(kind, host, port, exc) from None
    finally:
        try:
            close(conn)
        except Exception:  # noqa: BLE001 - already gone
            pass


def _open(kind: str, tls_class, plain_class, context_arg: str, protocol_error, host: str, port: int,
          security: str, timeout: float):
    """A connection: TLS from the start, or plain and then STARTTLS, or plain."""
    context = {context_arg: ssl.create_default_context()}
    try:
        if security == "ssl":
            return tls_class(host, port, timeout=timeout, **context)
        conn = plain_class(host, port, timeout=timeout)
        if security == "starttls":
            conn.starttls(**context)
        return conn
    except protocol_error as exc:
        raise NodeError(f"the {kind.upper()} server {host}:{port} would not start: {_text(exc)}", kind="network",
                        fix="check 'security' and the port") from None


def imap(host: str, port: int, security: str, user: str, password, timeout: float):
    """A logged-in ``imaplib.IMAP4`` (or ``IMAP4_SSL``), logged out at the end."""
    import imaplib

    port = int(port or IMAP_PORTS[security])

    def connect():
        return _open("imap", imaplib.IMAP4_SSL, imaplib.IMAP4, "ssl_context", imaplib.IMAP4.error, host, port,
                     security, timeout)

    def login(conn, name, secret):
        try:
            conn.login(name, secret)
        except imaplib.IMAP4.error as exc:
            raise NodeError(f"the IMAP server {host}:{port} refused the login of '{name}': {_text(exc)}",
                            kind="auth", fix="check the user name and the password secret (an app password "
                                             "where the provider asks for one)") from None

    return _session("imap", host, port, connect, login, lambda c: c.logout(), user, password)


def smtp(host: str, port: int, security: str, user: str, password, timeout: float):
    """A connected (and logged-in) ``smtplib.SMTP``, closed at the end."""
    import smtplib

    port = int(port or SMTP_PORTS[security])

    def connect():
        return _open("smtp", smtplib.SMTP_SSL, smtplib.SMTP, "context", smtplib.SMTPException, host, port, security,
                     timeout)

    def login(conn, name, secret):
        try:
            conn.login(name, secret)
        except smtplib.SMTPAuthenticationError as exc:
            raise NodeError(f"the SMTP server {host}:{port} refused the login of '{name}': {_text(exc.smtp_error)}",
                            kind="auth", fix="check the user name and the password secret") from None
        except smtplib.SMTPNotSupportedError:
            raise NodeError(f"the SMTP server {host}:{port} does not offer a login", kind="auth",
                            fix="leave 'user' empty, or use security starttls/ssl (many servers offer login only "
                                "over TLS)") from None

    return _session("smtp", host, port, connect, login, lambda c: c.quit(), user, password)


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, BaseException) and value.args:
        return _text(value.args[0])
    return str(value)


def check_ok(kind: str, response, what: str, fix: str) -> list:
    """imaplib's (typ, data): the data when typ is OK, else a NodeError saying what the server said."""
    typ, data = response
    if typ != "OK":
        said = " ".join(_text(d) for d in data or () if d)
        raise NodeError(f"the {kind.upper()} server refused to {what}: {said or typ}", kind="mail", fix=fix)
    return data


def select(conn, folder: str, *, readonly: bool) -> int:
    """Open ``folder``; its message count. An unknown folder names the folders there are."""
    typ, data = conn.select(_quote(folder), readonly=readonly)
    if typ != "OK":
        names = folders(conn)
        raise NodeError(f"there is no folder '{folder}' on the IMAP server", kind="not_found",
                        fix=f"folders there: {', '.join(names) or '(none)'}")
    return int(_text(data[0]) or 0)


def folders(conn) -> list[str]:
    typ, data = conn.list()
    out = []
    for raw in data or ():
        line = _text(raw)
        name = line.rsplit(' "', 1)[-1].rstrip('"') if line.endswith('"') else line.rsplit(" ", 1)[-1]
        out.append(name)
    return out


def _quote(folder: str) -> str:
    folder = str(folder or "INBOX")
    return folder if folder.isalnum() else '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def move_message(conn, uid: str, to_folder: str) -> list:
    """Move a message of the selected folder: IMAP MOVE, or copy and delete where the server
    lacks it; the server's answer (it may carry the new UID)."""
    caps = {c.upper() if isinstance(c, str) else _text(c).upper() for c in conn.capabilities}
    if "MOVE" in caps:
        typ, data = conn.uid("MOVE", str(uid), _quote(to_folder))
    else:
        typ, data = conn.uid("COPY", str(uid), _quote(to_folder))
        if typ == "OK":
            conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
            conn.expunge()
    return check_ok("imap", (typ, data), f"move message {uid} to {to_folder}", "check the folder names")
