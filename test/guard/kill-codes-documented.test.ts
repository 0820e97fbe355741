/**
 * docs/reference/kill-switch.md documents every kill write code, store error code and kill
 * confirmation outcome as written.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { REASON_CODES } from "../../src/core/evaluator/reason-codes.ts";
import { KILL_WRITE_CODES } from "../../src/core/guard/kill.ts";
import { KILL_CONFIRMATION_CODES } from "../../src/guard/kill-confirmer.ts";
import { KILL_STORE_ERROR_CODES } from "../../src/guard/kill-store.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "kill-switch.md"),
  "utf8",
);

describe("docs/reference/kill-switch.md", () => {
  test("documents every kill write code, store error and confirmation outcome with its description", () => {
    for (const [code, description] of [
      ...Object.entries(KILL_WRITE_CODES),
      ...Object.entries(KILL_STORE_ERROR_CODES),
      ...Object.entries(KILL_CONFIRMATION_CODES),
    ]) {
      expect(DOC).toContain(`| \`${code}\` | ${description} |`);
    }
  });

  test("documents the guard's reason codes as the catalog words them", () => {
    for (const code of ["guard.killed", "guard.snapshot_stale"] as const) {
      expect(DOC).toMatch(
        new RegExp(`\\| \`${code}\` \\| [^|]+ \\| ${escapedForRegExp(REASON_CODES[code])} \\|`),
      );
    }
  });
});

function escapedForRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
