import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { SAMPLE_LOG_CODES } from "../../src/control/payment-sample-log.ts";
import { SIMULATION_FLAG_CODES } from "../../src/core/simulation/simulation-flags.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "simulate.md"),
  "utf8",
);

/** `| \`code\` | description |` rows of the section that starts at `heading`. */
function documentedIn(heading: string): Map<string, string> {
  const start = DOC.indexOf(heading);
  if (start < 0) throw new Error(`simulate.md has no section ${heading}`);
  const next = DOC.indexOf("\n## ", start + heading.length);
  const section = DOC.slice(start, next < 0 ? undefined : next);
  return new Map(
    [...section.matchAll(/^\| `([a-z_.]+)` \| (.+?) \|$/gm)].map((match) => [
      match[1]!,
      match[2]!.trim(),
    ]),
  );
}

describe("docs/reference/simulate.md", () => {
  test("documents every flag code with its catalog description, and no other", () => {
    const documented = documentedIn("## Flags");
    expect(Object.fromEntries(documented)).toEqual(SIMULATION_FLAG_CODES);
  });

  test("documents every sample-log code with its catalog description, and no other", () => {
    const documented = documentedIn("## The payment sample log");
    expect(Object.fromEntries(documented)).toEqual(SAMPLE_LOG_CODES);
  });
});
