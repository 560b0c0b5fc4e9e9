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

# What set-up did, for the summary at its end; SECONDS counts from the start of the script.
INSTALLED=()
took() { local s=$(( SECONDS - $1 )); if [ "$s" -ge 60 ]; then echo "$((s / 60))m$((s % 60))s"; else echo "${s}s"; fi; }

# Run a long step, saying every 30 s that it is still at work (and how long so far).
with_heartbeat() {
  local label=$1 start=$SECONDS pid status=0; shift
  "$@" & pid=$!
  while ! wait_for "$pid" 30; do say "  ... still $label ($(took "$start"))"; done
  wait "$pid" || status=$?
  return $status
}
wait_for() {  # true when process $1 ended within $2 seconds
  local i
  for ((i = 0; i < $2; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 1; done
  ! kill -0 "$1" 2>/dev/null
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*"; exit 1; fi
}

apt_install() {
  command -v apt-get >/dev/null || { say "please install: $*"; exit 1; }
  local start=$SECONDS
  say "system packages: installing $# ($*)"
  as_root apt-get update -qq
  with_heartbeat "installing system packages" \
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  say "system packages: $# installed in $(took "$start")"
  INSTALLED+=("system packages: $*")
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
    # one package group at a time, so set-up can say how far it is; the last one has them all
    local groups=(core service designer browser desktop ocr ai fleet dev) steps=(installer/setup.d/*.sh)
    local total=$(( ${#groups[@]} + ${#steps[@]} )) n=0 group extras="" start
    say "installing Botloom into .venv: ${#groups[@]} package groups, then ${#steps[@]} set-up step(s)"
    for group in "${groups[@]}"; do
      n=$((n + 1)); start=$SECONDS
      [ "$group" = core ] || extras="${extras:+$extras,}$group"
      say "[$n/$total] Python packages: $group"
      with_heartbeat "installing the $group packages" \
        .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
      say "[$n/$total] $group done in $(took "$start")"
    done
    local count; count=$(.venv/bin/python -m pip list --format=freeze 2>/dev/null | wc -l)
    INSTALLED+=("Python packages: Botloom with ${extras//,/, } ($count packages in .venv)")
    local step
    for step in "${steps[@]}"; do
      n=$((n + 1)); start=$SECONDS
      say "[$n/$total] set-up step $step"
      with_heartbeat "running $step" env PIP=".venv/bin/python -m pip" PYTHON=.venv/bin/python bash "$step"
      say "[$n/$total] $step done in $(took "$start")"
      INSTALLED+=("set-up step: $step")
    done
    rm -f .venv/.botloom-installed-*
    touch "$stamp"
  fi
  if [ ${#INSTALLED[@]} -gt 0 ]; then
    say "set-up finished in $(took 0):"
    local line
    for line in "${INSTALLED[@]}"; do say "  - $line"; done
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
