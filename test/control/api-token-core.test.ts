/** The API tokens' pure parts (src/core/access/): roles, the text format, the checks. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { API_ROLES, changeRolesOf, isApiRole } from "../../src/core/access/api-roles.ts";
import {
  API_TOKEN_FORMAT,
  apiRolesProblem,
  apiTokenText,
  parseApiTokenText,
  principalIdProblem,
  tokenNameProblem,
} from "../../src/core/access/api-token.ts";
import { ROLES } from "../../src/core/change/change-request.ts";

describe("roles", () => {
  test("every change role is an API role of the same name; payment-service is none", () => {
    expect(changeRolesOf(["payment-service"])).toEqual([]);
    expect(changeRolesOf([...API_ROLES])).toEqual([...ROLES]);
    expect(changeRolesOf(["admin", "payment-service", "author"])).toEqual(["author", "admin"]);
    expect(changeRolesOf(["reviewer", "reviewer"])).toEqual(["reviewer"]);
    for (const role of ROLES) expect(isApiRole(role)).toBe(true);
    expect(isApiRole("toString")).toBe(false);
    expect(isApiRole("root")).toBe(false);
  });
});

describe("the token text", () => {
  test("any id and 32 bytes of secret round-trip through the text, 60 characters long", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 6, maxLength: 6 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (idBytes, secretBytes) => {
          const parts = {
            id: Buffer.from(idBytes).toString("hex"),
            secret: Buffer.from(secretBytes).toString("base64url"),
          };
          const text = apiTokenText(parts);
          expect(text.length).toBe(API_TOKEN_FORMAT.textLength);
          expect(parseApiTokenText(text)).toEqual(parts);
        },
      ),
    );
  });

  test("only canonical base64url of 32 bytes is a secret: any other last character is refused", () => {
    const secret = Buffer.alloc(32, 7).toString("base64url");
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const accepted = [...alphabet].filter(
      (last) =>
        parseApiTokenText(
          apiTokenText({ id: "0".repeat(12), secret: secret.slice(0, 42) + last }),
        ) !== undefined,
    );
    expect(accepted.join("")).toBe("AEIMQUYcgkosw048");
    for (const last of accepted) {
      const bytes = Buffer.from(secret.slice(0, 42) + last, "base64url");
      expect(bytes.toString("base64url")).toBe(secret.slice(0, 42) + last);
    }
  });

  test("arbitrary strings parse only when well formed", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const parts = parseApiTokenText(text);
        if (parts !== undefined) expect(apiTokenText(parts)).toBe(text);
      }),
    );
  });
});

describe("checks", () => {
  test("names: 1-100 characters, not only spaces, no control or format characters", () => {
    for (const good of ["checkout", "x".repeat(100), "日本の決済 🙂", "a  b"]) {
      expect(tokenNameProblem(good), good).toBeUndefined();
    }
    for (const bad of ["", " ", "x".repeat(101), "a\tb", "a\u200Bb", "a\u2028b", "\uD800", 7]) {
      expect(tokenNameProblem(bad)).toMatchObject({ code: "token_name_invalid" });
    }
  });

  test("principal ids: 1-100 of A-Z a-z 0-9 . _ : @ -, starting with a letter or digit", () => {
    for (const good of ["admin", "svc.checkout", "user:alice@example.com", "a".repeat(100)]) {
      expect(principalIdProblem(good), good).toBeUndefined();
    }
    for (const bad of ["", ".x", "a b", "a+b", "a".repeat(101), "é", null]) {
      expect(principalIdProblem(bad)).toMatchObject({ code: "token_principal_invalid" });
    }
  });

  test("roles: a non-empty list of catalog roles without repeats", () => {
    expect(apiRolesProblem(["author", "reviewer"])).toBeUndefined();
    for (const bad of [
      [],
      "admin",
      ["admin", "admin"],
      ["Admin"],
      [undefined],
      Array(7).fill("admin"),
    ]) {
      expect(apiRolesProblem(bad)).toMatchObject({ code: "token_roles_invalid" });
    }
  });
});
