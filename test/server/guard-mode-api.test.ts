/**
 * Guard mode on a real server over both stores, with the examples' envelope served: an external
 * engine's proposals for a protected scenario and an individual payee are refused, an
 * over-envelope amount is clamped, an ordinary one allowed, and a kill of the external campaign
 * refuses it.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { groceryPayment } from "../support/api-calls.ts";
import { startTestServer, TEST_STORES, type TestServer } from "../support/server.ts";

const proposal = (proposalId: string, amountMinor: number, campaignRef = "partner-instant") => ({
  proposalId,
  campaignRef,
  amountMinor,
  funding: "platform",
  label: "instant_discount",
});

describe.each(TEST_STORES)("guard mode on %s", (store) => {
  let server: TestServer;
  let payments: string;
  let operator: string;
  beforeAll(async () => {
    server = await startTestServer(store, { demo: true, demoTps: 0 });
    payments = await server.tokenFor(["payment-service"]);
    operator = await server.tokenFor(["operator"]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const check = (payment: unknown, proposals: unknown[]) =>
    server.request("POST", "/v1/guard/check", { token: payments, body: { payment, proposals } });

  test("protected scenarios and individual payees get nothing; amounts over the envelope are clamped", async () => {
    const transfer = await check(groceryPayment("gm-1", { scenario: "p2p_transfer" }), [
      proposal("a", 500),
    ]);
    expect(transfer.status).toBe(200);
    expect(transfer.body.answers[0]).toMatchObject({
      outcome: "refused",
      reason: "envelope.protected_scenario",
    });
    const individual = await check(groceryPayment("gm-2", { payeeKind: "individual" }), [
      proposal("a", 500),
    ]);
    expect(individual.body.answers[0]).toMatchObject({
      outcome: "refused",
      reason: "envelope.individual_payee",
    });
    // 12,000 fen paid: the envelope's 30 % per payment allows 3,600 at most.
    const greedy = await check(groceryPayment("gm-3"), [proposal("a", 9_000)]);
    expect(greedy.body.answers[0]).toMatchObject({ outcome: "clamped", amountMinor: 3_600 });
    const fair = await check(groceryPayment("gm-4"), [proposal("a", 300)]);
    expect(fair.body.answers[0]).toMatchObject({ outcome: "allowed", amountMinor: 300 });
  });

  test("a kill of the external campaign refuses its proposals", async () => {
    const killed = await server.request("POST", "/v1/kills", {
      token: operator,
      body: {
        scope: { kind: "campaigns", campaignIds: ["ext:partner-runaway"] },
        reason: "runaway partner campaign",
      },
    });
    expect(killed.status).toBe(201);
    let outcome: unknown;
    for (let tried = 0; tried < 40; tried += 1) {
      const answer = await check(groceryPayment(`gm-kill-${tried}`), [
        proposal("a", 300, "partner-runaway"),
      ]);
      outcome = answer.body.answers[0];
      if ((outcome as { outcome: string }).outcome === "refused") break;
      await new Promise((done) => setTimeout(done, 100));
    }
    expect(outcome).toMatchObject({ outcome: "refused", reason: "guard.killed" });
  });
});
