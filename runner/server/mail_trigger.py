"""Mail triggers: a run of a schedule's bot for every new message in an IMAP folder.

A ``mail`` schedule (``botloom schedule add BOT --mail imaps://USER@HOST/INBOX --mail-secret
NAME``) is checked by the service's due job, at most every ``poll`` seconds of its spec
(``service.mail_poll_seconds``, default 60). Each unread message starts a run with the input
``message`` (uid, folder, message_id, from, to, subject, date; the bot reads the rest with the
mail nodes), and is then marked read, or moved to the spec's ``move_to`` folder. A message
whose Message-ID already started a run of the schedule is only taken, not run again, so a
service that stopped between the two does not start it twice. The IMAP work is the mail
pack's (the capability ``mail.inbox``): the runner itself speaks no IMAP.
"""

from __future__ import annotations

import logging
import time

from ..errors import BotloomError

log = logging.getLogger(__name__)
DEFAULT_POLL = 60.0


def fire_mail_triggers(service) -> list[str]:
    """Start a run per new message of each due mail schedule; the ids of the runs started."""
    wanted = [s for s in service.schedules.all() if s.kind == "mail" and not s.paused]
    started: list[str] = []
    now = time.monotonic()
    last_poll = service.mail_polls  # schedule id -> when it was last polled (the service's own)
    for sched in wanted:
        every = float(sched.spec.get("poll") or service.settings.get("service.mail_poll_seconds", DEFAULT_POLL))
        if now - last_poll.get(sched.id, -1e9) < every:
            continue
        last_poll[sched.id] = now
        try:
            started += _fire(service, sched)
        except BotloomError as exc:  # the server is down, the login refused: said once per poll, tried again
            log.warning("mail trigger %s: %s", sched.name, exc.message)
            service.schedules.record_fire(sched.id, None, "refused", exc.message)
        except Exception as exc:  # noqa: BLE001 - one schedule's trouble must not stop the due job
            log.warning("mail trigger %s: %s: %s", sched.name, type(exc).__name__, exc)
    return started


def _fire(service, sched) -> list[str]:
    from ..sdk import Secret, capability

    Inbox = capability("mail.inbox", purpose="mail triggers", install="pip install 'botloom[mail]'")
    name = sched.spec.get("secret")
    password = Secret(name, service.runner.secrets.get) if name else None
    inbox = Inbox(sched.spec, password)
    done = {f.get("detail") for f in service.schedules.fires(sched.id, limit=5000) if f.get("outcome") == "started"}
    started = []
    for msg in inbox.new_messages():
        key = f"mail {msg['message_id'] or sched.spec.get('folder', 'INBOX') + ' uid ' + msg['uid']}"
        if key not in done:
            if not sched.overlap and service.dispatcher.busy_with(schedule_id=sched.id):
                break  # the next poll starts it
            request = service.start_run(sched.bot, {**sched.inputs, sched.spec.get("input") or "message": msg},
                                        trigger=f"mail:{sched.name}", schedule_id=sched.id)
            service.schedules.record_fire(sched.id, None, "started", key, run_id=request.run_id)
            started.append(request.run_id)
        inbox.take(msg["uid"])
    return started
