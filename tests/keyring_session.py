"""Run commands inside a throw-away D-Bus session with gnome-keyring, as an unattended VM does.

Executed as ``dbus-run-session -- python keyring_session.py SPEC OUT``: the keyring lives in
the spec's HOME (never the user's), is unlocked with the spec's password (or left locked
when ``unlock`` is null), then each step's argv runs with its standard input; the exit codes
and outputs go to OUT as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main(spec_path: str, out_path: str) -> None:
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    os.environ.update(spec["env"])
    if spec.get("unlock") is not None:
        subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets"], input=spec["unlock"].encode(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=30)
    started = subprocess.run(["gnome-keyring-daemon", "--start", "--components=secrets"], capture_output=True,
                             text=True, check=True, timeout=30)
    for line in started.stdout.splitlines():
        key, _, value = line.partition("=")
        if key and value:
            os.environ[key] = value
    results = []
    for step in spec["steps"]:
        proc = subprocess.run(step["argv"], input=step.get("input"), capture_output=True, text=True, timeout=120)
        results.append({"argv": step["argv"], "code": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr})
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
