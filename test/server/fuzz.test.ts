/**
 * The server under hostile input: at least 10,000 generated requests (fast-check, seeded so a
 * failure reproduces) against the payment endpoints and control endpoints — wrong types, huge,
 * negative and fractional money, unknown fields, `__proto__` and `constructor` keys, deep nesting,
 * long and unicode strings, invalid JSON and UTF-8, wrong content types, oversize bodies, hostile
 * path and query values. Zero 5xx; every error is `{code, message, details}` with a documented code
 * and no internals; the server still serves afterwards and no prototype was polluted.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  errorBodyProblem,
  exampleOf,
  groceryPayment,
  mapBounded,
  operationsOf,
  paymentTimeClock,
} from "../support/api-calls.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const SEED = 20250116;
const REQUESTS = 10_400;
const CONCURRENCY = 16;
/** Control operations discovered from /openapi.json that are fuzzed besides the tokens'. */
const DISCOVERED_CONTROL_MAX = 6;
const GENEROUS = { perSecond: 1_000_000, burst: 1_000_000 };

/** Where a generated request goes: a method, a path, the token sent and a valid body to spoil. */
interface Target {
  readonly name: string;
  readonly method: "GET" | "POST";
  readonly path: string;
  /** A path with `{id}` for path-parameter fuzzing. */
  readonly pathTemplate?: string;
  readonly token: "payment" | "admin" | "all";
  readonly base: Record<string, unknown> | undefined;
  readonly limitBytes: number;
}

/** A generated request; oversize text is built when sent, so 10,000 cases stay small in memory. */
type Case =
  | { readonly kind: "json-text"; readonly target: number; readonly text: string }
  | {
      readonly kind: "content-type";
      readonly target: number;
      readonly text: string;
      readonly contentType: string;
    }
  | { readonly kind: "oversize"; readonly target: number; readonly factor: number }
  | { readonly kind: "bytes"; readonly target: number; readonly bytes: Uint8Array }
  | { readonly kind: "path"; readonly target: number; readonly segment: string }
  | { readonly kind: "query"; readonly query: string };

/**
 * Every UTF-8 byte percent-encoded, so any generated text makes a URL (`encodeURIComponent` throws
 * on a lone surrogate; UTF-8 writes it as U+FFFD). Raw invalid sequences are generated apart.
 */
function percentEncoded(text: string): string {
  return [...Buffer.from(text, "utf8")]
    .map((byte) => `%${byte.toString(16).padStart(2, "0").toUpperCase()}`)
    .join("");
}

const RAW = "\u0000raw\u0000";
const RAW_QUOTED = JSON.stringify(RAW);

/** JSON text with each RAW marker replaced by a literal JSON cannot say through `stringify`. */
function withRawLiteral(value: unknown, literal: string): string {
  return JSON.stringify(value).replace(RAW_QUOTED, literal);
}

const numberLiterals = fc.constantFrom(
  "1e400",
  "-1e400",
  "123456789012345678901234567890",
  "9007199254740993",
  "-0",
  "0.5",
  "-1",
  "1E2",
  "1.0",
  "0",
  "1e-400",
);

const hostileValues: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1e308, 2 ** 53, 2 ** 53 + 2, -1, 0, 0.5, -0.01, 1e15 + 1, 2 ** 31),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ minLength: 65, maxLength: 3_000 }),
  fc.constantFrom("", " ", "\u0000", "\u202e", "\ud800", "12000", "NaN", "CNY\n", "🙂", "ＣＮＹ"),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

const hostileKeys = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  "__defineGetter__",
  "isAdmin",
);

