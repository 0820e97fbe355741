import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { FINDING_CODES } from "../../src/core/findings.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "finding-codes.md"),
  "utf8",
);

/** Rows of the catalog table: `| \`code\` | severity | meaning |`. */
const documented = new Map(
  [...DOC.matchAll(/^\| `([a-z_.]+)` \| (error|warning) \| (.+?) \|$/gm)].map((match) => [
    match[1]!,
    match[3]!.trim(),
  ]),
);

describe("docs/reference/finding-codes.md", () => {
  test("documents every finding code with a description", () => {
    const undocumented = Object.keys(FINDING_CODES).filter(
      (code) => (documented.get(code) ?? "").length < 10,
    );
    expect(undocumented).toEqual([]);
  });

  test("documents no code the catalog does not have", () => {
    const stale = [...documented.keys()].filter((code) => !Object.hasOwn(FINDING_CODES, code));
    expect(stale).toEqual([]);
  });
});
