#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the console's end-to-end tests
# (test/e2e). Playwright's own browser download cannot be reached here, so the tests drive the
# distribution's build. Installs it with apt-get when missing (root, as on CI and developers'
# machines); exits non-zero with the reason when it cannot, so the tests fail loudly instead of
# skipping. Safe to run again: it does nothing when the browser is there.
set -uo pipefail

CHROMIUM=/usr/bin/chromium
say() { printf '[ensure-chromium] %s\n' "$*" >&2; }

if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "$CHROMIUM is missing and apt-get is not available: install Debian's chromium package by other means"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  say "$CHROMIUM is missing and installing it needs root: run 'sudo apt-get install -y chromium'"
  exit 1
fi
say "installing Debian's chromium (about 30 s)"
# Without a fresh package list apt-get may not know the package, or only an old version of it.
if ! apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; then
  apt-get update >/dev/null 2>&1 || say "apt-get update failed"
  if ! apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; then
    say "apt-get install chromium failed"
    exit 1
  fi
fi
if [ ! -x "$CHROMIUM" ]; then
  say "chromium was installed but $CHROMIUM is not there"
  exit 1
fi
say "installed: $("$CHROMIUM" --version 2>/dev/null || echo unknown version)"
