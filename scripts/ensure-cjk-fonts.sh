#!/usr/bin/env bash
# Makes sure a CJK font is installed, so screenshots of the console (the README's images) show
# the examples' Chinese display texts (线上付款立减0.5元) instead of empty boxes. Chromium draws
# with the system's fonts and the console bundles none (ADR 0022). Installs Debian's
# fonts-noto-cjk with apt-get when fontconfig knows no CJK font (root, as on CI); exits non-zero
# with the reason when it cannot. Safe to run again: it does nothing when a CJK font is there.
set -uo pipefail

say() { printf '[ensure-cjk-fonts] %s\n' "$*" >&2; }

has_cjk_font() {
  command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh-cn family | grep -q .
}

if has_cjk_font; then
  exit 0
fi
say "installing Debian's fonts-noto-cjk (about 60 MB)"
bash "$(dirname "$0")/apt-install.sh" fonts-noto-cjk || exit 1
if ! has_cjk_font; then
  say "fonts-noto-cjk was installed but fontconfig still knows no font for Chinese"
  exit 1
fi
say "installed: $(fc-list :lang=zh-cn family | head -1)"
