import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { CHECKED_SUBSIDY_CODES } from "../../src/core/ledger/checked-subsidy-codes.ts";
import { LIMIT_REFUSAL_CODES } from "../../src/core/ledger/ledger-codes.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "guard-mode-ledger.md"),
  "utf8",
);
const section = DOC.slice(DOC.indexOf("## Result codes"), DOC.indexOf("## Tests"));
const documented = new Map(
  [...section.matchAll(/^\| `([a-z_.]+)` \| (.+?) \|$/gm)].map((match) => [
    match[1]!,
    match[2]!.trim(),
  ]),
);

describe("docs/reference/guard-mode-ledger.md", () => {
  test("documents every code of the ledger of checked subsidies, in the catalog's order, and no other", () => {
    const undocumented = Object.keys(CHECKED_SUBSIDY_CODES).filter(
      (code) => (documented.get(code) ?? "").length < 10,
    );
    expect(undocumented).toEqual([]);
    expect([...documented.keys()]).toEqual(Object.keys(CHECKED_SUBSIDY_CODES));
  });

  test("every limit the ledger refuses with has its ledger.* code", () => {
    const missing = LIMIT_REFUSAL_CODES.filter(
      (code) => !Object.hasOwn(CHECKED_SUBSIDY_CODES, `ledger.${code}`),
    );
    expect(missing).toEqual([]);
  });
});
