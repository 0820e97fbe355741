/**
 * `POST /v1/guard/check` in a test composition: the real app (`buildApp`) around the guard mode
 * route table only, with the real service over a served snapshot, a kill watcher on the memory
 * kill store and a runtime guard. Tokens are looked up in a fixed table (the token service is not
 * what this tests). Lives under test/guard/, not test/server/, which other work owns.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { GuardCheckService } from "../../src/guard/guard-check.ts";
import { KillWatcher } from "../../src/guard/kill-watcher.ts";
import { MemoryKillStore } from "../../src/guard/memory-kill-store.ts";
import { RuntimeGuard } from "../../src/guard/runtime-guard.ts";
import { buildApp } from "../../src/server/app.ts";
import { guardModeRoutes } from "../../src/server/guard-mode-routes.ts";
import { openApiDocument } from "../../src/server/openapi.ts";
import type { Caller } from "../../src/server/route.ts";
import { ServerMetrics } from "../../src/server/server-metrics.ts";
import { coffeePayment } from "../support/documents.ts";
import { coffeeSnapshot } from "../support/snapshots.ts";

const CALLERS: Record<string, Caller> = {
  "payments-token": { tokenId: "t1", principalId: "checkout", roles: ["payment-service"] },
  "operator-token": { tokenId: "t2", principalId: "oncall", roles: ["operator"] },
};

const BODY = {
  payment: coffeePayment("http-1"),
  proposals: [
    {
      proposalId: "a",
      campaignRef: "instant-7",
      amountMinor: 800,
      funding: "platform",
      label: "instant_discount",
    },
    {
      proposalId: "b",
      campaignRef: "instant-8",
      amountMinor: 500,
      funding: "platform",
      label: "instant_discount",
    },
  ],
};

describe("POST /v1/guard/check", () => {
  let app: FastifyInstance;
  let kills: KillWatcher;
  let store: MemoryKillStore;
  let guardCheck: GuardCheckService;
  let metrics: ServerMetrics;
  const routes = () => app;

  beforeAll(async () => {
    store = new MemoryKillStore(new MemoryAuditLogStore());
    kills = await KillWatcher.start({
      store,
      nowMs: Date.now,
      pollMs: 20,
      allowedStalenessMs: 5_000,
    });
    const snapshot = coffeeSnapshot(1_000_000);
    guardCheck = new GuardCheckService({
      served: () => snapshot,
      kills,
      guard: new RuntimeGuard(),
      nowMs: Date.now,
      whenUnhealthy: "refuse",
    });
    metrics = new ServerMetrics({
      breakers: () => [],
      snapshot: () => undefined,
      rolloutShareBps: () => 0,
      trafficShareBps: 10_000,
      killStale: () => kills.isStale(),
      leaseHeldMinor: () => 0,
      nowMs: Date.now,
    });
    app = buildApp({
      routes: guardModeRoutes({ guardCheck, metrics }),
      authenticate: async (text) => CALLERS[text],
      metrics,
      nowMs: Date.now,
      logLevel: false,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await kills?.stop();
  });

  const post = (body: unknown, token = "payments-token") =>
    routes().inject({
      method: "POST",
      url: "/v1/guard/check",
      headers: { authorization: `Bearer ${token}` },
      payload: body as object,
    });

  test("answers each proposal: allowed, then clamped to the envelope's bound", async () => {
    const response = await post(BODY);
    expect(response.statusCode).toBe(200);
    const answer = response.json();
    expect(answer).toMatchObject({
      paymentId: "http-1",
      reason: null,
      unhealthy: null,
      allowedTotalMinor: 1_050,
    });
    expect(answer.answers).toEqual([
      {
        proposalId: "a",
        campaignRef: "instant-7",
        outcome: "allowed",
        proposedMinor: 800,
        amountMinor: 800,
        clampedBy: null,
        reason: null,
      },
      {
        proposalId: "b",
        campaignRef: "instant-8",
        outcome: "clamped",
        proposedMinor: 500,
        amountMinor: 250,
        clampedBy: "per_payment_rate",
        reason: null,
      },
    ]);
  });

  test("a protected scenario is refused with a code, status 200", async () => {
    const response = await post({
      ...BODY,
      payment: coffeePayment("http-2", { scenario: "credit_card_repayment" }),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      reason: "envelope.protected_scenario",
      allowedTotalMinor: 0,
    });
  });

  test("a kill of the external campaign refuses it", async () => {
    await store.publishKill({
      scope: { kind: "campaigns", campaignIds: ["ext:instant-7"] },
      reason: "runaway",
      actor: "oncall",
      atMs: Date.now(),
    });
    await kills.refresh();
    const answer = (await post({ ...BODY, payment: coffeePayment("http-3") })).json();
    expect(answer.answers.map((each: { reason: string | null }) => each.reason)).toEqual([
      "guard.killed",
      null,
    ]);
  });

  test("a body the schema refuses is 400 body_invalid with the schema's issues", async () => {
    const response = await post({
      ...BODY,
      proposals: [{ ...BODY.proposals[0], amountMinor: -5 }],
    });
    expect(response.statusCode).toBe(400);
    const error = response.json();
    expect(error.code).toBe("body_invalid");
    expect(error.details.reason).toBe("proposals.invalid");
    expect(error.details.issues[0].path).toBe("body.proposals.0.amountMinor");
    expect((await post({ ...BODY, extra: true })).statusCode).toBe(400);
  });

  test("/metrics counts the answered proposals by outcome and reason, and the amount allowed", async () => {
    const counted = async () => {
      const text = await metrics.text();
      const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
      return {
        allowed: value(
          /^bursar_guard_check_proposals_total\{outcome="allowed",reason="none"\} (\d+)$/m,
        ),
        clamped: value(
          /^bursar_guard_check_proposals_total\{outcome="clamped",reason="none"\} (\d+)$/m,
        ),
        allowedMinor: value(/^bursar_guard_check_allowed_minor_total (\d+)$/m),
      };
    };
    const before = await counted();
    const response = await post({
      ...BODY,
      payment: { ...BODY.payment, paymentId: "http-metrics" },
    });
    expect(response.statusCode).toBe(200);
    const answer = response.json() as { answers: { outcome: string }[]; allowedTotalMinor: number };
    const outcomes = (outcome: string) =>
      answer.answers.filter((proposal) => proposal.outcome === outcome).length;
    expect(answer.allowedTotalMinor).toBeGreaterThan(0);
    expect(await counted()).toEqual({
      allowed: before.allowed + outcomes("allowed"),
      clamped: before.clamped + outcomes("clamped"),
      allowedMinor: before.allowedMinor + answer.allowedTotalMinor,
    });
  });

  test("only the payment-service role may call it", async () => {
    expect((await post(BODY, "operator-token")).statusCode).toBe(403);
    expect((await post(BODY, "unknown")).statusCode).toBe(401);
  });

  test("the OpenAPI document describes the strict body", () => {
    const document = openApiDocument(guardModeRoutes({ guardCheck, metrics }), "test");
    const operation = (
      document.paths as Record<
        string,
        Record<string, { requestBody: unknown; "x-bursar-roles": unknown }>
      >
    )["/v1/guard/check"]!.post!;
    expect(operation["x-bursar-roles"]).toEqual(["payment-service"]);
    expect(JSON.stringify(operation.requestBody)).toContain("campaignRef");
  });
});
