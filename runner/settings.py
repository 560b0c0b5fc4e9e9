"""User settings in ``settings.json`` in the data folder (``botloom config`` reads and writes it)."""

from __future__ import annotations

import json
import os
from typing import Any

from . import paths
from .errors import BotloomError


class SettingsError(BotloomError):
    exit_code = 2

# The one list of settings: a value set with `botloom config` takes the type of its default
# (float for seconds, so "0.5" is accepted). docs/cli.md lists them all.
DEFAULTS: dict[str, Any] = {
    "logs.retention_days": 30,
    "logs.max_runs": 1000,
    "logs.max_mb": 2048,  # logs and artifacts together; the oldest runs' go first (0: no limit)
    "logs.level": "info",
    # the runner service (runner/server/): `botloom runner serve`
    "service.host": "127.0.0.1",  # the control API binds only a loopback address
    "service.port": 8765,  # 0 picks a free one
    "service.max_runs": 4,  # runs at once; the rest wait in the queue
    "service.browser_runs": 2,
    "service.document_runs": 2,
    "service.time_limit": 0.0,  # seconds a run may take when its bot says nothing (0: no limit)
    "service.stop_grace": 10.0,  # seconds a run told to stop has before it is killed
    "service.shutdown_grace": 30.0,  # seconds running runs have to finish at a shutdown
    "service.max_recoveries": 3,  # crashed runs resumed at most this many times in a row
    "service.due_seconds": 2.0,  # how often suspended runs whose timer is due are looked for
    "service.mail_poll_seconds": 60.0,  # how often mail schedules look for new messages
    "service.virtual_display": "auto",  # auto, always, never (runner/server/display.py)
    "service.retention_seconds": 3600.0,  # how often the service applies the logs.* retention
    # fleet mode (runner/fleet/, docs/fleet.md): the service as a runner of a Temporal fleet
    "service.fleet": "",  # HOST:PORT of the Temporal frontend ("": not in fleet mode); --fleet
    "service.fleet_namespace": "default",
    "service.fleet_labels": "",  # this machine's capabilities, comma-separated: desktop,browser,ocr
    "service.fleet_tls": False,  # TLS with the system's CA certificates
    "service.fleet_tls_ca": "",  # PEM file of the CA that signed the server's certificate
    "service.fleet_tls_cert": "",  # PEM files of this runner's client certificate and key (mutual TLS)
    "service.fleet_tls_key": "",
    "service.fleet_tls_server_name": "",
    "ocr.engine": "auto",  # rapidocr, easyocr, tesseract; auto: rapidocr
    "secrets.backend": "auto",  # secret-service, encrypted-file, keyring, environment (runner/secret_backends.py)
    "secrets.plaintext": "refuse",  # allow: accept a keyring backend that keeps secrets as plain text
    # operations insight (runner/insight/, docs/insight.md); a bot's settings.roi / settings.alerts override them
    "roi.manual_minutes": 0.0,  # minutes a person takes for one item by hand
    "roi.hourly_cost": 0.0,  # cost of an hour of that person's time
    "roi.robot_cost_per_hour": 0.0,  # cost of an hour of robot time
    "roi.review_cost": 0.0,  # cost of one human intervention (a review, an answered signal)
    "alerts.failure_rate": 0.0,  # warn above this share of failed runs (0.2 = 20 %; 0: off)
    "alerts.p95_seconds": 0.0,  # warn when a bot's run P95 latency is above this (0: off)
    "alerts.drift_score": 0.0,  # warn when a model's drift score is above this (0: off)
    "alerts.queue_length": 0,  # warn when more runs than this wait in the service's queue (0: off)
    "alerts.review_backlog": 0,  # warn when more review tasks than this are open (0: off)
    "alerts.window_hours": 24.0,  # the figures alerts look at: runs started in the last hours
    "alerts.start_bot": "",  # a bot file the service starts when an alert is raised (e.g. one that sends a mail)
    "alerts.check_seconds": 300.0,  # how often the service checks the alerts
    "tracing.exporter": "",  # otlp or console: OpenTelemetry spans of every run (OTEL_* variables win)
}

CHOICES: dict[str, tuple[str, ...]] = {
    "logs.level": ("debug", "info", "warning", "error"),
    "service.virtual_display": ("auto", "always", "never"),
    "tracing.exporter": ("", "otlp", "console"),
}


def _file(base=None):
    return (base or paths.home()) / "settings.json"


def load(base=None) -> dict[str, Any]:
    """The settings of the data folder ``base`` (the default one when None), over the defaults."""
    values = dict(DEFAULTS)
    f = _file(base)
    if f.exists():
        try:
            values.update(json.loads(f.read_text(encoding="utf-8")))
        except (ValueError, OSError) as exc:
            raise SettingsError(f"cannot read the settings: {exc}", where=str(f),
                               fix="correct the JSON, or delete the file to return to the defaults") from None
    return values


def get(key: str) -> Any:
    return load().get(key)


def set(key: str, value: str) -> Any:
    if key not in DEFAULTS:
        raise SettingsError(f"unknown setting '{key}'", fix=f"settings: {', '.join(DEFAULTS)}")
    default = DEFAULTS[key]
    try:
        typed = type(default)(value) if not isinstance(default, str) else value
    except ValueError:
        kind = {int: "a whole number", float: "a number"}.get(type(default), type(default).__name__)
        raise SettingsError(f"setting '{key}' takes {kind}, got {value!r}", fix=f"e.g. botloom config {key} {default}") \
            from None
    if key in CHOICES and typed not in CHOICES[key]:
        raise SettingsError(f"setting '{key}' is one of {', '.join(CHOICES[key])}, not {value!r}")
    current = {k: v for k, v in load().items() if k in DEFAULTS and v != DEFAULTS[k]}
    current[key] = typed
    tmp = _file().with_suffix(".tmp")
    with paths.private_open(tmp, "w", encoding="utf-8") as f:  # 0600, like everything in the data folder
        f.write(json.dumps(current, indent=2) + "\n")
    os.replace(tmp, _file())
    from .audit import record

    record("setting_changed", key=key, value=typed)  # settings decide security (secrets.plaintext): kept in the trail
    return typed
