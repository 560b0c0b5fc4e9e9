"""SMTP: send a message (text and/or HTML, attachments, cc, bcc, reply-to).

Sending is not idempotent: a run that stopped while a send was in flight resumes as needs
attention (the engine's replay rule), so a person decides whether the message went out; a
send that finished is never repeated.
"""

from __future__ import annotations

import mimetypes
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from botloom.runner.sdk import NodeError, Output, Param, node, not_found

from .connection import server_params, smtp

CATEGORY = "E-mail"


def _addresses(value, what: str) -> list[str]:
    if value in (None, "", []):
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    out = [str(a).strip() for a in items if str(a).strip()]
    for a in out:
        if "@" not in a:
            raise NodeError(f"'{a}' in '{what}' is not an e-mail address", kind="bad_input",
                            fix="give addresses like name@example.com, separated by commas")
    return out


@node("mail.send", title="Send mail", category=CATEGORY, icon="send", side_effects=True, idempotent=False,
      params=[*server_params("smtp"),
              Param("sender", "string", required=True, description="The From address, e.g. Robot <bot@example.com>."),
              Param("to", "any", required=True, description="Addresses: a list, or text separated by commas."),
              Param("cc", "any", default=None), Param("bcc", "any", default=None, advanced=True),
              Param("reply_to", "string", default="", advanced=True),
              Param("subject", "string", default=""),
              Param("text", "string", default="", multiline=True, description="The plain-text body."),
              Param("html", "string", default="", multiline=True,
                    description="An HTML body (sent beside the text body when both are given)."),
              Param("attachments", "list", default=[], description="Paths of files to attach.")],
      outputs=[Output("message_id", "string", "The Message-ID of the message sent."),
               Output("recipients", "list", "Every address it was sent to.")],
      aliases=("smtp", "email", "send email", "notify by mail"))
def send(ctx, host, port, security, user, password, timeout, sender, to, cc, bcc, reply_to, subject, text, html,
         attachments):
    """Sends an e-mail through an SMTP server."""
    to_list, cc_list, bcc_list = _addresses(to, "to"), _addresses(cc, "cc"), _addresses(bcc, "bcc")
    if not to_list:
        raise NodeError("the message has no recipient", kind="bad_input", fix="give at least one address in 'to'")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to_list), subject or ""
    if cc_list:
        msg["Cc"] = ", ".join(cc_list)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=(sender.rsplit("@", 1)[-1].strip("> ") or None) if "@" in sender else None)
    msg.set_content(text or "")
    if html:
        msg.add_alternative(html, subtype="html")
    for item in attachments or ():
        path = ctx.path(item)
        if not path.is_file():
            raise not_found(ctx, path, "attachment")
        kind, _ = mimetypes.guess_type(path.name)
        maintype, subtype = (kind or "application/octet-stream").split("/", 1)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    recipients = to_list + cc_list + bcc_list
    import smtplib

    with smtp(host, port, security, user, password, timeout) as conn:
        try:
            refused = conn.send_message(msg, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            raise NodeError(f"the SMTP server refused every recipient: {', '.join(exc.recipients)}", kind="mail",
                            fix="check the addresses (and that this account may send to them)") from None
        except smtplib.SMTPSenderRefused as exc:
            raise NodeError(f"the SMTP server refused the sender '{sender}': {exc.smtp_error!r}", kind="mail",
                            fix="send from an address this account owns") from None
    if refused:
        ctx.log(f"the server refused {', '.join(refused)}", "warning")
    ctx.log(f"sent '{subject}' to {len(recipients) - len(refused)} recipient(s)")
    return {"message_id": str(msg["Message-ID"]), "recipients": [r for r in recipients if r not in refused]}