/** A valid body spoiled in one way, as JSON text. */
function spoiled(base: Record<string, unknown>): fc.Arbitrary<string> {
  const fields = Object.keys(base);
  const field = fields.length > 0 ? fc.constantFrom(...fields) : fc.constant("x");
  return fc.oneof(
    fc
      .tuple(field, hostileValues)
      .map(([name, value]) => JSON.stringify({ ...base, [name]: value })),
    fc
      .tuple(field, numberLiterals)
      .map(([name, literal]) => withRawLiteral({ ...base, [name]: RAW }, literal)),
    field.map((name) => {
      const { [name]: _dropped, ...rest } = base;
      return JSON.stringify(rest);
    }),
    fc
      .tuple(fc.string({ minLength: 1, maxLength: 30 }), hostileValues)
      .map(([name, value]) => JSON.stringify({ ...base, [`extra${name}`]: value })),
    fc
      .tuple(
        hostileKeys,
        fc.constantFrom('{"isAdmin":true}', '{"prototype":{"polluted":1}}', "1", "null"),
      )
      .map(([key, value]) => `{${JSON.stringify(key)}:${value},${JSON.stringify(base).slice(1)}`),
    fc
      .tuple(field, fc.integer({ min: 1, max: 2_000 }))
      .map(([name, depth]) =>
        withRawLiteral({ ...base, [name]: RAW }, `${"[".repeat(depth)}${"]".repeat(depth)}`),
      ),
  );
}

