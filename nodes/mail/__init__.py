"""The mail pack: IMAP (search, read, download attachments, move, flag) and SMTP (send), with
the standard library only. See docs/mail.md."""

from botloom.runner.sdk import VERSION, NodePack

from . import imap_nodes, smtp_nodes


def pack() -> NodePack:
    return NodePack.from_modules("mail", VERSION, [imap_nodes, smtp_nodes], title="E-mail",
                                 description="Read mailboxes over IMAP and send mail over SMTP.",
                                 provides={"mail.inbox": "botloom.nodes.mail.trigger:Inbox"})
