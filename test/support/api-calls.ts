/**
 * What the server's cross-cutting tests share: the operations `/openapi.json` lists (so a new
 * route is covered without editing a test), plausible path values and minimal bodies read from
 * its schemas, every code an error may carry, the check of an error's shape, and calls with
 * bounded concurrency.
 */
import { expect } from "vitest";
import { TOKEN_CODES } from "../../src/core/access/token-codes.ts";
import { AUDIT_REFUSAL_CODES } from "../../src/core/audit/audit-entry.ts";
import { CHANGE_CODES } from "../../src/core/change/change-codes.ts";
import { INCIDENT_CODES } from "../../src/core/guard/incident-codes.ts";
import { KILL_WRITE_CODES } from "../../src/core/guard/kill.ts";
import { WEBHOOK_ENDPOINT_CODES } from "../../src/core/guard/webhook-endpoint.ts";
import { LEDGER_CODES } from "../../src/core/ledger/ledger-codes.ts";
import { API_ERROR_CODES } from "../../src/server/api-errors.ts";
import { demoTimeOf } from "../../src/server/demo-clock.ts";
import type { TestServer } from "./server.ts";

/**
 * Refusals of a lifecycle that live beside their transition table rather than in a catalog; each
 * is documented in docs/reference (security-matrix.test.ts checks it).
 */
export const LIFECYCLE_CODES = ["illegal_breaker_transition"] as const;

/**
 * Every code an error body may carry: the API's own, and the domains' documented catalogs a route
 * may answer a refusal with (`ApiError.refusal`).
 */
export const DOCUMENTED_ERROR_CODES: ReadonlySet<string> = new Set([
  ...Object.keys(API_ERROR_CODES),
  ...Object.keys(LEDGER_CODES),
  ...Object.keys(CHANGE_CODES),
  ...Object.keys(KILL_WRITE_CODES),
  ...Object.keys(INCIDENT_CODES),
  ...Object.keys(TOKEN_CODES),
  ...Object.keys(WEBHOOK_ENDPOINT_CODES),
  ...Object.keys(AUDIT_REFUSAL_CODES),
  ...LIFECYCLE_CODES,
]);

/** A stack frame (`    at f (file:1:2)`), a source path or a Node internal: never in an answer. */
const LEAK_PATTERNS = [
  /\n\s+at /,
  /\bat [\w.<>]+ \(/,
  /\/(?:work|home|tmp|usr|src|node_modules)\//,
  /\.ts:\d+/,
  /node:internal/,
];

/** Why an answer's text leaks internals, or undefined. */
export function leakIn(text: string): string | undefined {
  const found = LEAK_PATTERNS.find((pattern) => pattern.test(text));
  return found === undefined ? undefined : `matches ${found}`;
}

/** An error answer is exactly `{code, message, details}` with a documented code and no leaks. */
export function expectDocumentedError(status: number, body: unknown, context: string): void {
  expect(errorBodyProblem(status, body), context).toBeUndefined();
}

/** What is wrong with an error answer, or undefined when it is as the contract says. */
export function errorBodyProblem(status: number, body: unknown): string | undefined {
  const shown = JSON.stringify(body)?.slice(0, 400);
  if (typeof body !== "object" || body === null) return `not a JSON object: ${shown}`;
  const error = body as Record<string, unknown>;
  const keys = Object.keys(error).sort().join(",");
  if (keys !== "code,details,message") return `keys ${keys}, not code,details,message: ${shown}`;
  if (typeof error.code !== "string" || typeof error.message !== "string")
    return `code and message are not strings: ${shown}`;
  if (typeof error.details !== "object" || error.details === null || Array.isArray(error.details))
    return `details is not an object: ${shown}`;
  if (!DOCUMENTED_ERROR_CODES.has(error.code)) return `undocumented code ${error.code}: ${shown}`;
  const apiCode = API_ERROR_CODES[error.code as keyof typeof API_ERROR_CODES];
  if (apiCode !== undefined && apiCode.status !== status)
    return `${error.code} answered with ${status}, documented as ${apiCode.status}`;
  if (status < 400) return `an error body with status ${status}: ${shown}`;
  const leak = leakIn(JSON.stringify(body));
  return leak === undefined ? undefined : `leaks internals (${leak}): ${shown}`;
}

/** One operation of the OpenAPI document. */
export interface Operation {
  readonly method: string;
  /** OpenAPI's template: `/v1/payments/{paymentId}/commit`. */
  readonly path: string;
  readonly operationId: string;
  /** Empty for a public operation. */
  readonly roles: readonly string[];
  readonly isPublic: boolean;
  readonly parameters: readonly {
    name: string;
    in: string;
    required?: boolean;
    schema?: JsonSchema;
  }[];
  readonly bodySchema: JsonSchema | undefined;
}

export interface JsonSchema {
  readonly type?: string | string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly format?: string;
}

const OPERATIONS_MAX = 1_000;

export function operationsOf(document: unknown): Operation[] {
  const paths = (document as { paths?: Record<string, Record<string, Record<string, unknown>>> })
    .paths;
  expect(paths, "the OpenAPI document lists paths").toBeTypeOf("object");
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(paths ?? {})) {
    for (const [method, operation] of Object.entries(methods)) {
      const security = operation.security as unknown[] | undefined;
      const roles = (operation["x-bursar-roles"] as string[] | undefined) ?? [];
      const body = operation.requestBody as
        | { content?: Record<string, { schema?: JsonSchema }> }
        | undefined;
      operations.push({
        method: method.toUpperCase(),
        path,
        operationId: String(operation.operationId),
        roles,
        isPublic: security !== undefined && security.length === 0,
        parameters: (operation.parameters as Operation["parameters"] | undefined) ?? [],
        bodySchema: body?.content?.["application/json"]?.schema,
      });
    }
  }
  expect(operations.length).toBeLessThanOrEqual(OPERATIONS_MAX);
  return operations;
}

