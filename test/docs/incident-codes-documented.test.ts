import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { INCIDENT_TIMELINE_KINDS, REMEDIATION_DECISIONS } from "../../src/core/guard/incident.ts";
import { INCIDENT_CODES } from "../../src/core/guard/incident-codes.ts";
import { INCIDENT_ACTIONS, INCIDENT_TRANSITIONS } from "../../src/core/guard/incident-lifecycle.ts";
import { INCIDENT_EVENT_TYPES } from "../../src/core/guard/incident-notification.ts";
import { INCIDENT_STORE_ERROR_CODES } from "../../src/guard/incident-store.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "incidents.md"),
  "utf8",
);

describe("docs/reference/incidents.md", () => {
  test.each([
    ["result codes", INCIDENT_CODES],
    ["store errors", INCIDENT_STORE_ERROR_CODES],
    ["notification events", INCIDENT_EVENT_TYPES],
  ])("documents every one of the %s with its description", (_catalog, catalog) => {
    const missing = Object.entries(catalog).filter(
      ([code, description]) => !DOC.includes(`| \`${code}\` | ${description} |`),
    );
    expect(missing.map(([code]) => code)).toEqual([]);
  });

  test("the timeline table names every kind, whether it is recordable, and the keys it requires", () => {
    for (const [kind, definition] of Object.entries(INCIDENT_TIMELINE_KINDS)) {
      const requires =
        definition.requires.length === 0
          ? "—"
          : definition.requires.map((key: string) => `\`${key}\``).join(", ");
      expect(DOC).toContain(
        `| \`${kind}\` | ${definition.recordable ? "yes" : "no"} | ${requires} | ${definition.description} |`,
      );
    }
  });

  test("the lifecycle table names the states each action starts from", () => {
    for (const action of INCIDENT_ACTIONS) {
      const row = DOC.match(new RegExp(`^\\| \`${action}\` \\| ([^|]+) \\|`, "m"));
      expect(row?.[1]?.split(",").map((state) => state.trim())).toEqual([
        ...INCIDENT_TRANSITIONS[action].from,
      ]);
    }
  });

  test("remediation is absorb only, and the docs say there is no pay-back option", () => {
    expect(REMEDIATION_DECISIONS).toEqual(["absorb"]);
    expect(DOC).toContain('no "ask users to pay back" option');
  });
});
