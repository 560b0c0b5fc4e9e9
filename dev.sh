#!/usr/bin/env bash
# Botloom's one entry point for a fresh checkout (Debian/Ubuntu, Python 3.11+).
#   ./dev.sh start   set everything up, then open the designer (or, without a display,
#                    run the sample bot headless)
#   ./dev.sh test    set everything up, then run the whole test suite (CI runs this)
#   ./dev.sh bench   set everything up, then run the benchmarks
# Set-up is idempotent: system packages listed in installer/apt/*.txt (installed when missing;
# needs root or sudo), a virtual environment in .venv with every extra, and the steps in
# installer/setup.d/*.sh; redone when any of those files change.
set -euo pipefail
shopt -s nullglob
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

system_packages() {
  local wanted missing=() pkg lists=(installer/apt/*.txt)
  [ ${#lists[@]} -gt 0 ] || return 0
  wanted=$(sed 's/#.*//' "${lists[@]}" | tr -s ' \n' '\n' | sort -u)
  for pkg in $wanted; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

setup() {
  local py stamp
  py=$(find_python)
  if command -v dpkg-query >/dev/null; then system_packages; fi
  if [ ! -x .venv/bin/python ]; then
    if ! "$py" -m venv .venv 2>/dev/null; then
      rm -rf .venv
      local ver; ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      apt_install "python${ver}-venv" || apt_install python3-venv
      "$py" -m venv .venv
    fi
  fi
  stamp=".venv/.botloom-installed-$(cat pyproject.toml installer/setup.d/*.sh | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    say "installing Botloom, every extra and the test tools into .venv"
    .venv/bin/python -m pip install -q -e '.[dev,designer,browser,desktop,ocr,ai,service]'
    local step
    for step in installer/setup.d/*.sh; do
      [ -f "$step" ] || continue
      say "set-up step $step"
      PIP=".venv/bin/python -m pip" PYTHON=.venv/bin/python bash "$step"
    done
    rm -f .venv/.botloom-installed-*
    touch "$stamp"
  fi
}

cmd=${1:-start}
shift || true
case "$cmd" in
  start) setup; exec .venv/bin/botloom start "$@" ;;
  test)  setup; exec .venv/bin/python -m pytest -q "$@" ;;
  bench) setup
         status=0
         for b in benchmarks/*.py; do
           case "$(basename "$b")" in _*) continue ;; esac
           say "benchmark $b"; .venv/bin/python "$b" "$@" || status=1
         done
         exit $status ;;
  setup) setup ;;
  *) say "usage: ./dev.sh start|test|bench|setup"; exit 2 ;;
esac
