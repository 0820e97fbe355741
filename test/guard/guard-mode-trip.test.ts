/**
 * Guard mode, increment 2, at the application level: an external engine's checks recorded into
 * the payment serving's own guard (`PaymentServing.recordExternal`), its ticks every 100 ms of a
 * virtual clock checking the monitors, and a trip going to the same responder as a native one.
 * Real parts on memory stores (as src/demo runs): the change service, the kill store, incidents.
 *
 * - A registered external campaign running far above its declared ceiling trips within a second,
 *   is killed (`ext:<campaignRef>`; later checks answer `guard.killed`), nothing is rolled back or
 *   paused, and an incident names it.
 * - An unregistered one running away trips its own baseline (mean subsidy per payment) and is
 *   killed.
 * - An unregistered one that keeps its amounts but moves them to another funder's money (as the
 *   2025-01-16 template moved them to the government's) trips that funder's breaker.
 * - Five minutes of steady external traffic trip nothing.
 */
import { describe, expect, test } from "vitest";
import { ChangeService } from "../../src/control/change-service.ts";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../../src/control/memory-change-store.ts";
import { GuardCheckService } from "../../src/guard/guard-check.ts";
import type { GuardedTick } from "../../src/guard/guarded-runner.ts";
import { IncidentService } from "../../src/guard/incident-service.ts";
import { MemoryIncidentStore } from "../../src/guard/memory-incident-store.ts";
import { MemoryKillStore } from "../../src/guard/memory-kill-store.ts";
import { PaymentServing } from "../../src/guard/payment-serving.ts";
import { coffeePayment } from "../support/documents.ts";
import { coffeeSnapshot } from "../support/snapshots.ts";
import { FLASH_EXTERNAL_CAMPAIGN } from "./guard-test-fixtures.ts";

const T0 = Date.UTC(2025, 0, 16, 6, 0);
/** External checks a second: a small partner engine's share of the traffic. */
const CHECKS_PER_SECOND = 40;
const STEP_MS = 1_000 / CHECKS_PER_SECOND;
/** 120 yuan a payment: the envelope's 30 % allows up to 36 yuan of subsidy. */
const PAYMENT_MINOR = 12_000;

const FLASH = FLASH_EXTERNAL_CAMPAIGN;

async function setUp() {
  const clock = { nowMs: T0 };
  const nowMs = () => clock.nowMs;
  const audit = new MemoryAuditLogStore();
  const changes = new ChangeService({
    store: new MemoryChangeStore(audit),
    assess: async () => {
      throw new Error("nothing is submitted here");
    },
    now: () => new Date(clock.nowMs).toISOString(),
  });
  const incidents = new IncidentService({ store: new MemoryIncidentStore(audit), nowMs });
  const serving = await PaymentServing.open({
    changes,
    kills: new MemoryKillStore(audit),
    incidents,
    nowMs,
    randomSeed: 1,
    evaluatorId: "guard-mode-test",
    fund: async () => {},
    externalCampaigns: [FLASH],
  });
  const snapshot = coffeeSnapshot(1_000_000);
  const guardCheck = new GuardCheckService({
    served: () => snapshot,
    kills: serving.guardModeKills,
    guard: { record: (payment, decision) => serving.recordExternal(payment, decision) },
    nowMs,
    whenUnhealthy: "refuse",
    externalCampaigns: [FLASH],
  });
  let index = 0;
  const trips: GuardedTick["trips"][number][] = [];
  /** What the engine proposes on the nth payment: the two campaigns' amounts (0: nothing). */
  type Proposer = (n: number) => {
    flashMinor: number;
    cashbackMinor: number;
    cashbackFunding?: "platform" | "merchant";
  };
  const steady: Proposer = (n) => ({
    // Flash on every other payment, 0.80–1.20 yuan; cashback on every third, 0.50 yuan.
    flashMinor: n % 2 === 0 ? 80 + ((n * 7) % 41) : 0,
    cashbackMinor: n % 3 === 0 ? 50 : 0,
  });
  const check = (propose: Proposer) => {
    index += 1;
    const { flashMinor, cashbackMinor, cashbackFunding } = propose(index);
    const proposals = [
      ...(flashMinor === 0 ? [] : [proposal("f", "partner-flash", flashMinor)]),
      ...(cashbackMinor === 0
        ? []
        : [proposal("c", "partner-cashback", cashbackMinor, cashbackFunding)]),
    ];
    return guardCheck.check({
      payment: coffeePayment(`ext-${index}`, {
        userId: `u-${index % 997}`,
        amountMinor: PAYMENT_MINOR,
        atMs: clock.nowMs,
      }),
      proposals,
    });
  };
  /** `durationMs` of checks at the steady rate, a tick every 100 ms; stops at the first trip. */
  const run = async (durationMs: number, propose: Proposer) => {
    const endMs = clock.nowMs + durationMs;
    let nextTickMs = clock.nowMs + 100;
    while (clock.nowMs < endMs) {
      check(propose);
      clock.nowMs += STEP_MS;
      if (clock.nowMs >= nextTickMs) {
        nextTickMs += 100;
        const tick = await serving.tick();
        trips.push(...tick.trips);
        if (tick.trips.length > 0) return;
      }
    }
  };
  return { clock, serving, guardCheck, incidents, trips, run, check, steady };
}

function proposal(
  proposalId: string,
  campaignRef: string,
  amountMinor: number,
  funding: "platform" | "merchant" = "platform",
) {
  const label = funding === "merchant" ? "merchant_offer" : "instant_discount";
  return { proposalId, campaignRef, amountMinor, funding, label };
}

