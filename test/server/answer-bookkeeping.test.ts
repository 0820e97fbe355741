/**
 * What every answer of the app gets, whichever path sends it — a route's answer, a refusal the
 * app raises (authentication, the body's schema), Fastify's own errors (an unsupported media type,
 * malformed JSON) and unknown paths: an `x-request-id` header of its own, one count in the request
 * histogram under its route and status, and `connection: close` once the server is closing. And
 * the payment path's counters, tallied between scrapes: each scrape shows the totals so far,
 * never an increment twice. The app is built from a small route table (no store), as the server
 * builds it; the metrics are parsed by a real Prometheus text-format parser.
 */
import { Agent, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import type { Decision } from "../../src/core/evaluator/decision.ts";
import { buildApp } from "../../src/server/app.ts";
import { type RouteSpec, route } from "../../src/server/route.ts";
import { ServerMetrics } from "../../src/server/server-metrics.ts";

const CALLER = { tokenId: "t-1", principalId: "svc", roles: ["payment-service"] as const };

function metricsOf(): ServerMetrics {
  return new ServerMetrics({
    breakers: () => [],
    snapshot: () => undefined,
    rolloutShareBps: () => 0,
    trafficShareBps: 10_000,
    killStale: () => false,
    leaseHeldMinor: () => 0,
    nowMs: Date.now,
  });
}

/** A counter's value for the label set `labels` names, from a real parser's reading. */
async function counterValue(
  metrics: ServerMetrics,
  family: string,
  labels: Record<string, string>,
): Promise<number> {
  const parsed = parsePrometheusTextFormat(await metrics.text());
  const samples = parsed.find((each) => each.name === family)?.metrics ?? [];
  const sample = samples.find((each) =>
    Object.entries(labels).every(([name, value]) => each.labels?.[name] === value),
  );
  return sample === undefined ? 0 : Number(sample.value);
}

/** Requests counted under a route and status, read from the histogram's `_count` lines. */
function countedRequests(text: string, routeUrl: string, status: number): number {
  const line = text
    .split("\n")
    .find(
      (each) =>
        each.startsWith("bursar_http_request_duration_seconds_count{") &&
        each.includes(`route="${routeUrl}"`) &&
        each.includes(`status="${status}"`),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("every answer's bookkeeping", () => {
  const metrics = metricsOf();
  let releaseSlow: () => void = () => {};
  let slowHasStarted: () => void = () => {};
  const slowStarted = new Promise<void>((resolve) => {
    slowHasStarted = resolve;
  });
  const routes: RouteSpec[] = [
    route<undefined, undefined, { n: number }>({
      method: "POST",
      url: "/v1/echo",
      operationId: "echo",
      summary: "Echoes n.",
      tag: "test",
      access: ["payment-service"],
      body: z.strictObject({ n: z.number().int() }),
      rateClass: "payment",
      responses: { 200: "n" },
      handle: ({ body }) => ({ body: { n: body.n } }),
    }),
    route({
      method: "GET",
      url: "/v1/slow",
      operationId: "slow",
      summary: "Answers when released.",
      tag: "test",
      access: "public",
      rateClass: "none",
      responses: { 200: "ok" },
      handle: async () => {
        slowHasStarted();
        await new Promise<void>((resolve) => {
          releaseSlow = resolve;
        });
        return { body: { ok: true } };
      },
    }),
  ];
  const app = buildApp({
    routes,
    authenticate: (text) => (text === "good" ? CALLER : undefined),
    metrics,
    nowMs: Date.now,
    logLevel: false,
  });
  beforeAll(async () => {
    await app.ready();
  });
  afterAll(async () => {
    releaseSlow();
    await app.close();
  });

  const post = (payload: string, headers: Record<string, string>) =>
    app.inject({ method: "POST", url: "/v1/echo", headers, payload });

  test("each path's answer carries its own request id and is counted under its status", async () => {
    const json = { "content-type": "application/json" };
    const answers = [
      { status: 200, answer: await post('{"n":1}', { ...json, authorization: "Bearer good" }) },
      // Refused by the app: no token, then the body's schema.
      { status: 401, answer: await post('{"n":1}', json) },
      { status: 400, answer: await post('{"n":"x"}', { ...json, authorization: "Bearer good" }) },
      // Refused by Fastify before the route runs: malformed JSON, a text body.
      { status: 400, answer: await post("{", { ...json, authorization: "Bearer good" }) },
      {
        status: 415,
        answer: await post("n=1", { "content-type": "text/plain", authorization: "Bearer good" }),
      },
      { status: 404, answer: await app.inject({ method: "GET", url: "/v1/nowhere" }) },
    ];
    const ids = answers.map(({ answer }) => answer.headers["x-request-id"]);
    for (const [index, { status, answer }] of answers.entries()) {
      expect(answer.statusCode, `answer ${index}`).toBe(status);
      expect(ids[index], `answer ${index}`).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    }
    expect(new Set(ids).size).toBe(ids.length);

    const text = await metrics.text();
    expect(countedRequests(text, "/v1/echo", 200)).toBe(1);
    expect(countedRequests(text, "/v1/echo", 401)).toBe(1);
    expect(countedRequests(text, "/v1/echo", 400)).toBe(2);
    expect(countedRequests(text, "/v1/echo", 415)).toBe(1);
    expect(countedRequests(text, "unmatched", 404)).toBe(1);
  });

  test("once closing, the answer to a request in flight closes its connection", async () => {
    // A real listener and a keep-alive agent: what closing does to a connection inject cannot show.
    const served = buildApp({
      routes,
      authenticate: () => undefined,
      metrics: metricsOf(),
      nowMs: Date.now,
      logLevel: false,
    });
    let closingBegan: () => void = () => {};
    const closing = new Promise<void>((resolve) => {
      closingBegan = resolve;
    });
    // Runs after the app's own preClose hook, which marks the app closing.
    served.addHook("preClose", async () => closingBegan());
    await served.listen({ port: 0, host: "127.0.0.1" });
    const { port } = served.server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true });
    try {
      const inFlight = new Promise<{ status: number; connection: string | undefined }>(
        (resolve, reject) => {
          const sent = httpRequest(
            { host: "127.0.0.1", port, path: "/v1/slow", agent },
            (response) => {
              response.resume();
              response.on("end", () =>
                resolve({
                  status: response.statusCode ?? 0,
                  connection: response.headers.connection,
                }),
              );
            },
          );
          sent.on("error", reject);
          sent.end();
        },
      );
      await slowStarted;
      const closed = served.close();
      await closing;
      releaseSlow();
      expect(await inFlight).toEqual({ status: 200, connection: "close" });
      await closed;
    } finally {
      agent.destroy();
    }
  });
});

describe("the payment path's tallied counters", () => {
  /** Reserved subsidy counted for a campaign funded by the platform. */
  const reservedOf = (metrics: ServerMetrics, campaign: string) =>
    counterValue(metrics, "bursar_subsidy_reserved_minor_total", { campaign, funding: "platform" });

  const granted = { reason: null, subsidies: [{}] } as unknown as Decision;
  const refused = { reason: "envelope.protected_scenario", subsidies: [] } as unknown as Decision;

  test("each scrape shows the totals so far; a scrape counts nothing twice", async () => {
    const metrics = metricsOf();
    const quoteGranted = { operation: "quote", reason: "granted" };
    expect(await counterValue(metrics, "bursar_decisions_total", quoteGranted)).toBe(0);
    metrics.observeDecision("quote", granted);
    metrics.observeDecision("quote", granted);
    metrics.observeDecision("apply", refused);
    expect(await counterValue(metrics, "bursar_decisions_total", quoteGranted)).toBe(2);
    // Scraped again with nothing new: the same totals.
    expect(await counterValue(metrics, "bursar_decisions_total", quoteGranted)).toBe(2);
    metrics.observeDecision("quote", granted);
    metrics.observeLedgerAnswer("apply", "reserved");
    expect(await counterValue(metrics, "bursar_decisions_total", quoteGranted)).toBe(3);
    expect(
      await counterValue(metrics, "bursar_decisions_total", {
        operation: "apply",
        reason: "envelope.protected_scenario",
      }),
    ).toBe(1);
    expect(
      await counterValue(metrics, "bursar_ledger_answers_total", {
        operation: "apply",
        code: "reserved",
      }),
    ).toBe(1);
  });

  test("amounts add up by label set, the unlabelled counter included", async () => {
    const metrics = metricsOf();
    const reservation = (amounts: readonly [string, number][]) =>
      ({
        subsidies: amounts.map(([campaignId, amountMinor]) => ({
          code: "reserved",
          campaignId,
          funding: "platform",
          amountMinor,
        })),
      }) as never;
    metrics.observeReservation(
      reservation([
        ["a", 100],
        ["b", 7],
      ]),
    );
    const check = (allowedTotalMinor: number) =>
      ({
        answers: [{ outcome: "allowed", reason: null }],
        allowedTotalMinor,
        ledger: "ledger.recorded",
        replayed: false,
      }) as never;
    metrics.observeGuardCheck(check(250));
    expect(await reservedOf(metrics, "a")).toBe(100);
    metrics.observeReservation(reservation([["a", 50]]));
    metrics.observeGuardCheck(check(30));
    expect(await reservedOf(metrics, "a")).toBe(150);
    expect(await reservedOf(metrics, "b")).toBe(7);
    expect(await counterValue(metrics, "bursar_guard_check_allowed_minor_total", {})).toBe(280);
    expect(
      await counterValue(metrics, "bursar_guard_check_proposals_total", {
        outcome: "allowed",
        reason: "none",
      }),
    ).toBe(2);
    expect(
      await counterValue(metrics, "bursar_guard_check_ledger_total", {
        outcome: "ledger.recorded",
      }),
    ).toBe(2);
  });
});
