import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { LINT_CODE_LIST, LINT_CODES } from "../../src/core/lint/lint-codes.ts";

const REFERENCE = join(import.meta.dirname, "..", "..", "docs", "reference");
const DOC = readFileSync(join(REFERENCE, "lint.md"), "utf8");

/** Rows of the catalog table: `| [\`code\`](lint/code.md) | severity | meaning |`. */
const rows = new Map(
  [...DOC.matchAll(/^\| \[`([a-z_.]+)`\]\(lint\/\1\.md\) \| (error|warning) \| (.+?) \|$/gm)].map(
    (match) => [match[1]!, { severity: match[2]!, meaning: match[3]!.trim() }],
  ),
);

describe("docs/reference/lint.md and lint/<code>.md", () => {
  test("the table lists every lint code with its severity and a description", () => {
    const wrong = LINT_CODE_LIST.filter((code) => {
      const row = rows.get(code);
      return (
        row === undefined || row.severity !== LINT_CODES[code].severity || row.meaning.length < 10
      );
    });
    expect(wrong).toEqual([]);
  });

  test("the table lists no code the catalog does not have", () => {
    expect([...rows.keys()].filter((code) => !Object.hasOwn(LINT_CODES, code))).toEqual([]);
  });

  test("every code has a page with a bad example and its fix", () => {
    const missing = LINT_CODE_LIST.filter((code) => {
      const page = join(REFERENCE, "lint", `${code}.md`);
      if (!existsSync(page)) return true;
      const text = readFileSync(page, "utf8");
      return (
        !text.startsWith(`# \`${code}\``) || !text.includes("## Bad") || !text.includes("## Fix")
      );
    });
    expect(missing).toEqual([]);
  });
});
