/**
 * Every serving process confirms the kills it obeys, at the application level: three
 * `PaymentServing`s on shared memory stores (as three `bursar serve` processes share one control
 * database), each composed as the server composes it — a `KillConfirmer` under the serving's
 * evaluator id told by `onKillsObeyed`. A registered external campaign running away through A's
 * guard-mode checks trips A's guard: A kills it, opens the incident and confirms its own kill; B,
 * ticking beside it, confirms it under its own name; C, opened after the kill, confirms it on its
 * first tick. Each exactly once, however many ticks follow.
 */
import { describe, expect, test } from "vitest";
import { ChangeService } from "../../src/control/change-service.ts";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../../src/control/memory-change-store.ts";
import { GuardCheckService } from "../../src/guard/guard-check.ts";
import type { GuardedTick } from "../../src/guard/guarded-runner.ts";
import { IncidentService } from "../../src/guard/incident-service.ts";
import { KillConfirmer } from "../../src/guard/kill-confirmer.ts";
import { MemoryIncidentStore } from "../../src/guard/memory-incident-store.ts";
import { MemoryKillStore } from "../../src/guard/memory-kill-store.ts";
import { PaymentServing } from "../../src/guard/payment-serving.ts";
import { coffeePayment } from "../support/documents.ts";
import { coffeeSnapshot } from "../support/snapshots.ts";
import { FLASH_EXTERNAL_CAMPAIGN } from "./guard-test-fixtures.ts";
import { ManualTimers } from "./kill-fixtures.ts";

const T0 = Date.UTC(2025, 0, 16, 6, 0);
const STEP_MS = 25;
const TICK_MS = 100;

const FLASH = FLASH_EXTERNAL_CAMPAIGN;

async function setUp() {
  const timers = new ManualTimers();
  timers.nowMs = T0;
  const nowMs = () => timers.nowMs;
  const audit = new MemoryAuditLogStore();
  const changeStore = new MemoryChangeStore(audit);
  const kills = new MemoryKillStore(audit);
  const incidentStore = new MemoryIncidentStore(audit);
  const incidents = new IncidentService({ store: incidentStore, nowMs });
  const confirmers: KillConfirmer[] = [];
  /** One process: its own services over the shared stores, composed as bursar-server.ts does. */
  const serve = async (evaluatorId: string) => {
    const processIncidents = new IncidentService({ store: incidentStore, nowMs });
    const confirmer = new KillConfirmer({
      incidents: processIncidents,
      evaluatorId,
      nowMs,
      timers,
    });
    confirmers.push(confirmer);
    const serving = await PaymentServing.open({
      changes: new ChangeService({
        store: changeStore,
        assess: async () => {
          throw new Error("nothing is submitted here");
        },
        now: () => new Date(timers.nowMs).toISOString(),
      }),
      kills,
      incidents: processIncidents,
      nowMs,
      randomSeed: 1,
      evaluatorId,
      onKillsObeyed: (obeyed, atMs) => confirmer.obeyed(obeyed, atMs),
      fund: async () => {},
      externalCampaigns: [FLASH],
    });
    return { serving, confirmer };
  };
  return { timers, incidents, confirmers, serve };
}

describe("kill confirmations across serving processes", () => {
  test("the tripping process, one beside it and one started after the kill each confirm it exactly once", async () => {
    const world = await setUp();
    const a = await world.serve("serve-a");
    const b = await world.serve("serve-b");
    const snapshot = coffeeSnapshot(1_000_000);
    const guardCheck = new GuardCheckService({
      served: () => snapshot,
      kills: a.serving.guardModeKills,
      guard: { record: (payment, decision) => a.serving.recordExternal(payment, decision) },
      nowMs: () => world.timers.nowMs,
      whenUnhealthy: "refuse",
      externalCampaigns: [FLASH],
    });
    const tickAll = async (servings: readonly PaymentServing[]) => {
      const trips: GuardedTick["trips"][number][] = [];
      for (const serving of servings) trips.push(...(await serving.tick()).trips);
      await Promise.all(world.confirmers.map((confirmer) => confirmer.idle()));
      return trips;
    };
    // 30 yuan a check, 40 checks a second: 60 times the registered ceiling's pace.
    let trips: GuardedTick["trips"][number][] = [];
    for (let index = 0; index < 400 && trips.length === 0; index += 1) {
      guardCheck.check({
        payment: coffeePayment(`ext-${index}`, {
          userId: `u-${index}`,
          amountMinor: 12_000,
          atMs: world.timers.nowMs,
        }),
        proposals: [
          {
            proposalId: "f",
            campaignRef: "partner-flash",
            amountMinor: 3_000,
            funding: "platform",
            label: "instant_discount",
          },
        ],
      });
      await world.timers.advance(STEP_MS);
      if (index % (TICK_MS / STEP_MS) === 0) trips = await tickAll([a.serving, b.serving]);
    }
    expect(trips).toHaveLength(1);
    const { response } = trips[0]!;
    const incidentId = response.incidentId!;
    const killSequence = response.killSequence!;
    expect(incidentId).not.toBeNull();

    const c = await world.serve("serve-c");
    for (let tick = 0; tick < 20; tick += 1) {
      await world.timers.advance(TICK_MS);
      await tickAll([a.serving, b.serving, c.serving]);
    }
    const incident = await world.incidents.get(incidentId);
    const confirmed = incident!.timeline.filter((entry) => entry.kind === "kill_confirmed");
    expect(confirmed.map((entry) => [entry.byId, entry.details])).toEqual(
      expect.arrayContaining([
        ["serve-a", { evaluatorId: "serve-a", killSequence }],
        ["serve-b", { evaluatorId: "serve-b", killSequence }],
        ["serve-c", { evaluatorId: "serve-c", killSequence }],
      ]),
    );
    expect(confirmed).toHaveLength(3);
    // A's own kill is confirmed by its guarded runner, not told to its confirmer.
    expect(a.confirmer.counts).toMatchObject({ confirmed: 0, already_confirmed: 0 });
    expect(b.confirmer.counts).toMatchObject({ confirmed: 1, already_confirmed: 0 });
    expect(c.confirmer.counts).toMatchObject({ confirmed: 1, already_confirmed: 0 });
    // C obeyed the kill from its open; it confirms at its first tick, on its clock then.
    const cEntry = confirmed.find((entry) => entry.byId === "serve-c")!;
    const bEntry = confirmed.find((entry) => entry.byId === "serve-b")!;
    expect(cEntry.atMs).toBeGreaterThan(bEntry.atMs);
    for (const confirmer of world.confirmers) await confirmer.stop();
    expect(world.timers.pending).toBe(0);
  });
});
