import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { CLAMP_BOUNDS, PROPOSAL_CHECK_CODES } from "../../src/core/guard/proposal-check-codes.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "guard-mode.md"),
  "utf8",
);

function documentedIn(heading: string, nextHeading: string): Map<string, string> {
  const section = DOC.slice(DOC.indexOf(heading), DOC.indexOf(nextHeading));
  return new Map(
    [...section.matchAll(/^\| `([a-z_.]+)` \| (.+?) \|$/gm)].map((match) => [
      match[1]!,
      match[2]!.trim(),
    ]),
  );
}

const codes = documentedIn("## Result codes", "## Clamp bounds");
const bounds = documentedIn("## Clamp bounds", "## External campaigns");

describe("docs/reference/guard-mode.md", () => {
  test("documents every guard mode code with a description, in the catalog's order", () => {
    const undocumented = Object.keys(PROPOSAL_CHECK_CODES).filter(
      (code) => (codes.get(code) ?? "").length < 10,
    );
    expect(undocumented).toEqual([]);
    expect([...codes.keys()]).toEqual(Object.keys(PROPOSAL_CHECK_CODES));
  });

  test("documents every clamp bound", () => {
    expect([...bounds.keys()].sort()).toEqual(Object.keys(CLAMP_BOUNDS).sort());
    for (const description of bounds.values()) expect(description.length).toBeGreaterThan(10);
  });
});
