/**
 * The security matrix on both real stores: every operation `/openapi.json` lists (so a route added
 * later is covered without editing this file) × every API role, no token, a malformed token, a
 * forged one (a real id with another token's secret) and a revoked one. Zero unauthorised
 * successes: an invalid token gets 401, a role the operation does not list gets 403, and nothing
 * anywhere gets a 5xx. Then cross-object access (a token sees only itself; no secret or hash in
 * any answer; a payment belongs to the principal that applied it) and the rate limits.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { API_ROLES, type ApiRole } from "../../src/core/access/api-roles.ts";
import { parseApiTokenText } from "../../src/core/access/api-token.ts";
import {
  applyAnswered,
  errorBodyProblem,
  exampleOf,
  expectDocumentedError,
  fillPath,
  groceryPayment,
  LIFECYCLE_CODES,
  mapBounded,
  type Operation,
  operationsOf,
  paymentTimeClock,
} from "../support/api-calls.ts";
import {
  startTestServer,
  TEST_STORES,
  type TestServer,
  type TestStore,
} from "../support/server.ts";

const GENEROUS = { perSecond: 1_000_000, burst: 1_000_000 };
const GENEROUS_RATE_LIMITS = {
  payment: GENEROUS,
  control: GENEROUS,
  unauthenticated: GENEROUS,
};

/** The id part of a token's text (`bsr_<id>_<secret>`). */
function tokenIdOf(text: string): string {
  const parts = parseApiTokenText(text);
  if (parts === undefined) throw new Error("not an API token");
  return parts.id;
}

/** The demo seeded, no demo traffic, payments dated now, no rate limit in the way. */
function startDemoServer(store: TestStore): Promise<TestServer> {
  return startTestServer(store, {
    demo: true,
    demoTps: 0,
    wallNowMs: paymentTimeClock(),
    rateLimits: GENEROUS_RATE_LIMITS,
  });
}

/** Operations the server has today: discovery must find at least these. */
const KNOWN_OPERATIONS = [
  "quotePayment",
  "applyPayment",
  "commitPayment",
  "releasePayment",
  "refundPayment",
  "issueToken",
  "listTokens",
  "showOwnToken",
  "revokeToken",
  "health",
  "readiness",
  "metrics",
  "openApi",
  "docs",
];

type InvalidCaller = "no token" | "malformed token" | "forged token" | "revoked token";
type CallerName = ApiRole | InvalidCaller;

interface IssuedToken {
  readonly text: string;
  readonly id: string;
}

