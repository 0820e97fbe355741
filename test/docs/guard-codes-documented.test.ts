import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { BREAKER_ACTIONS, BREAKER_TRANSITIONS } from "../../src/core/guard/breaker-lifecycle.ts";
import { DEFAULT_GUARD_POLICY, GUARD_TRIP_CODES } from "../../src/core/guard/guard-monitors.ts";
import { VELOCITY_TRIP_CODES } from "../../src/core/guard/spend-velocity-monitor.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "guard.md"),
  "utf8",
);

describe("docs/reference/guard.md", () => {
  test("documents every trip code with its description and an example", () => {
    expect(Object.keys(GUARD_TRIP_CODES)).toEqual(
      expect.arrayContaining(Object.keys(VELOCITY_TRIP_CODES)),
    );
    for (const [code, description] of Object.entries(GUARD_TRIP_CODES)) {
      expect(DOC).toMatch(
        new RegExp(
          `^\\| \`${escapeRegExp(code)}\` \\| ${escapeRegExp(description)} \\| [^|]+ \\|$`,
          "m",
        ),
      );
    }
  });

  test("the policy table gives every default of the guard's policy", () => {
    const { velocity, ...rest } = DEFAULT_GUARD_POLICY;
    const defaults = { ...rest, ...prefixed("velocity.", velocity) };
    for (const [name, value] of Object.entries(defaults)) {
      const row = DOC.match(new RegExp(`^\\| \`${escapeRegExp(name)}\` \\| ([^|]+) \\|`, "m"));
      expect(row?.[1]?.trim().replaceAll(",", ""), name).toBe(String(value));
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

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function prefixed(prefix: string, values: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [prefix + name, value]));
}