/** Anything JSON or near it, ignoring the endpoint's shape. */
const wildText: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value) ?? "null"),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.constantFrom(
    "",
    "{",
    "}",
    "[",
    "{,}",
    '{"a":1,}',
    "{'a':1}",
    "\ufeff{}",
    "nul",
    "0x10",
    "{}{}",
  ),
  fc
    .integer({ min: 1, max: 3_000 })
    .map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`),
  fc.integer({ min: 1, max: 30_000 }).map((depth) => `${"[".repeat(depth)}${"]".repeat(depth)}`),
);

const contentTypes = fc.constantFrom(
  "text/plain",
  "text/html",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/octet-stream",
  "application/json; charset=utf-16",
  "application/json-patch+json",
  "application/jsonx",
  "APPLICATION/JSON",
  "application/json; charset=latin1",
  "*/*",
);

const invalidUtf8 = fc
  .uint8Array({ minLength: 1, maxLength: 200 })
  .map((bytes) => Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, ...bytes, 0xc0, 0x22, 0x7d]));

describe("fuzzing the server with hostile requests", () => {
  let server: TestServer;
  const tokens = { payment: "", admin: "", all: "" };
  const targets: Target[] = [];

  beforeAll(async () => {
    server = await startTestServer("sqlite", {
      demo: true,
      demoTps: 0,
      wallNowMs: paymentTimeClock(),
      rateLimits: { payment: GENEROUS, control: GENEROUS, unauthenticated: GENEROUS },
    });
    tokens.admin = server.adminToken;
    tokens.payment = await server.tokenFor(["payment-service"]);
    tokens.all = await server.tokenFor([
      "payment-service",
      "author",
      "reviewer",
      "operator",
      "auditor",
      "admin",
    ]);
    const victim = await server.request("POST", "/v1/tokens", {
      token: tokens.admin,
      body: { name: "fuzz victim", principalId: "fuzz.victim", roles: ["auditor"] },
    });
    const victimId = victim.body.record.id as string;
    // An applied and committed payment, so commits and refunds reach the ledger's own checks.
    await server.request("POST", "/v1/payments/apply", {
      token: tokens.payment,
      body: groceryPayment("fuzz-settled"),
    });
    await server.request("POST", "/v1/payments/fuzz-settled/commit", {
      token: tokens.payment,
      body: {},
    });
    const payment = groceryPayment("fuzz-payment");
    targets.push(
      {
        name: "quote",
        method: "POST",
        path: "/v1/payments/quote",
        token: "payment",
        base: payment,
        limitBytes: 8_192,
      },
      {
        name: "apply",
        method: "POST",
        path: "/v1/payments/apply",
        token: "payment",
        base: payment,
        limitBytes: 8_192,
      },
      {
        name: "commit",
        method: "POST",
        path: "/v1/payments/fuzz-settled/commit",
        pathTemplate: "/v1/payments/{id}/commit",
        token: "payment",
        base: { subsidyMinor: 100 },
        limitBytes: 1_024,
      },
      {
        name: "release",
        method: "POST",
        path: "/v1/payments/fuzz-unknown/release",
        pathTemplate: "/v1/payments/{id}/release",
        token: "payment",
        base: {},
        limitBytes: 1_024,
      },
      {
        name: "refund",
        method: "POST",
        path: "/v1/payments/fuzz-settled/refunds",
        pathTemplate: "/v1/payments/{id}/refunds",
        token: "payment",
        base: { refundId: "fuzz-refund", amountMinor: 100 },
        limitBytes: 1_024,
      },
      {
        name: "issue token",
        method: "POST",
        path: "/v1/tokens",
        token: "admin",
        base: { name: "fuzzed", principalId: "fuzz.issued", roles: ["auditor"] },
        limitBytes: 65_536,
      },
      {
        name: "revoke token",
        method: "POST",
        path: `/v1/tokens/${victimId}/revoke`,
        pathTemplate: "/v1/tokens/{id}/revoke",
        token: "admin",
        base: { reason: "fuzz" },
        limitBytes: 65_536,
      },
    );
    const document = await server.request("GET", "/openapi.json");
    const discovered = operationsOf(document.body)
      .filter(
        (operation) =>
          operation.method === "POST" &&
          operation.bodySchema !== undefined &&
          !operation.path.startsWith("/v1/payments") &&
          !operation.path.startsWith("/v1/tokens") &&
          !operation.path.includes("{"),
      )
      .sort((left, right) => left.operationId.localeCompare(right.operationId))
      .slice(0, DISCOVERED_CONTROL_MAX);
    for (const operation of discovered) {
      targets.push({
        name: operation.operationId,
        method: "POST",
        path: operation.path,
        token: "all",
        base: exampleOf(operation.bodySchema ?? {}, "body", 0) as Record<string, unknown>,
        limitBytes: 65_536,
      });
    }
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  function cases(): Case[] {
    const target = fc.integer({ min: 0, max: targets.length - 1 });
    const withPath = targets.flatMap((entry, index) => (entry.pathTemplate ? [index] : []));
    const generated = fc.oneof(
      {
        weight: 45,
        arbitrary: target.chain((index) =>
          spoiled(targets[index]?.base ?? {}).map((text) => ({
            kind: "json-text" as const,
            target: index,
            text,
          })),
        ),
      },
      {
        weight: 15,
        arbitrary: fc.record({ kind: fc.constant("json-text" as const), target, text: wildText }),
      },
      {
        weight: 10,
        arbitrary: fc.record({
          kind: fc.constant("content-type" as const),
          target,
          text: fc.constant(""),
          contentType: contentTypes,
        }),
      },
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant("oversize" as const),
          target,
          factor: fc.double({ min: 1.01, max: 16, noNaN: true }),
        }),
      },
      {
        weight: 6,
        arbitrary: fc.record({ kind: fc.constant("bytes" as const), target, bytes: invalidUtf8 }),
      },
      {
        weight: 10,
        arbitrary: fc.record({
          kind: fc.constant("path" as const),
          target: fc.constantFrom(...withPath),
          // The path segment as sent: generated text percent-encoded, or raw hostile segments.
          segment: fc.oneof(
            fc.string({ unit: "grapheme", maxLength: 80 }).map(percentEncoded),
            fc.string({ minLength: 60, maxLength: 400 }).map(percentEncoded),
            fc.constantFrom(
              "..",
              "..%2F..%2Fetc%2Fpasswd",
              "%00",
              "__proto__",
              "constructor",
              "%20",
              "a%20b",
              "%E0%A4%A",
              "%",
              "%ED%A0%80",
              "%C0%AF",
              "%FF",
            ),
          ),
        }),
      },
      {
        weight: 8,
        arbitrary: fc
          .array(
            fc.tuple(
              fc.oneof(
                fc.constantFrom("limit", "includeRevoked", "__proto__", "limit[]"),
                fc.string({ maxLength: 10 }),
              ),
              hostileValues.map((value) =>
                typeof value === "string" ? value : String(JSON.stringify(value)),
              ),
            ),
            { maxLength: 4 },
          )
          .map((pairs) => ({
            kind: "query" as const,
            query: pairs
              .map(([key, value]) => `${percentEncoded(key)}=${percentEncoded(value)}`)
              .join("&"),
          })),
      },
    );
    return fc.sample(generated, { seed: SEED, numRuns: REQUESTS });
  }

  async function send(
    entry: Case,
  ): Promise<{ status: number; text: string; contentType: string; label: string }> {
    const target = entry.kind === "query" ? undefined : targets[entry.target];
    let path = target?.path ?? `/v1/tokens?${entry.kind === "query" ? entry.query : ""}`;
    let body: string | Uint8Array | undefined;
    let contentType = "application/json";
    const baseText = JSON.stringify(target?.base ?? {});
    switch (entry.kind) {
      case "json-text":
        body = entry.text;
        break;
      case "content-type":
        body = baseText;
        contentType = entry.contentType;
        break;
      case "oversize": {
        const limit = target?.limitBytes ?? 65_536;
        const filler = "x".repeat(Math.ceil(limit * entry.factor));
        body = JSON.stringify({ ...target?.base, filler });
        break;
      }
      case "bytes":
        body = entry.bytes;
        break;
      case "path":
        path = (target?.pathTemplate ?? "/{id}").replace("{id}", entry.segment);
        body = baseText;
        break;
      case "query":
        break;
    }
    const token = tokens[target?.token ?? "admin"];
    const response = await fetch(`${server.url}${path}`, {
      method: target?.method ?? "GET",
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": contentType }),
      },
      ...(body === undefined ? {} : { body }),
    });
    return {
      status: response.status,
      text: await response.text(),
      contentType: response.headers.get("content-type") ?? "",
      label: `${entry.kind} ${target?.name ?? "list tokens"} ${path.slice(0, 120)}`,
    };
  }

  test(`${REQUESTS} hostile requests: no 5xx, every error documented`, async () => {
    const generated = cases();
    expect(generated.length).toBeGreaterThanOrEqual(10_000);
    const statuses = new Map<number, number>();
    const codes = new Map<string, number>();
    const failures: string[] = [];
    const startedMs = Date.now();
    await mapBounded(generated, CONCURRENCY, async (entry) => {
      const answer = await send(entry);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status >= 500)
        failures.push(`${answer.status}: ${answer.label}: ${answer.text.slice(0, 300)}`);
      if (answer.status < 400) return;
      let body: unknown;
      try {
        body = JSON.parse(answer.text);
      } catch {
        failures.push(
          `not JSON (${answer.contentType}): ${answer.label}: ${answer.text.slice(0, 200)}`,
        );
        return;
      }
      const problem = errorBodyProblem(answer.status, body);
      if (problem !== undefined) failures.push(`${problem} — ${answer.label}`);
      const code = (body as { code?: unknown }).code;
      codes.set(String(code), (codes.get(String(code)) ?? 0) + 1);
    });
    const elapsedS = (Date.now() - startedMs) / 1000;
    console.log(
      `fuzz: ${generated.length} requests (seed ${SEED}) to ${targets.map((target) => target.name).join(", ")} in ${elapsedS.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}; codes ${JSON.stringify(Object.fromEntries(codes))}`,
    );
    expect(failures.slice(0, 20)).toEqual([]);
    // The generators reach every kind of refusal; a generator gone blunt fails here.
    for (const code of [
      "body_malformed",
      "body_invalid",
      "body_too_large",
      "unsupported_media_type",
    ]) {
      expect(codes.get(code) ?? 0, code).toBeGreaterThan(20);
    }
  }, 120_000);

  test("the server still serves, and no prototype was polluted", async () => {
    expect((await server.request("GET", "/healthz")).status).toBe(200);
    expect((await server.request("GET", "/readyz")).status).toBe(200);
    const applied = await server.request("POST", "/v1/payments/apply", {
      token: tokens.payment,
      body: groceryPayment("after-fuzz"),
    });
    // Reserved, or nothing granted: a fuzzed kill (`setKill` with a body that happened to be
    // valid) may have killed the campaigns, which is the kill switch doing its work.
    expect(applied.status).toBe(200);
    expect(["reserved", "no_subsidy"]).toContain(applied.body.code);
    // The server runs in this process: a polluted prototype would show here.
    const probe: Record<string, unknown> = {};
    for (const key of ["isAdmin", "polluted", "filler"]) {
      expect(probe[key], key).toBeUndefined();
    }
  });
});
