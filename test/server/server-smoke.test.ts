/**
 * The server on both real stores: it starts, answers liveness and readiness, issues the bootstrap
 * administrator's token once, and a payment service's token applies and commits a payment.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, TEST_STORES, type TestServer } from "../support/server.ts";

const PAYMENT = {
  paymentId: "smoke-1",
  userId: "u-1",
  amountMinor: 12_000,
  currency: "CNY",
  scenario: "merchant_qr",
  payeeKind: "merchant",
  merchantId: "m-1",
  merchantCategory: "5411",
  region: "CN-SH",
  channel: "app",
  paymentMethod: "balance",
  atMs: Date.parse("2025-03-05T12:00:00+08:00"),
};

describe.each(TEST_STORES)("bursar serve on %s", (store) => {
  let server: TestServer;
  beforeAll(async () => {
    // The examples seeded through the change pipeline, without the demo's traffic.
    server = await startTestServer(store, { demo: true, demoTps: 0 });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("answers liveness and readiness without a token", async () => {
    const health = await server.request("GET", "/healthz");
    expect(health.body.status).toBe("ok");
    // The demo's clock lives in 2025, where the examples' campaigns run.
    expect(new Date(health.body.nowMs).getUTCFullYear()).toBe(2025);
    const ready = await server.request("GET", "/readyz");
    expect(ready.status).toBe(200);
    const home = await server.request("GET", "/");
    expect(home.headers.get("content-type")).toContain("text/html");
    expect(home.body).toContain('href="/docs"');
  });

  test("a payment service applies a payment and gets the stored answer again on retry", async () => {
    const token = await server.tokenFor(["payment-service"]);
    const first = await server.request("POST", "/v1/payments/apply", { token, body: PAYMENT });
    expect(first.status).toBe(200);
    expect(first.body.code).toBe("reserved");
    expect(first.body.reservation.subsidies.length).toBeGreaterThan(0);
    const again = await server.request("POST", "/v1/payments/apply", { token, body: PAYMENT });
    expect(again.status).toBe(200);
    expect(again.body.replayed).toBe(true);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const changed = await server.request("POST", "/v1/payments/apply", {
      token,
      body: { ...PAYMENT, amountMinor: 12_001 },
    });
    expect(changed.status).toBe(409);
    expect(changed.body.code).toBe("idempotency_conflict");
  });
});
