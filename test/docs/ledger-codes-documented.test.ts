import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { LEDGER_CODES } from "../../src/core/ledger/ledger-codes.ts";
import { LEDGER_STORE_ERROR_CODES } from "../../src/ledger/ledger-store-error.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "ledger.md"),
  "utf8",
);
const section = DOC.slice(DOC.indexOf("## Result codes"));
const documented = new Map(
  [...section.matchAll(/^\| `([a-z_]+)` \| (.+?) \|$/gm)].map((match) => [
    match[1]!,
    match[2]!.trim(),
  ]),
);

describe("docs/reference/ledger.md", () => {
  test("documents every ledger code with a description", () => {
    const undocumented = Object.keys(LEDGER_CODES).filter(
      (code) => (documented.get(code) ?? "").length < 10,
    );
    expect(undocumented).toEqual([]);
  });

  test("documents every store error code", () => {
    const storeSection = DOC.slice(DOC.indexOf("## Store errors"), DOC.indexOf("## Result codes"));
    const missing = Object.keys(LEDGER_STORE_ERROR_CODES).filter(
      (code) => !storeSection.includes(`| \`${code}\` |`),
    );
    expect(missing).toEqual([]);
  });

  test("documents no code the catalog does not have", () => {
    expect([...documented.keys()].filter((code) => !Object.hasOwn(LEDGER_CODES, code))).toEqual([]);
  });
});
