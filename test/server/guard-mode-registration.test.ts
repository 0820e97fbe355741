/**
 * External campaign registrations as configuration documents, on a real server (SQLite): the
 * demo imports examples/ through the change pipeline (reviewed, approved, rolled out), and its
 * registration `external-campaign/partner-lunch-flash` (campaignRef `lunch-flash-2025`, scope
 * merchant_qr and online_checkout in CN-SH and CN-BJ, a ceiling of 3,000 yuan a minute) is then
 * served with the configuration: the document is listed as active, and the serving's guard
 * watches the campaign with its declared ceiling — which only a registration gives an external
 * campaign, so a trip of `campaign:ext:lunch-flash-2025@1` within seconds proves the served
 * registration reached the guard — and the check holds proposals to its scope and maximum. Bounded in time: the trip is awaited at most 10 s.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { demoTimeOf } from "../../src/server/demo-clock.ts";
import { checkUntilKilled, groceryPayment } from "../support/api-calls.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const CAMPAIGN_REF = "lunch-flash-2025";
const WAIT_MS_MAX = 10_000;

describe("a registration served from the change pipeline on sqlite", () => {
  let server: TestServer;
  let payments: string;
  let operator: string;
  let author: string;
  beforeAll(async () => {
    server = await startTestServer("sqlite", { demo: true, demoTps: 0 });
    payments = await server.tokenFor(["payment-service"]);
    operator = await server.tokenFor(["operator"]);
    author = await server.tokenFor(["author"]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const check = (index: number, amountMinor: number, region = "CN-SH") =>
    server.request("POST", "/v1/guard/check", {
      token: payments,
      body: {
        payment: groceryPayment(`gm-reg-${index}`, { atMs: demoTimeOf(Date.now()), region }),
        proposals: [
          {
            proposalId: "a",
            campaignRef: CAMPAIGN_REF,
            amountMinor,
            funding: "merchant",
            label: "merchant_offer",
          },
        ],
      },
    });

  test("the registration is an active document of the imported configuration", async () => {
    const listed = await server.request("GET", "/v1/documents?kind=external-campaign", {
      token: author,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.documents).toEqual([
      expect.objectContaining({ id: "partner-lunch-flash", campaignRef: CAMPAIGN_REF }),
    ]);
  });

  test("the check holds proposals to the served registration: its regions and per-payment maximum", async () => {
    const outside = await check(-1, 500, "CN-GD");
    expect(outside.status).toBe(200);
    expect(outside.body.answers[0]).toMatchObject({
      outcome: "refused",
      reason: "registration.region_outside",
    });
    const above = await check(-2, 4_000);
    expect(above.body.answers[0]).toMatchObject({
      outcome: "clamped",
      amountMinor: 1_500,
      clampedBy: "registered_max",
    });
  });

  test("the served registration's declared ceiling trips the campaign's own breaker", async () => {
    // 15 yuan a check (the registration's per-payment maximum), about 50 checks a second: 15×
    // the declared 50 yuan a second.
    const { killedAfterMs, sent } = await checkUntilKilled(
      (index) => check(index, 1_500),
      WAIT_MS_MAX,
    );
    expect(killedAfterMs, `not killed after ${sent} checks`).toBeDefined();
    expect(killedAfterMs!).toBeLessThan(5_000);
    const breakers = await server.request("GET", "/v1/breakers", { token: operator });
    expect(breakers.status).toBe(200);
    expect(
      (breakers.body.breakers as { breakerId: string; trip?: { code: string } }[]).find(
        (breaker) => breaker.breakerId === `campaign:ext:${CAMPAIGN_REF}@1`,
      )?.trip?.code,
    ).toBe("velocity.above_ceiling");
  }, 30_000);
});
