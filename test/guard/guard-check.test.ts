/**
 * Guard mode's service (src/guard/guard-check.ts) over real parts: a served snapshot, a kill
 * watcher on the memory kill store with a manual clock, and a runtime guard. What it allows is
 * recorded as external campaigns; a kill published in the store refuses the external campaign
 * once the watcher has read it; a store that stops answering makes the answer follow the caller's
 * `whenUnhealthy`; and a runaway external campaign trips the platform monitor.
 */
import { describe, expect, test } from "vitest";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import type { Decision } from "../../src/core/evaluator/decision.ts";
import type { Payment } from "../../src/core/model/payment.ts";
import { type GuardCheckServed, GuardCheckService } from "../../src/guard/guard-check.ts";
import type { KillStore } from "../../src/guard/kill-store.ts";
import { KillWatcher } from "../../src/guard/kill-watcher.ts";
import { MemoryKillStore } from "../../src/guard/memory-kill-store.ts";
import { RuntimeGuard } from "../../src/guard/runtime-guard.ts";
import { coffeePayment } from "../support/documents.ts";
import { coffeeSnapshot } from "../support/snapshots.ts";
import { ManualTimers } from "./kill-fixtures.ts";

/** Keeps what it is told: the recorder guard mode writes to, observed. */
class RecordingGuard {
  readonly recorded: { payment: Payment; decision: Decision }[] = [];
  record(payment: Payment, decision: Decision): void {
    this.recorded.push({ payment, decision });
  }
}

/** A store that stops answering while `hung` is set (reads never settle). */
function hangable(store: KillStore): KillStore & { hung: boolean } {
  const never = new Promise<never>(() => {});
  const wrapped = {
    hung: false,
    publishKill: (request: Parameters<KillStore["publishKill"]>[0]) => store.publishKill(request),
    clearKill: (request: Parameters<KillStore["clearKill"]>[0]) => store.clearKill(request),
    readState: () => (wrapped.hung ? never : store.readState()),
    readSequence: () => (wrapped.hung ? never : store.readSequence()),
    close: () => store.close(),
  };
  return wrapped;
}

async function setUp(options: { served?: GuardCheckServed | undefined } = {}) {
  const timers = new ManualTimers();
  const store = hangable(new MemoryKillStore(new MemoryAuditLogStore()));
  const kills = await KillWatcher.start({
    store,
    nowMs: () => timers.nowMs,
    timers,
    pollMs: 250,
    allowedStalenessMs: 1_000,
    readTimeoutMs: 200,
    notifications: false,
  });
  const guard = new RecordingGuard();
  const served = "served" in options ? options.served : coffeeSnapshot(1_000_000);
  const service = new GuardCheckService({
    served: () => served,
    kills,
    guard,
    nowMs: () => timers.nowMs,
    whenUnhealthy: "refuse",
    externalCampaigns: [
      {
        campaignRef: "coffee-promo",
        funding: "merchant",
        label: "merchant_offer",
        scope: { scenarios: ["merchant_qr"], regions: ["CN-SH"] },
        perPaymentMaxMinor: 500,
      },
    ],
  });
  return { timers, store, kills, guard, service };
}

const request = (paymentId: string, extra: Record<string, unknown> = {}) => ({
  payment: coffeePayment(paymentId),
  proposals: [
    {
      proposalId: "p1",
      campaignRef: "instant-7",
      amountMinor: 300,
      funding: "platform",
      label: "instant_discount",
    },
    {
      proposalId: "p2",
      campaignRef: "coffee-promo",
      amountMinor: 900,
      funding: "merchant",
      label: "merchant_offer",
    },
  ],
  ...extra,
});

