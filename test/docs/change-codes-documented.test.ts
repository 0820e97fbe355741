import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { CHANGE_CODES } from "../../src/core/change/change-codes.ts";
import { CHANGE_ACTIONS, CHANGE_TRANSITIONS } from "../../src/core/change/change-lifecycle.ts";
import { RISK_REASONS } from "../../src/core/change/change-risk.ts";
import { ROLLOUT_VERDICTS } from "../../src/core/change/rollout.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "changes.md"),
  "utf8",
);

/** The first cell of every table row that starts with a code in backticks, with the row's last cell. */
const rows = new Map(
  [...DOC.matchAll(/^\| `([a-z_]+)` \|(?:.*\|)? (.+?) \|$/gm)].map((match) => [
    match[1]!,
    match[2]!,
  ]),
);

describe("docs/reference/changes.md", () => {
  test.each([
    ["result codes", Object.keys(CHANGE_CODES)],
    ["risk reasons", Object.keys(RISK_REASONS)],
    ["rollout verdicts", Object.keys(ROLLOUT_VERDICTS)],
    ["lifecycle actions", [...CHANGE_ACTIONS]],
  ])("documents every one of the %s", (_catalog, codes) => {
    expect(codes.filter((code) => (rows.get(code) ?? "").length < 5)).toEqual([]);
  });

  test("the lifecycle table names the states each action starts from", () => {
    for (const action of CHANGE_ACTIONS) {
      const row = DOC.match(new RegExp(`^\\| \`${action}\` \\| ([^|]+) \\|`, "m"));
      expect(row?.[1]?.split(",").map((state) => state.trim())).toEqual([
        ...CHANGE_TRANSITIONS[action].from,
      ]);
    }
  });

  test("the risk table says which reasons are high-risk", () => {
    for (const [code, reason] of Object.entries(RISK_REASONS)) {
      const row = DOC.match(new RegExp(`^\\| \`${code}\` \\| (yes|no) \\|`, "m"));
      expect(row?.[1]).toBe(reason.highRisk ? "yes" : "no");
    }
  });
});
