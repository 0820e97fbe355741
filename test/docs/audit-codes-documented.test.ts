import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { AUDIT_LOG_STORE_ERROR_CODES } from "../../src/control/audit-log.ts";
import { AUDIT_ACTIONS } from "../../src/core/audit/audit-actions.ts";
import { AUDIT_PROBLEM_CODES } from "../../src/core/audit/audit-chain-verifier.ts";
import { AUDIT_REFUSAL_CODES } from "../../src/core/audit/audit-entry.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "audit-log.md"),
  "utf8",
);

/** The `| \`code\` | description |` rows of the section under `heading`, up to the next heading. */
function documentedIn(heading: string): Map<string, string> {
  const start = DOC.indexOf(`\n${heading}\n`);
  expect(start, `${heading} in audit-log.md`).toBeGreaterThan(-1);
  const rest = DOC.slice(start + heading.length + 2);
  const section = rest.slice(0, rest.search(/\n#{2,3} /) + 1 || undefined);
  return new Map(
    [...section.matchAll(/^\| `([a-z_.]+)` \| (.+?) \|$/gm)].map((match) => [
      match[1]!,
      match[2]!.trim(),
    ]),
  );
}

const CATALOGS: [string, Record<string, string>][] = [
  ["## Actions", AUDIT_ACTIONS],
  ["### Refusal codes", AUDIT_REFUSAL_CODES],
  ["### Store errors", AUDIT_LOG_STORE_ERROR_CODES],
  ["### Problem codes", AUDIT_PROBLEM_CODES],
];

describe("docs/reference/audit-log.md", () => {
  for (const [heading, catalog] of CATALOGS) {
    test(`documents every code of ${heading.replace(/#+ /, "")} with a description, and no other`, () => {
      const documented = documentedIn(heading);
      const undocumented = Object.keys(catalog).filter(
        (code) => (documented.get(code) ?? "").length < 10,
      );
      expect(undocumented).toEqual([]);
      expect([...documented.keys()].filter((code) => !Object.hasOwn(catalog, code))).toEqual([]);
    });
  }
});
