/** docs/reference/api-tokens.md documents every token code, store error and role as written. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { API_TOKEN_STORE_ERROR_CODES } from "../../src/control/api-token-store.ts";
import { API_ROLE_DESCRIPTIONS, changeRolesOf } from "../../src/core/access/api-roles.ts";
import { TOKEN_CODES } from "../../src/core/access/token-codes.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "api-tokens.md"),
  "utf8",
);

describe("docs/reference/api-tokens.md", () => {
  test("documents every token code and store error with its description, and no other", () => {
    const catalog = { ...TOKEN_CODES, ...API_TOKEN_STORE_ERROR_CODES };
    for (const [code, description] of Object.entries(catalog)) {
      expect(DOC).toContain(`| \`${code}\` | ${description} |`);
    }
    const documented = [...DOC.matchAll(/^\| `([a-z_]+)` \| [^|]+ \|$/gm)].map((match) => match[1]);
    expect(documented.filter((code) => !Object.hasOwn(catalog, code!))).toEqual([]);
  });

  test("documents every role with its change role and description", () => {
    for (const [role, description] of Object.entries(API_ROLE_DESCRIPTIONS)) {
      const changeRole = changeRolesOf([role as keyof typeof API_ROLE_DESCRIPTIONS])[0];
      const column = changeRole === undefined ? "—" : `\`${changeRole}\``;
      expect(DOC).toContain(`| \`${role}\` | ${column} | ${description} |`);
    }
  });
});