describe("guard mode's checks feed the serving's guard", () => {
  test("a registered external campaign far above its ceiling trips within a second, is killed, and opens an incident", async () => {
    const world = await setUp();
    await world.run(120_000, world.steady);
    expect(world.trips).toEqual([]);
    // The external engine's edit: 30 yuan off every payment, 50× the ceiling's pace.
    const runawayAtMs = world.clock.nowMs;
    await world.run(10_000, (n) => ({ ...world.steady(n), flashMinor: 3_000 }));
    expect(world.trips).toHaveLength(1);
    const { trip, response } = world.trips[0]!;
    expect(world.clock.nowMs - runawayAtMs).toBeLessThanOrEqual(1_000);
    expect(trip.subject).toEqual({ kind: "campaign", id: "ext:partner-flash", campaignVersion: 1 });
    expect(trip.code).toBe("velocity.above_ceiling");
    expect(response).toMatchObject({
      breakerId: "campaign:ext:partner-flash@1",
      killedCampaignIds: ["ext:partner-flash"],
      rolledBack: [],
      paused: [],
      problems: [],
    });
    // The kill is obeyed from the next check; the other external campaign is not touched.
    const next = world.check(() => ({ flashMinor: 3_000, cashbackMinor: 50 }));
    expect(next.answers.map((answer) => [answer.campaignRef, answer.reason])).toEqual([
      ["partner-flash", "guard.killed"],
      ["partner-cashback", null],
    ]);
    const incident = await world.incidents.get(response.incidentId!);
    expect(incident?.title).toContain("ext:partner-flash");
    expect(incident?.blame).toMatchObject({
      changeIds: [],
      campaignVersions: [{ campaignId: "ext:partner-flash", version: 1 }],
      templateIds: ["ext:*"],
      funders: ["platform"],
    });
    expect(incident?.severity).toMatch(/^P[0-4]$/);
    expect(incident?.timeline.map((entry) => entry.kind)).toEqual([
      "trip",
      "opened",
      "kill_published",
      "kill_confirmed",
    ]);
    expect(world.serving.breakerStates().map((breaker) => breaker.breakerId)).toEqual([
      "campaign:ext:partner-flash@1",
    ]);
  });

  test("an unregistered external campaign running away is blamed first and killed", async () => {
    const world = await setUp();
    // Past the platform baseline's 10,000 payments and the ext:* template's first minute.
    await world.run(300_000, world.steady);
    expect(world.trips).toEqual([]);
    const runawayAtMs = world.clock.nowMs;
    await world.run(30_000, (n) => ({ ...world.steady(n), cashbackMinor: 3_600 }));
    expect(world.trips.length).toBeGreaterThan(0);
    expect(world.clock.nowMs - runawayAtMs).toBeLessThanOrEqual(5_000);
    const { trip, response } = world.trips[0]!;
    // Nothing declared limits it: its own mean subsidy per payment over the baseline window does
    // (36 yuan against 0.50), before the ext:* template's spend or the platform's rate.
    expect(trip).toMatchObject({
      code: "per_payment.above_previous",
      subject: { kind: "campaign", id: "ext:partner-cashback" },
    });
    expect(trip.campaignIds[0]).toBe("ext:partner-cashback");
    expect(response.killedCampaignIds).toContain("ext:partner-cashback");
    expect(response.rolledBack).toEqual([]);
    expect(response.incidentId).not.toBeNull();
    const next = world.check(() => ({ flashMinor: 0, cashbackMinor: 3_600 }));
    expect(next.answers[0]?.reason).toBe("guard.killed");
  });

  test("an unregistered external campaign moved to another funder's money trips that funder", async () => {
    const world = await setUp();
    await world.run(300_000, world.steady);
    expect(world.trips).toEqual([]);
    const switchedAtMs = world.clock.nowMs;
    // The same 0.50 yuan on every third payment, now charged to merchants, who never paid for
    // anything through this engine: no amount, share or spend of the campaign or template moved.
    await world.run(60_000, (n) => ({ ...world.steady(n), cashbackFunding: "merchant" }));
    expect(world.trips).toHaveLength(1);
    const { trip, response } = world.trips[0]!;
    expect(trip).toMatchObject({
      code: "velocity.above_forecast",
      subject: { kind: "funder", id: "merchant" },
      campaignIds: ["ext:partner-cashback"],
    });
    // Merchants' expected spend is 0 a minute: the floor of 100 yuan in a window is the limit.
    expect(trip.limit).toBe(10_000);
    expect(world.clock.nowMs - switchedAtMs).toBeLessThanOrEqual(20_000);
    expect(response).toMatchObject({
      breakerId: "funder:merchant",
      killedCampaignIds: ["ext:partner-cashback"],
      rolledBack: [],
      paused: [],
    });
    const incident = await world.incidents.get(response.incidentId!);
    expect(incident?.timeline.map((entry) => entry.kind)).toContain("kill_published");
    const next = world.check(() => ({
      flashMinor: 0,
      cashbackMinor: 50,
      cashbackFunding: "merchant",
    }));
    expect(next.answers[0]?.reason).toBe("guard.killed");
  });

  test("five minutes of steady external traffic trip nothing", async () => {
    const world = await setUp();
    await world.run(300_000, world.steady);
    expect(world.trips).toEqual([]);
    expect(world.serving.breakerStates()).toEqual([]);
  });
});
