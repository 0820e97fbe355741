import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { BREAKER_ACTIONS, BREAKER_TRANSITIONS } from "../../src/core/guard/breaker-lifecycle.ts";
import { VELOCITY_TRIP_CODES } from "../../src/core/guard/spend-velocity-monitor.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "guard.md"),
  "utf8",
);

describe("docs/reference/guard.md", () => {
  test("documents every trip code with its description", () => {
    for (const [code, description] of Object.entries(VELOCITY_TRIP_CODES)) {
      expect(DOC).toContain(`| \`${code}\` | ${description} |`);
    }
  });

  test("the breaker table names the states each action starts from", () => {
    for (const action of BREAKER_ACTIONS) {
      const row = DOC.match(new RegExp(`^\\| \`${action}\` \\| ([^|]+) \\|`, "m"));
      expect(row?.[1]?.split(",").map((state) => state.trim())).toEqual([
        ...BREAKER_TRANSITIONS[action].from,
      ]);
    }
  });
});
