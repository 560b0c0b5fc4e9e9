"""The systemd unit `botloom runner install-service` writes, and the template in installer/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from botloom.runner.server.install import systemd_unit

ROOT = Path(__file__).resolve().parents[2]


def test_the_installer_template_is_what_install_service_writes():
    written = systemd_unit(Path("/srv/botloom"), system=True, python="/opt/botloom/.venv/bin/python", user="botloom")
    assert (ROOT / "installer" / "systemd" / "botloom-runner.service").read_text(encoding="utf-8") == written


def test_install_service_prints_a_unit_for_this_installation(tmp_path):
    out = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "runner", "install-service", "--print"],
                         capture_output=True, text=True, env={"BOTLOOM_HOME": str(tmp_path / "home"),
                                                              "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert f"Environment=BOTLOOM_HOME={tmp_path / 'home'}" in out.stdout
    assert f"ExecStart={sys.executable} -m botloom.runner.cli runner serve" in out.stdout
    assert "KillSignal=SIGTERM" in out.stdout and "WantedBy=default.target" in out.stdout
