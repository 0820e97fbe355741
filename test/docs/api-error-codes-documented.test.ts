import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { API_ERROR_CODES } from "../../src/server/api-errors.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "http-api.md"),
  "utf8",
);
const section = DOC.slice(DOC.indexOf("## Errors"), DOC.indexOf("## Payments"));
const documented = new Map(
  [...section.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| (.+?) \|$/gm)].map((match) => [
    match[1]!,
    { status: Number(match[2]), description: match[3]!.trim() },
  ]),
);

describe("docs/reference/http-api.md", () => {
  test("documents every API error code with its status and a description", () => {
    const wrong = Object.entries(API_ERROR_CODES).filter(([code, entry]) => {
      const row = documented.get(code);
      return row === undefined || row.status !== entry.status || row.description.length < 10;
    });
    expect(wrong.map(([code]) => code)).toEqual([]);
  });

  test("documents no code the catalog does not have", () => {
    expect([...documented.keys()].filter((code) => !Object.hasOwn(API_ERROR_CODES, code))).toEqual(
      [],
    );
  });
});