/** The path with each `{name}` replaced by `values[name]`, else a plausible value of its schema. */
export function fillPath(
  operation: Operation,
  values: Readonly<Record<string, string>> = {},
): string {
  return operation.path.replace(/\{([A-Za-z]+)\}/g, (_whole, name: string) => {
    const given = values[name];
    if (given !== undefined) return encodeURIComponent(given);
    const schema = operation.parameters.find((parameter) => parameter.name === name)?.schema;
    return encodeURIComponent(String(exampleOf(schema ?? { type: "string" }, name, 0)));
  });
}

/** Deepest schema an example is built for; cyclic or very deep schemas stop here. */
const EXAMPLE_DEPTH_MAX = 8;

/**
 * A small value the schema accepts, where the schema makes that easy (required fields only, the
 * first enum value, the minimum): enough for a handler to be reached, not a full generator.
 */
export function exampleOf(schema: JsonSchema, name: string, depth: number): unknown {
  if (depth > EXAMPLE_DEPTH_MAX) return null;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum !== undefined && schema.enum.length > 0) return schema.enum[0];
  const alternative = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (alternative !== undefined) return exampleOf(alternative, name, depth + 1);
  if (schema.allOf !== undefined && schema.allOf.length > 0) {
    return exampleOf(Object.assign({}, ...schema.allOf) as JsonSchema, name, depth + 1);
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": {
      const example: Record<string, unknown> = {};
      for (const field of schema.required ?? []) {
        const property = schema.properties?.[field];
        example[field] = property === undefined ? null : exampleOf(property, field, depth + 1);
      }
      return example;
    }
    case "array": {
      const count = schema.minItems ?? 0;
      return Array.from({ length: count }, () => exampleOf(schema.items ?? {}, name, depth + 1));
    }
    case "integer":
    case "number":
      return Math.max(schema.minimum ?? 1, Math.min(1, schema.maximum ?? 1));
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return stringExample(schema, name);
  }
}

function stringExample(schema: JsonSchema, name: string): string {
  if (schema.format === "date-time") return "2025-03-05T12:00:00+08:00";
  if (schema.pattern === "^[0-9a-f]{12}$") return "0123456789ab";
  const base = `test-${name.replace(/[^A-Za-z0-9]/g, "").toLowerCase() || "value"}`;
  const minLength = schema.minLength ?? 1;
  const maxLength = schema.maxLength ?? 64;
  return base.padEnd(minLength, "x").slice(0, Math.max(minLength, Math.min(maxLength, 64)));
}

