import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { CHANGE_STORE_ERROR_CODES } from "../../src/control/change-store-error.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "change-store.md"),
  "utf8",
);
const section = DOC.slice(DOC.indexOf("## Store errors"));
const documented = new Map(
  [...section.matchAll(/^\| `([a-z_]+)` \| (.+?) \|$/gm)].map((match) => [
    match[1]!,
    match[2]!.trim(),
  ]),
);

describe("docs/reference/change-store.md", () => {
  test("documents every change store error code with a description", () => {
    const undocumented = Object.keys(CHANGE_STORE_ERROR_CODES).filter(
      (code) => (documented.get(code) ?? "").length < 10,
    );
    expect(undocumented).toEqual([]);
  });

  test("documents no code the catalog does not have", () => {
    expect(
      [...documented.keys()].filter((code) => !Object.hasOwn(CHANGE_STORE_ERROR_CODES, code)),
    ).toEqual([]);
  });

  test("documents both results of a refused write", () => {
    for (const code of ["concurrent_update", "audit_refused"]) {
      expect(DOC).toMatch(new RegExp(`^\\| \`${code}\` \\| .{10,} \\|$`, "m"));
    }
  });
});