async function issue(server: TestServer, roles: readonly ApiRole[]): Promise<IssuedToken> {
  const answer = await server.request("POST", "/v1/tokens", {
    token: server.adminToken,
    body: { name: `matrix ${roles.join("+")}`, principalId: `matrix.${roles.join("-")}`, roles },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return { text: answer.body.token, id: answer.body.record.id };
}

describe.each(TEST_STORES)("the security matrix on %s", (store) => {
  let server: TestServer;
  const tokens = new Map<CallerName, string | undefined>();
  /** A token the matrix's revoke calls may revoke; nobody uses it. */
  let victim: IssuedToken;
  const secrets: string[] = [];

  beforeAll(async () => {
    server = await startDemoServer(store);
    for (const role of API_ROLES) {
      const issued = await issue(server, [role]);
      tokens.set(role, issued.text);
      secrets.push(issued.text.slice(-43));
    }
    victim = await issue(server, ["auditor"]);
    const revoked = await issue(server, ["admin"]);
    const revoke = await server.request("POST", `/v1/tokens/${revoked.id}/revoke`, {
      token: server.adminToken,
      body: { reason: "the matrix's revoked token" },
    });
    expect(revoke.status).toBe(200);
    const adminId = tokenIdOf(server.adminToken);
    tokens.set("no token", undefined);
    tokens.set("malformed token", "bsr_not-a-token");
    // The administrator's id with another token's secret: a valid shape naming a real record.
    tokens.set("forged token", `bsr_${adminId}_${revoked.text.slice(-43)}`);
    tokens.set("revoked token", revoked.text);
    secrets.push(server.adminToken.slice(-43), victim.text.slice(-43));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  let paymentCounter = 0;
  /** A minimal body the operation's schema accepts: a real payment for the payment path. */
  function bodyFor(operation: Operation): unknown {
    const schema = operation.bodySchema;
    if (schema === undefined) return undefined;
    const fields = Object.keys(schema.properties ?? {});
    if (fields.includes("merchantId") && fields.includes("amountMinor")) {
      paymentCounter += 1;
      return groceryPayment(`matrix-${paymentCounter}`);
    }
    return exampleOf(schema, "body", 0);
  }

  function expected(operation: Operation, caller: CallerName): "open" | 401 | 403 {
    if (operation.isPublic) return "open";
    if (!(API_ROLES as readonly string[]).includes(caller)) return 401;
    return operation.roles.includes(caller) ? "open" : 403;
  }

  test("every operation × every caller: zero unauthorised successes and no 5xx", async () => {
    const document = await server.request("GET", "/openapi.json");
    expect(document.status).toBe(200);
    const operations = operationsOf(document.body);
    const ids = operations.map((operation) => operation.operationId);
    expect(ids).toEqual(expect.arrayContaining(KNOWN_OPERATIONS));
    for (const operation of operations) {
      // Every protected operation names at least one role, and only roles of the catalog.
      if (operation.isPublic) continue;
      expect(operation.roles.length, operation.operationId).toBeGreaterThan(0);
      for (const role of operation.roles) expect(API_ROLES).toContain(role);
    }

    const cells = operations.flatMap((operation) =>
      [...tokens.keys()].map((caller) => ({ operation, caller })),
    );
    const failures: string[] = [];
    const tally = { open: 0, 401: 0, 403: 0 };
    await mapBounded(cells, 8, async ({ operation, caller }) => {
      const body = bodyFor(operation);
      const token = tokens.get(caller);
      const answer = await server.request(
        operation.method,
        fillPath(operation, { tokenId: victim.id, paymentId: "matrix-path-payment" }),
        { ...(token === undefined ? {} : { token }), ...(body === undefined ? {} : { body }) },
      );
      const want = expected(operation, caller);
      tally[want] += 1;
      const cell = `${operation.method} ${operation.path} as ${caller}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
      if (answer.status >= 500) failures.push(`5xx: ${cell}`);
      else if (want === 401 && (answer.status !== 401 || answer.body.code !== "unauthenticated"))
        failures.push(`expected 401: ${cell}`);
      else if (want === 403 && (answer.status !== 403 || answer.body.code !== "forbidden"))
        failures.push(`expected 403: ${cell}`);
      else if (want === "open" && (answer.status === 401 || answer.body?.code === "forbidden"))
        failures.push(`refused a caller it allows: ${cell}`);
      const problem =
        answer.status >= 400 ? errorBodyProblem(answer.status, answer.body) : undefined;
      if (problem !== undefined) failures.push(`error body: ${problem}: ${cell}`);
    });
    console.log(
      `security matrix on ${store}: ${operations.length} operations × ${tokens.size} callers = ${cells.length} requests (${tally.open} allowed or public, ${tally[401]} expecting 401, ${tally[403]} expecting 403)`,
    );
    expect(failures).toEqual([]);
    expect(tally[401]).toBeGreaterThan(0);
    expect(tally[403]).toBeGreaterThan(0);
  });

  test("methods an operation does not declare are refused with a documented error", async () => {
    const operations = operationsOf((await server.request("GET", "/openapi.json")).body);
    const declared = new Set(
      operations.map((operation) => `${operation.method} ${operation.path}`),
    );
    const failures: string[] = [];
    for (const operation of operations) {
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
        if (declared.has(`${method} ${operation.path}`)) continue;
        const answer = await server.request(method, fillPath(operation), {
          token: server.adminToken,
        });
        if (![404, 405].includes(answer.status)) {
          failures.push(`${method} ${operation.path}: ${answer.status}`);
        }
        expectDocumentedError(answer.status, answer.body, `${method} ${operation.path}`);
      }
    }
    expect(failures).toEqual([]);
  });

  test("a token reads only its own record, and no answer carries a secret or its hash", async () => {
    const own = new Set<string>();
    for (const role of API_ROLES) {
      const token = tokens.get(role) as string;
      const self = await server.request("GET", "/v1/tokens/self", { token });
      expect(self.status).toBe(200);
      expect(self.body.id).toBe(tokenIdOf(token));
      expect(self.body.roles).toEqual([role]);
      own.add(self.body.id);
    }
    expect(own.size).toBe(API_ROLES.length);

    // Revoking is for administrators only: not even a token's own holder may revoke it.
    for (const role of API_ROLES.filter((role) => role !== "admin")) {
      const token = tokens.get(role) as string;
      const answer = await server.request("POST", `/v1/tokens/${tokenIdOf(token)}/revoke`, {
        token,
        body: { reason: "self" },
      });
      expect(answer.status).toBe(403);
      // Nor raise its own roles by issuing itself an administrator's token.
      const escalate = await server.request("POST", "/v1/tokens", {
        token,
        body: { name: "escalate", principalId: "escalate", roles: ["admin"] },
      });
      expect(escalate.status).toBe(403);
    }

    const listed = await server.request("GET", "/v1/tokens?includeRevoked=true&limit=1000", {
      token: tokens.get("auditor") as string,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.tokens.length).toBeGreaterThanOrEqual(API_ROLES.length + 3);
    const text = JSON.stringify(listed.body);
    expect(text).not.toMatch(/secret|hash/i);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});

// A server of its own: the matrix's kill calls withdraw the demo's grants on the other one.
describe.each(TEST_STORES)("payments across principals on %s", (store) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startDemoServer(store);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("a payment belongs to the principal that applied it: another principal's commit, release and refund find nothing and change nothing, its apply of the id is a conflict; the principal's other tokens act on it", async () => {
    const shopA = await server.tokenFor(["payment-service"], "matrix.shop-a");
    // Shop A's next token, as when it rotates: same principal, another token.
    const shopARotated = await server.tokenFor(["payment-service"], "matrix.shop-a");
    const shopB = await server.tokenFor(["payment-service"], "matrix.shop-b");
    const post = (token: string, path: string, body?: unknown) =>
      server.request("POST", path, { token, ...(body === undefined ? {} : { body }) });
    const payment = groceryPayment("owned-by-shop-a");
    const applied = (await applyAnswered(server.request, shopA, payment)).at(-1);
    expect(applied?.status).toBe(200);
    expect(applied?.body.code, JSON.stringify(applied?.body)).toBe("reserved");
    const reservedMinor = applied?.body.reservation.totalReservedMinor as number;

    /** Shop B's call on shop A's payment is answered as the same call on an id nobody applied. */
    const asUnknown = async (action: string, body?: unknown) => {
      const theirs = await post(shopB, `/v1/payments/owned-by-shop-a/${action}`, body);
      const nobodys = await post(shopB, `/v1/payments/applied-by-nobody/${action}`, body);
      expect(theirs.status, JSON.stringify(theirs.body)).toBe(200);
      expect(theirs.body.code).toBe("reservation_not_found");
      expect({ ...theirs.body, paymentId: "applied-by-nobody" }).toEqual(nobodys.body);
    };
    await asUnknown("commit", {});
    await asUnknown("commit", { subsidyMinor: 1 });
    await asUnknown("release");
    await asUnknown("refunds", { refundId: "refund-1", amountMinor: 6_000 });

    // The same body under shop B's token: a conflict, and never shop A's stored answer.
    const taken = (await applyAnswered(server.request, shopB, payment)).at(-1);
    expect(taken?.status).toBe(409);
    expect(taken?.body.code).toBe("idempotency_conflict");
    expectDocumentedError(409, taken?.body, "another principal's apply");
    expect(JSON.stringify(taken?.body)).not.toContain("reservation");

    // Shop A rotates: its old token is revoked, and the new one settles what the old applied —
    // in full, so nothing shop B sent had committed, lowered or released it.
    const oldId = tokenIdOf(shopA);
    const revoked = await server.request("POST", `/v1/tokens/${oldId}/revoke`, {
      token: server.adminToken,
      body: { reason: "rotated" },
    });
    expect(revoked.status).toBe(200);
    const committed = await post(shopARotated, "/v1/payments/owned-by-shop-a/commit", {});
    expect(committed.status).toBe(200);
    expect(committed.body.code).toBe("committed");
    const committedMinor = committed.body.entries.reduce(
      (sum: number, entry: { committedMinor: number }) => sum + entry.committedMinor,
      0,
    );
    expect(committedMinor).toBe(reservedMinor);

    // Committed now: shop B still finds nothing, and its refund id was never stored.
    await asUnknown("commit", {});
    await asUnknown("release");
    await asUnknown("refunds", { refundId: "refund-1", amountMinor: 6_000 });
    const refunded = await post(shopARotated, "/v1/payments/owned-by-shop-a/refunds", {
      refundId: "refund-1",
      amountMinor: 6_000,
    });
    expect(refunded.status).toBe(200);
    expect(refunded.body).toMatchObject({
      code: "refunded",
      replayed: false,
      refundedMinor: 6_000,
    });
    const replayed = (await applyAnswered(server.request, shopARotated, payment)).at(-1);
    expect(replayed?.status).toBe(200);
    expect(replayed?.body.replayed).toBe(true);
    expect(replayed?.body.reservation).toEqual(applied?.body.reservation);
  });
});

test("every lifecycle refusal an error may carry is documented in docs/reference", () => {
  const folder = join(import.meta.dirname, "..", "..", "docs", "reference");
  const text = readdirSync(folder)
    .filter((name) => name.endsWith(".md"))
    .map((name) => readFileSync(join(folder, name), "utf8"))
    .join("\n");
  for (const code of LIFECYCLE_CODES) expect(text).toContain(`\`${code}\``);
});

describe("rate limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite", {
      rateLimits: {
        payment: { perSecond: 1, burst: 5 },
        control: { perSecond: 1, burst: 5 },
        unauthenticated: { perSecond: 1, burst: 3 },
      },
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("a token past its limit gets 429 rate_limited with Retry-After; others are unaffected", async () => {
    const limited = await issue(server, ["auditor"]);
    const other = await issue(server, ["auditor"]);
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<TestServer["request"]>> | undefined;
    // The burst is 5 and the refill 1/s: within 20 requests one is refused.
    for (let sent = 0; sent < 20 && refused === undefined; sent += 1) {
      const answer = await server.request("GET", "/v1/tokens/self", { token: limited.text });
      statuses.push(answer.status);
      if (answer.status === 429) refused = answer;
    }
    expect(refused, `statuses ${statuses.join(",")}`).toBeDefined();
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(5);
    expect(refused?.body.code).toBe("rate_limited");
    expectDocumentedError(429, refused?.body, "rate limited");
    const retryAfterS = Number(refused?.headers.get("retry-after"));
    expect(Number.isInteger(retryAfterS) && retryAfterS >= 1).toBe(true);
    expect(refused?.body.details.retryAfterSeconds).toBe(retryAfterS);
    // The limit is per token: another token of the same principal's kind still gets through.
    expect((await server.request("GET", "/v1/tokens/self", { token: other.text })).status).toBe(
      200,
    );
  });

  test("failed authentications are limited per address", async () => {
    const statuses: number[] = [];
    for (let sent = 0; sent < 20 && !statuses.includes(429); sent += 1) {
      const answer = await server.request("GET", "/v1/tokens/self", { token: "bsr_guess" });
      statuses.push(answer.status);
      expectDocumentedError(answer.status, answer.body, "a guessed token");
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses).toContain(429);
  });
});
