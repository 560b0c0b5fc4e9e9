#!/usr/bin/env bash
# Desktop (Linux): make python-xlib own the `Xlib` package.
# Run by ./dev.sh after `pip install -e '.[...,desktop]'` with $PIP and $PYTHON set. Idempotent.
#
# pyautogui and MouseInfo depend on python3-xlib 0.15, an old fork that installs into the same
# `Xlib` folder as python-xlib 0.33 (which pynput and Botloom's desktop pack ask for). Whichever
# pip installs last wins, file by file; the fork's files fail on a machine without
# ~/.Xauthority and lack fixes of the last ten years. Reinstalling python-xlib puts all of its
# files back. (The desktop pack also points XAUTHORITY at an empty file when none exists.)
set -euo pipefail
PIP=${PIP:-python3 -m pip}
PYTHON=${PYTHON:-python3}

case "$(uname -s)" in Linux) ;; *) exit 0 ;; esac
if $PYTHON - <<'PY' 2>/dev/null
import inspect
from Xlib.support import connect, unix_connect
assert "protocol" in inspect.signature(connect.get_auth).parameters
assert "XauthError" in inspect.getsource(unix_connect.new_get_auth)
PY
then
  echo "xlib.sh: python-xlib owns Xlib"
  exit 0
fi
$PIP install -q --force-reinstall --no-deps "python-xlib>=0.33"
$PYTHON -c "import inspect; from Xlib.support import connect; assert 'protocol' in inspect.signature(connect.get_auth).parameters; print('xlib.sh: python-xlib reinstalled over python3-xlib')"
