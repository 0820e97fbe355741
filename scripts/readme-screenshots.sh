#!/usr/bin/env bash
# Makes the README's pictures of the console (docs/images/console-*.png) the way the end-to-end
# test sees the pages: a CJK font first (the examples' display texts are Chinese; without one
# Chromium draws empty boxes), then test/e2e/console.test.ts against a real `bursar serve --demo`,
# whose first-screen screenshots of the change review and an incident are copied here. Figures
# differ from run to run (the demo's clock is the wall clock's), so the pictures are not checked
# in a test; run this when the pages change.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ARTIFACTS="$ROOT/test-artifacts/e2e"
IMAGES="$ROOT/docs/images"

bash "$ROOT/scripts/ensure-cjk-fonts.sh"
bash "$ROOT/scripts/ensure-chromium.sh"
rm -f "$ARTIFACTS"/readme-*.png
(cd "$ROOT" && npx vitest run test/e2e/console.test.ts)
mkdir -p "$IMAGES"
for name in change-review incident; do
  source="$ARTIFACTS/readme-$name.png"
  if [ ! -s "$source" ]; then
    echo "[readme-screenshots] the end-to-end test wrote no $source" >&2
    exit 1
  fi
  cp "$source" "$IMAGES/console-$name.png"
  echo "[readme-screenshots] docs/images/console-$name.png ($(wc -c <"$source") bytes)"
done