describe("GuardCheckService", () => {
  test("answers per proposal and records what it allowed as external campaigns", async () => {
    const { service, guard, kills } = await setUp();
    const check = service.check(request("pay-1"));
    expect(
      check.answers.map((answer) => [answer.outcome, answer.amountMinor, answer.clampedBy]),
    ).toEqual([
      ["allowed", 300, null],
      ["clamped", 500, "registered_max"],
    ]);
    expect(guard.recorded).toHaveLength(1);
    const { decision, payment } = guard.recorded[0]!;
    expect(payment.paymentId).toBe("pay-1");
    expect(decision.snapshotVersion).toBe(1);
    expect(decision.totalSubsidyMinor).toBe(800);
    expect(
      decision.subsidies.map((subsidy) => [
        subsidy.campaignId,
        subsidy.amountMinor,
        subsidy.funding,
      ]),
    ).toEqual([
      ["ext:instant-7", 300, "platform"],
      ["ext:coffee-promo", 500, "merchant"],
    ]);
    await kills.stop();
  });

  test("invalid requests are answered, not thrown, and not recorded; refused payments are", async () => {
    const { service, guard, kills } = await setUp();
    expect(service.check(null).reason).toBe("request.invalid");
    expect(service.check({ payment: {}, proposals: [] }).reason).toBe("payment.invalid");
    expect(service.check({ payment: coffeePayment("x"), proposals: "all" }).reason).toBe(
      "proposals.invalid",
    );
    expect(guard.recorded).toHaveLength(0);
    const transfer = service.check({
      ...request("pay-2"),
      payment: coffeePayment("pay-2", { scenario: "p2p_transfer" }),
    });
    expect(transfer.reason).toBe("envelope.protected_scenario");
    // A payment with nothing granted still counts: it is the monitors' denominator.
    expect(guard.recorded.map(({ decision }) => decision.totalSubsidyMinor)).toEqual([0]);
    await kills.stop();
  });

  test("a kill published in the store refuses the external campaign once the watcher reads it", async () => {
    const { service, store, timers, kills } = await setUp();
    await store.publishKill({
      scope: { kind: "campaigns", campaignIds: ["ext:instant-7"] },
      reason: "runaway external campaign",
      actor: "oncall",
      atMs: timers.nowMs,
    });
    await timers.advance(300);
    const check = service.check(request("pay-3"));
    expect(check.answers.map((answer) => answer.reason)).toEqual(["guard.killed", null]);
    await kills.stop();
  });

  test("a kill state gone stale follows whenUnhealthy: the service's refuse, or the request's pass", async () => {
    const { service, store, timers, kills } = await setUp();
    store.hung = true;
    await timers.advance(1_500);
    expect(service.check(request("pay-4"))).toMatchObject({
      reason: "guard.snapshot_stale",
      unhealthy: "guard.snapshot_stale",
      allowedTotalMinor: 0,
    });
    expect(service.check(request("pay-5", { whenUnhealthy: "pass" }))).toMatchObject({
      reason: null,
      unhealthy: "guard.snapshot_stale",
      allowedTotalMinor: 800,
    });
    store.hung = false;
    await timers.advance(1_000);
    expect(service.check(request("pay-6"))).toMatchObject({ reason: null, unhealthy: null });
    await kills.stop();
  });

  test("no configuration served: refused by default, passed unbounded on request", async () => {
    const { service, kills } = await setUp({ served: undefined });
    expect(service.check(request("pay-7")).reason).toBe("guard.envelope_unavailable");
    expect(service.check(request("pay-8", { whenUnhealthy: "pass" }))).toMatchObject({
      unhealthy: "guard.envelope_unavailable",
      allowedTotalMinor: 800,
    });
    await kills.stop();
  });

  test("registrations that cannot mean anything are refused at construction", async () => {
    const { kills } = await setUp();
    const build = (externalCampaigns: never[]) =>
      new GuardCheckService({
        served: () => undefined,
        kills,
        guard: new RecordingGuard(),
        nowMs: () => 0,
        whenUnhealthy: "refuse",
        externalCampaigns,
      });
    const valid = {
      campaignRef: "a",
      funding: "platform",
      label: "coupon",
      scope: { scenarios: [], regions: [] },
    };
    expect(() => build([{ ...valid, funding: "friend" }] as never[])).toThrow(RangeError);
    expect(() => build([valid, valid] as never[])).toThrow(/registered twice/);
    await kills.stop();
  });
});

describe("guard mode feeds the runtime guard's monitors", () => {
  test("a runaway external campaign trips the platform monitor", async () => {
    const { timers, kills } = await setUp();
    const startMs = timers.nowMs;
    const guard = new RuntimeGuard({ platformBaselinePaymentsMin: 100 });
    const snapshot = coffeeSnapshot(1_000_000);
    const service = new GuardCheckService({
      served: () => snapshot,
      kills,
      guard,
      nowMs: () => timers.nowMs,
      whenUnhealthy: "refuse",
    });
    const T0 = Date.UTC(2025, 0, 16, 6, 0);
    guard.configure({ stable: [] }, T0);
    const checkAt = (index: number, atMs: number, amountMinor: number) =>
      service.check({
        payment: coffeePayment(`pay-${index}`, { atMs }),
        proposals: [
          {
            proposalId: "p",
            campaignRef: "instant",
            amountMinor,
            funding: "platform",
            label: "instant_discount",
          },
        ],
      });
    // A normal minute: 1 fen off 35 yuan, 2,000 payments.
    for (let index = 0; index < 2_000; index += 1) checkAt(index, T0 + index * 30, 1);
    guard.configure({ stable: [] }, T0 + 61_000);
    expect(guard.check(T0 + 61_000)).toEqual([]);
    // The external template edit: 10 yuan off every payment, 1,500 in a second.
    for (let index = 0; index < 1_500; index += 1) {
      checkAt(10_000 + index, T0 + 120_000 + Math.floor(index / 2), 1_000);
    }
    const trips = guard.check(T0 + 120_800);
    expect(trips.map((trip) => trip.code)).toContain("platform.above_baseline");
    expect(timers.nowMs).toBe(startMs);
    await kills.stop();
  });
});