/** Runs `work` over `items`, at most `concurrency` at a time; the results in the items' order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** A Wednesday noon in Shanghai: the Shanghai grocery subsidy grants 10 % (at most 20.00). */
export const PAYMENT_AT_MS = Date.parse("2025-03-05T12:00:00+08:00");

/** The server's clock for tests: running from `PAYMENT_AT_MS`, as the demo clock maps it. */
export function paymentTimeClock(): () => number {
  const startedMs = Date.now();
  expect(demoTimeOf(PAYMENT_AT_MS)).toBe(PAYMENT_AT_MS);
  return () => PAYMENT_AT_MS + (Date.now() - startedMs);
}

/**
 * A grocery payment in Shanghai the seeded examples subsidise: 10 % from the government program
 * (per user at most two a day, so tests vary `userId`) and a convenience-store discount.
 */
export function groceryPayment(paymentId: string, overrides: Record<string, unknown> = {}) {
  return {
    paymentId,
    userId: `user-${paymentId}`,
    amountMinor: 12_000,
    currency: "CNY",
    scenario: "merchant_qr",
    payeeKind: "merchant",
    merchantId: "m-1",
    merchantCategory: "5411",
    region: "CN-SH",
    channel: "app",
    paymentMethod: "balance",
    atMs: PAYMENT_AT_MS,
    ...overrides,
  };
}

/** Tries of one apply while the ledger answers `ledger_unavailable`. */
const APPLY_TRIES_MAX = 5;

/**
 * Applies a payment, again with the same id while the ledger answers `ledger_unavailable` (its
 * store missed the 50 ms deadline: a loaded test machine, a cold PostgreSQL lease). A retry with
 * the same id is safe by contract; the answers of every try are returned, the last one last.
 */
export async function applyAnswered(
  request: TestServer["request"],
  token: string,
  body: unknown,
): Promise<Awaited<ReturnType<TestServer["request"]>>[]> {
  const answers: Awaited<ReturnType<TestServer["request"]>>[] = [];
  for (let tried = 0; tried < APPLY_TRIES_MAX; tried += 1) {
    const answer = await request("POST", "/v1/payments/apply", { token, body });
    answers.push(answer);
    if (answer.status !== 200 || answer.body.code !== "ledger_unavailable") break;
  }
  return answers;
}

/** A registered external campaign the servers' guard-mode tests drive far past its ceiling. */
export const RUNAWAY_EXTERNAL_CAMPAIGN = {
  campaignRef: "partner-runaway",
  funding: "platform",
  label: "instant_discount",
  scope: { scenarios: ["merchant_qr"], regions: ["CN-SH"] },
  // 600 yuan a minute: 50 yuan in the 1 s window.
  spendPerMinuteMaxMinor: 60_000,
} as const;

/**
 * A guard check proposing 30 yuan of the runaway for a payment of its own (`paymentId`), at the
 * server's own (demo) time: the guard's windows are the payments' instants. About 50 of them a
 * second (`checkUntilKilled`) run at 30× the ceiling's pace.
 */
export function runawayCheckBody(paymentId: string) {
  return {
    payment: groceryPayment(paymentId, { atMs: demoTimeOf(Date.now()) }),
    proposals: [
      {
        proposalId: "a",
        campaignRef: RUNAWAY_EXTERNAL_CAMPAIGN.campaignRef,
        amountMinor: 3_000,
        funding: "platform",
        label: "instant_discount",
      },
    ],
  };
}

/**
 * Sends `check(n)` for n = 1, 2, … about 50 a second until one answers `guard.killed` or
 * `waitMsMax` passes; every answer must be a 200. The ms from the first check to the killed one,
 * or undefined, and how many were sent.
 */
export async function checkUntilKilled(
  check: (
    index: number,
  ) => Promise<{ status: number; body: { answers: { reason: string | null }[] } }>,
  waitMsMax: number,
): Promise<{ killedAfterMs: number | undefined; sent: number }> {
  const startedAtMs = Date.now();
  let sent = 0;
  while (Date.now() - startedAtMs < waitMsMax) {
    sent += 1;
    const answer = await check(sent);
    expect(answer.status).toBe(200);
    if (answer.body.answers[0]?.reason === "guard.killed") {
      return { killedAfterMs: Date.now() - startedAtMs, sent };
    }
    await new Promise((done) => setTimeout(done, 20));
  }
  return { killedAfterMs: undefined, sent };
}
