"""The mail pack against real servers (dovecot IMAP, aiosmtpd SMTP on 127.0.0.1), in real bot
runs: send a message with an attachment, find it, read it, download the attachment (the same
bytes), flag it and move it; and the errors people meet (a wrong password, an unknown folder, a
server that is not there), each said without a traceback."""

from __future__ import annotations

import imaplib


from nodes_helpers import outputs_of, run_bot


USER, PASSWORD = "bot@example.test", "mail-s3cret"  # as tests/mail/conftest.py sets up the servers


def _imap(servers, **extra):
    return {"host": "127.0.0.1", "port": servers.imap_port, "security": "none", "user": USER,
            "password": "mail_password", **extra}


def _smtp(servers, **extra):
    return {"host": "127.0.0.1", "port": servers.smtp_port, "security": "none", "user": USER,
            "password": "mail_password", **extra}


def _chain(*ids):
    return [{"from": f"{a}.out", "to": f"{b}.in"} for a, b in zip(("start", *ids), ids)]


def test_send_find_read_download_flag_and_move(mail_servers, tmp_path, monkeypatch):
    monkeypatch.setenv("BOTLOOM_SECRET_MAIL_PASSWORD", PASSWORD)
    invoice = tmp_path / "invoice 0042.pdf"
    invoice.write_bytes(b"%PDF-1.4 invoice 42 \x00\x01\x02 total 324.87 EUR")
    nodes = {
        "send": {"type": "mail.send", "params": _smtp(mail_servers, sender="Supplier <billing@supplier.test>",
                                                      to=USER, subject="Invoice 0042 for March",
                                                      text="Please find the invoice attached.",
                                                      html="<p>Please find the <b>invoice</b> attached.</p>",
                                                      attachments=[str(invoice)])},
        "find": {"type": "mail.search", "params": _imap(mail_servers, subject="Invoice 0042", unseen=True)},
        "read": {"type": "mail.read", "params": _imap(mail_servers, uid="{{ nodes.find.messages[0].uid }}")},
        "save": {"type": "mail.download_attachments",
                 "params": _imap(mail_servers, uid="{{ nodes.find.messages[0].uid }}", to=str(tmp_path / "in"),
                                 only="*.pdf")},
        "seen": {"type": "mail.flag", "params": _imap(mail_servers, uid="{{ nodes.find.messages[0].uid }}",
                                                      flag="seen")},
        "move": {"type": "mail.move", "params": _imap(mail_servers, uid="{{ nodes.find.messages[0].uid }}",
                                                      to_folder="Invoices")},
    }
    result, log = run_bot(nodes, _chain("send", "find", "read", "save", "seen", "move"))
    assert result.state == "succeeded", result.error
    sent = outputs_of(log, "send")
    assert sent["recipients"] == [USER] and sent["message_id"].startswith("<")
    found = outputs_of(log, "find")
    assert found["count"] == 1 and found["messages"][0]["subject"] == "Invoice 0042 for March"
    message = outputs_of(log, "read")["message"]
    assert message["from"] == "Supplier <billing@supplier.test>" and message["to"] == [USER]
    assert message["text"].strip() == "Please find the invoice attached." and "<b>invoice</b>" in message["html"]
    assert message["date"].tzinfo is not None
    assert message["attachments"] == [{"name": "invoice 0042.pdf", "size": invoice.stat().st_size,
                                       "content_type": "application/pdf"}]
    files = outputs_of(log, "save")["files"]
    assert len(files) == 1 and open(files[0], "rb").read() == invoice.read_bytes()  # the same bytes
    conn = mail_servers.imap()
    try:
        conn.select("INBOX")
        assert conn.uid("SEARCH", "SUBJECT", '"Invoice 0042"')[1] == [b""]  # moved out of INBOX
        conn.select("Invoices")
        typ, data = conn.uid("SEARCH", "SUBJECT", '"Invoice 0042"')
        uids = data[0].split()
        assert len(uids) == 1
        assert b"\\Seen" in conn.uid("FETCH", uids[0], "(FLAGS)")[1][0]
        assert outputs_of(log, "move")["uid"] in (None, uids[0].decode())
    finally:
        conn.logout()


def test_a_wrong_password_an_unknown_folder_and_no_server_are_said_plainly(mail_servers, monkeypatch):
    monkeypatch.setenv("BOTLOOM_SECRET_MAIL_PASSWORD", "not-it")
    result, _ = run_bot({"find": {"type": "mail.search", "params": _imap(mail_servers)}}, _chain("find"))
    assert result.state == "failed" and result.error["kind"] == "auth"
    assert "refused the login of 'bot@example.test'" in result.error["message"] and result.error["fix"]
    assert "not-it" not in str(result.error)
    monkeypatch.setenv("BOTLOOM_SECRET_MAIL_PASSWORD", PASSWORD)
    result, _ = run_bot({"find": {"type": "mail.search", "params": _imap(mail_servers, folder="Nope")}},
                        _chain("find"))
    assert result.state == "failed" and result.error["kind"] == "not_found"
    assert "no folder 'Nope'" in result.error["message"] and "INBOX" in result.error["fix"]
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    result, _ = run_bot({"find": {"type": "mail.search", "params": _imap(mail_servers, port=free_port)}},
                        _chain("find"))
    assert result.state == "failed" and result.error["kind"] == "network"
    assert "refused the connection" in result.error["message"]
    result, _ = run_bot({"send": {"type": "mail.send", "params": _smtp(mail_servers, sender="a@b.test", to="nobody")}},
                        _chain("send"))
    assert result.state == "failed" and "not an e-mail address" in result.error["message"]


def test_a_send_is_not_repeated_on_resume(mail_servers):
    """mail.send is declared not idempotent: the engine's replay turns an interrupted send into
    needs attention instead of sending twice."""
    from botloom.runner.sdk.registry import Registry

    send = Registry.discover(lazy=True).get("mail.send")
    assert send.side_effects and not send.repeatable({})
    assert imaplib  # the stdlib is all the pack needs
