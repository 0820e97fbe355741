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
say "installing Debian's chromium (about 30 s)"
bash "$(dirname "$0")/apt-install.sh" chromium || exit 1
if [ ! -x "$CHROMIUM" ]; then
  say "chromium was installed but $CHROMIUM is not there"
  exit 1
fi
say "installed: $("$CHROMIUM" --version 2>/dev/null || echo unknown version)"
