import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { CAMPAIGN_CHECK_ORDER, REASON_CODES } from "../../src/core/evaluator/reason-codes.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "reason-codes.md"),
  "utf8",
);

const documented = new Map(
  [...DOC.matchAll(/^\| `([a-z_.]+)` \| (payment|campaign|guard) \| (.+?) \|$/gm)].map((match) => [
    match[1]!,
    { level: match[2]!, text: match[3]!.trim() },
  ]),
);

describe("docs/reference/reason-codes.md", () => {
  test("documents every reason code with a description", () => {
    const undocumented = Object.keys(REASON_CODES).filter(
      (code) => (documented.get(code)?.text ?? "").length < 10,
    );
    expect(undocumented).toEqual([]);
  });

  test("documents no code the catalog does not have", () => {
    expect([...documented.keys()].filter((code) => !Object.hasOwn(REASON_CODES, code))).toEqual([]);
  });

  test("lists campaign-level codes in the order the evaluators check them", () => {
    const campaignCodes = [...documented]
      .filter(([, row]) => row.level === "campaign")
      .map(([code]) => code);
    expect(campaignCodes).toEqual([...CAMPAIGN_CHECK_ORDER]);
  });
});
