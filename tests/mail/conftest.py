"""Real mail servers on 127.0.0.1 for the mail pack's tests: Debian's dovecot (IMAP) with a
throw-away configuration and maildir, and an aiosmtpd SMTP server (with a login) that delivers
every message it accepts into that IMAP mailbox (IMAP APPEND), as a mail system would.

Dovecot refuses to run its login processes as root: as root the servers use Debian's dovecot
and dovenull users and the mail belongs to nobody; as another user, everything runs as that user.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "bot@example.test", "mail-s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accounts() -> tuple[str, str, str]:
    """(internal user, login user, mail user) dovecot runs as."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, me, me
    for name in ("dovecot", "dovenull", "nobody"):
        pwd.getpwnam(name)  # KeyError: the packages did not make them
    return "dovecot", "dovenull", "nobody"


class MailServers:
    def __init__(self, root: Path):
        self.root, self.imap_port, self.smtp_port = root, free_port(), free_port()
        self.proc = None
        self.smtp = None

    def start(self) -> "MailServers":
        internal, login, mail = _accounts()
        for d in ("run", "state", "mail", "home"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        (self.root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", f"{mail}:", str(self.root / "mail"), str(self.root / "home")], check=True)
        conf = self.root / "dovecot.conf"
        conf.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{self.root}/mail/%u
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = 0
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid={mail} gid={pwd.getpwnam(mail).pw_gid} home={self.root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Archive {{
    auto = create
  }}
  mailbox Invoices {{
    auto = create
  }}
}}
""")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.imap().logout()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
                    raise RuntimeError(f"dovecot did not start: {log[-2000:]}")
                time.sleep(0.1)
        self._start_smtp()
        return self

    def imap(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def _start_smtp(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        servers = self

        class Deliver:
            async def handle_DATA(self, server, session, envelope):
                conn = servers.imap()
                try:
                    conn.append("INBOX", None, None, envelope.original_content)
                finally:
                    conn.logout()
                return "250 delivered"

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER \
                and auth_data.password.decode() == PASSWORD
            return AuthResult(success=ok)

        import warnings

        with warnings.catch_warnings():  # a login without TLS: what a test server on 127.0.0.1 may do
            warnings.simplefilter("ignore", UserWarning)
            self.smtp = Controller(Deliver(), hostname="127.0.0.1", port=self.smtp_port, authenticator=authenticate,
                                   auth_require_tls=False, auth_required=True)
            self.smtp.start()

    def stop(self) -> None:
        if self.smtp is not None:
            self.smtp.stop()
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def mail_servers():
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    pytest.importorskip("aiosmtpd", reason="the SMTP test server needs aiosmtpd (pip install aiosmtpd)")
    root = Path(tempfile.mkdtemp(prefix="botloom-mail-"))
    root.chmod(0o755)  # the mail user (nobody, as root) must reach its maildir
    servers = MailServers(root).start()
    try:
        yield servers
    finally:
        servers.stop()
        shutil.rmtree(root, ignore_errors=True)
