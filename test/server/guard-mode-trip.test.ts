/**
 * Guard mode, increment 2, on a real server (SQLite and PostgreSQL): a registered external campaign driven far
 * above its declared ceiling through `POST /v1/guard/check` trips the serving's guard, is killed
 * (`GET /v1/kills`, and later checks answer `guard.killed`) and opens an incident naming
 * `ext:<campaignRef>` (`GET /v1/incidents`). Bounded in time: the trip is awaited at most 10 s.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  checkUntilKilled,
  RUNAWAY_EXTERNAL_CAMPAIGN,
  runawayCheckBody,
} from "../support/api-calls.ts";
import { startTestServer, TEST_STORES, type TestServer } from "../support/server.ts";

const RUNAWAY = RUNAWAY_EXTERNAL_CAMPAIGN;
const WAIT_MS_MAX = 10_000;

describe.each(TEST_STORES)("guard mode trips, kills and opens an incident on %s", (store) => {
  let server: TestServer;
  let payments: string;
  let operator: string;
  beforeAll(async () => {
    server = await startTestServer(store, {
      demo: true,
      demoTps: 0,
      externalCampaigns: [RUNAWAY],
    });
    payments = await server.tokenFor(["payment-service"]);
    operator = await server.tokenFor(["operator"]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const check = (index: number) =>
    server.request("POST", "/v1/guard/check", {
      token: payments,
      body: runawayCheckBody(`gm-trip-${index}`),
    });

  // 30 yuan a check, about 50 checks a second: 30× the ceiling's pace. Driven once per server and
  // awaited by each test, so either test also runs alone (`-t`).
  let runaway: ReturnType<typeof checkUntilKilled> | undefined;
  const tripped = () => (runaway ??= checkUntilKilled(check, WAIT_MS_MAX));

  test("a runaway registered external campaign is killed and its incident opened", async () => {
    const { killedAfterMs, sent } = await tripped();
    expect(killedAfterMs, `not killed after ${sent} checks`).toBeDefined();
    expect(killedAfterMs!).toBeLessThan(5_000);

    const kills = await server.request("GET", "/v1/kills", { token: operator });
    expect(kills.status).toBe(200);
    expect(kills.body.active).toEqual([
      expect.objectContaining({
        scope: { kind: "campaigns", campaignIds: ["ext:partner-runaway"] },
        actor: "guard",
      }),
    ]);

    const listed = await server.request("GET", "/v1/incidents", { token: operator });
    expect(listed.status).toBe(200);
    expect(listed.body.incidents).toHaveLength(1);
    const summary = listed.body.incidents[0];
    expect(summary.title).toContain("ext:partner-runaway");
    const incident = await server.request("GET", `/v1/incidents/${summary.id}`, {
      token: operator,
    });
    expect(incident.body.blame).toMatchObject({
      changeIds: [],
      campaignVersions: [{ campaignId: "ext:partner-runaway", version: 1 }],
      templateIds: ["ext:*"],
      funders: ["platform"],
    });
    expect(incident.body.timeline.map((entry: { kind: string }) => entry.kind)).toEqual(
      expect.arrayContaining(["trip", "opened", "kill_published", "kill_confirmed"]),
    );
  }, 30_000);

  test("on-call acknowledges (once, when two try at once), then resets, the runaway's tripped breaker; each move is in the audit log first", async () => {
    const { killedAfterMs, sent } = await tripped();
    expect(killedAfterMs, `not killed after ${sent} checks`).toBeDefined();
    const breakerId = "campaign:ext:partner-runaway@1";
    const path = (action: string) => `/v1/breakers/${encodeURIComponent(breakerId)}/${action}`;
    const breakers = await server.request("GET", "/v1/breakers", { token: operator });
    expect(breakers.body.breakers).toEqual([
      expect.objectContaining({ breakerId, state: "tripped" }),
    ]);
    // Never straight from tripped to armed: refused, and nothing audited for it.
    const early = await server.request("POST", path("reset"), { token: operator });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe("illegal_breaker_transition");
    // A reason the audit log cannot keep is the caller's error, and moves nothing: 700
    // characters of 3 UTF-8 bytes each pass the schema's 2,000 characters, not the log's bytes.
    for (const body of [{ reason: "" }, { reason: "好".repeat(700) }, { why: "x" }]) {
      const refused = await server.request("POST", path("acknowledge"), { token: operator, body });
      expect(refused.status, JSON.stringify(body).slice(0, 40)).toBe(400);
      expect(refused.body.code).toBe("body_invalid");
    }
    // Two on-call engineers at once: one move, one refusal, one audit entry (checked below).
    const why = { reason: "partner engine's flash sale misconfigured; their on-call is fixing it" };
    const both = await Promise.all([
      server.request("POST", path("acknowledge"), { token: operator, body: why }),
      server.request("POST", path("acknowledge"), { token: operator, body: why }),
    ]);
    expect(both.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(both.find((answer) => answer.status === 200)!.body).toEqual({
      breakerId,
      state: "acknowledged",
    });
    expect(both.find((answer) => answer.status === 409)!.body.code).toBe(
      "illegal_breaker_transition",
    );
    const reset = await server.request("POST", path("reset"), { token: operator });
    expect(reset.body).toEqual({ breakerId, state: "armed" });

    const admin = await server.tokenFor(["admin"]);
    const moves: { action: string; actor: string; reason: string | null; details: unknown }[] = [];
    for (let after = 0; ; ) {
      const page = await server.request("GET", `/v1/audit?afterSequence=${after}&limit=1000`, {
        token: admin,
      });
      expect(page.status).toBe(200);
      for (const entry of page.body.entries) {
        if (entry.subject === `breaker/${breakerId}`) moves.push(entry);
      }
      if (page.body.nextAfterSequence === null) break;
      after = page.body.nextAfterSequence;
    }
    // The reason given is audited with its move; the reset was sent without a body.
    expect(moves.map(({ action, reason, details }) => ({ action, reason, details }))).toEqual([
      {
        action: "breaker.acknowledged",
        reason: why.reason,
        details: { from: "tripped", to: "acknowledged" },
      },
      { action: "breaker.reset", reason: null, details: { from: "acknowledged", to: "armed" } },
    ]);
    const whoami = await server.request("GET", "/v1/tokens/self", { token: operator });
    expect(new Set(moves.map(({ actor }) => actor))).toEqual(new Set([whoami.body.principalId]));
  });
});
