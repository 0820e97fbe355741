#!/usr/bin/env bash
# Installs Debian packages with apt-get, for the scripts that make sure a test's tool is there
# (ensure-chromium.sh, ensure-cjk-fonts.sh, .ci/run's PostgreSQL): root only (as on CI and
# developers' machines), and a fresh package list only when the first try fails (without one
# apt-get may not know the package, or only an old version of it). Exits non-zero with the reason
# when it cannot. Usage: bash scripts/apt-install.sh PACKAGE...
set -uo pipefail

say() { printf '[apt-install] %s\n' "$*" >&2; }

if [ "$#" -eq 0 ]; then
  say "usage: bash scripts/apt-install.sh PACKAGE..."
  exit 2
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "apt-get is not available: install $* by other means"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  say "installing $* needs root: run 'sudo apt-get install -y $*'"
  exit 1
fi
if ! apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; then
  apt-get update >/dev/null 2>&1 || say "apt-get update failed"
  if ! apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; then
    say "apt-get install $* failed"
    exit 1
  fi
fi
