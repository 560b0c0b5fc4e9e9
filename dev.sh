#!/usr/bin/env bash
# Botloom's one entry point for a fresh checkout (Debian/Ubuntu, Python 3.11+).
#   ./dev.sh start   set everything up, then open the designer (or, without a display,
#                    run the sample bot headless)
#   ./dev.sh test    set everything up, then run the whole test suite (CI runs this)
#   ./dev.sh bench   set everything up, then run the benchmarks
# Set-up is idempotent: a virtual environment in .venv, reinstalled when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1mdev.sh:\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*"; exit 1; fi
}

apt_install() {
  command -v apt-get >/dev/null || { say "please install: $*"; exit 1; }
  say "installing system packages: $*"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

find_python() {
  for py in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
    [ -n "$py" ] && command -v "$py" >/dev/null || continue
    if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then echo "$py"; return; fi
  done
  say "Botloom needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)"; exit 1
}

setup() {
  local py stamp
  py=$(find_python)
  if [ ! -x .venv/bin/python ]; then
    if ! "$py" -m venv .venv 2>/dev/null; then
      rm -rf .venv
      local ver; ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      apt_install "python${ver}-venv" || apt_install python3-venv
      "$py" -m venv .venv
    fi
  fi
  stamp=".venv/.botloom-installed-$(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    say "installing Botloom and its test tools into .venv"
    .venv/bin/python -m pip install -q -e '.[dev]'
    rm -f .venv/.botloom-installed-*
    touch "$stamp"
  fi
}

cmd=${1:-start}
shift || true
case "$cmd" in
  start) setup; exec .venv/bin/botloom start "$@" ;;
  test)  setup; exec .venv/bin/python -m pytest -q "$@" ;;
  bench) setup; exec .venv/bin/python benchmarks/engine.py "$@" ;;
  setup) setup ;;
  *) say "usage: ./dev.sh start|test|bench|setup"; exit 2 ;;
esac
