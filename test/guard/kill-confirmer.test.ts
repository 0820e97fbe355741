/**
 * The kill confirmer (src/guard/kill-confirmer.ts) and the kill watcher's `onKillsObeyed`, on the
 * memory stores with a manual clock and timers: a kill recorded on an incident (its
 * `kill_published` entry) is confirmed once per evaluator id — again, after a restart, or with
 * two confirmers racing, nothing more is written; a kill obeyed before its incident records it is
 * confirmed at a later attempt; one no incident records is given up; a refusing incident is
 * dropped at once; a failing store is retried and never thrown into the caller; a stopped
 * confirmer writes nothing.
 */
import { describe, expect, test } from "vitest";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import type { Kill } from "../../src/core/guard/kill.ts";
import { NO_IMPACT } from "../../src/core/guard/severity-policy.ts";
import { IncidentService } from "../../src/guard/incident-service.ts";
import type { IncidentStore } from "../../src/guard/incident-store.ts";
import {
  type KillConfirmationOutcome,
  KillConfirmer,
  type KillConfirmerOptions,
  processEvaluatorId,
} from "../../src/guard/kill-confirmer.ts";
import { KillWatcher } from "../../src/guard/kill-watcher.ts";
import { MemoryIncidentStore } from "../../src/guard/memory-incident-store.ts";
import { MemoryKillStore } from "../../src/guard/memory-kill-store.ts";
import { ManualTimers } from "./kill-fixtures.ts";

/** An incident store whose reads or writes throw while told to (a control database gone away). */
class FailingIncidentStore implements IncidentStore {
  failReads = false;
  failWrites = false;
  constructor(private readonly store: IncidentStore) {}
  nextIncidentId() {
    return this.store.nextIncidentId();
  }
  async getIncident(id: string) {
    if (this.failReads) throw new Error("incident store read_failed: connection lost");
    return this.store.getIncident(id);
  }
  async listIncidents(options: Parameters<IncidentStore["listIncidents"]>[0]) {
    if (this.failReads) throw new Error("incident store read_failed: connection lost");
    return this.store.listIncidents(options);
  }
  async writeIncident(...args: Parameters<IncidentStore["writeIncident"]>) {
    if (this.failWrites) throw new Error("incident store write_failed: connection lost");
    return this.store.writeIncident(...args);
  }
  close() {
    return this.store.close();
  }
}

function setUp() {
  const timers = new ManualTimers();
  const audit = new MemoryAuditLogStore();
  const kills = new MemoryKillStore(audit);
  const store = new FailingIncidentStore(new MemoryIncidentStore(audit));
  const nowMs = () => timers.nowMs;
  const incidents = new IncidentService({ store, nowMs });
  const outcomes: KillConfirmationOutcome[] = [];
  const confirmer = (options: Partial<KillConfirmerOptions> = {}) =>
    new KillConfirmer({
      incidents,
      evaluatorId: "serve-b",
      nowMs,
      timers,
      retryMs: 1_000,
      attemptsMax: 5,
      onOutcome: (outcome) => outcomes.push(outcome),
      ...options,
    });
  const publish = async (campaignId: string): Promise<Kill> => {
    const published = await kills.publishKill({
      scope: { kind: "campaigns", campaignIds: [campaignId] },
      reason: `breaker campaign:${campaignId}@1 tripped`,
      actor: "guard",
      atMs: timers.nowMs,
    });
    if (!published.ok) throw new Error(published.message);
    return published.kill;
  };
  /** What the responder does after its kill: an incident, then the kill on its timeline. */
  const recordOnIncident = async (kill: Kill): Promise<string> => {
    const opened = await incidents.openFromTrip({
      breakerId: "campaign:a-coffee@1",
      tripCode: "velocity.above_ceiling",
      impact: NO_IMPACT,
    });
    if (!opened.ok) throw new Error(opened.message);
    const added = await incidents.addTimeline(opened.incident.id, {
      kind: "kill_published",
      atMs: kill.atMs,
      byId: "guard",
      summary: `kill ${kill.sequence}`,
      details: { killSequence: kill.sequence, campaigns: 1 },
    });
    if (!added.ok) throw new Error(added.message);
    return opened.incident.id;
  };
  const confirmations = async (incidentId: string) =>
    ((await incidents.get(incidentId))?.timeline ?? []).filter(
      (entry) => entry.kind === "kill_confirmed",
    );
  return {
    timers,
    kills,
    store,
    incidents,
    outcomes,
    confirmer,
    publish,
    recordOnIncident,
    confirmations,
  };
}

describe("a kill confirmer", () => {
  test("confirms a kill recorded on an incident once per evaluator id, at the instant it was obeyed", async () => {
    const world = setUp();
    const kill = await world.publish("a-coffee");
    const incidentId = await world.recordOnIncident(kill);
    const obeyedAtMs = world.timers.nowMs;
    const confirmer = world.confirmer();
    confirmer.obeyed([kill], obeyedAtMs);
    await confirmer.idle();
    expect(await world.confirmations(incidentId)).toEqual([
      {
        kind: "kill_confirmed",
        atMs: obeyedAtMs,
        byId: "serve-b",
        summary: `serve-b applies kill ${kill.sequence} from its next decision`,
        details: { evaluatorId: "serve-b", killSequence: kill.sequence },
      },
    ]);
    expect(world.outcomes).toEqual([
      expect.objectContaining({ code: "confirmed", killSequence: kill.sequence, incidentId }),
    ]);

    // Told again, and after a restart under the same id: found on the timeline, nothing written.
    await world.timers.advance(5_000);
    confirmer.obeyed([kill]);
    await confirmer.idle();
    const restarted = world.confirmer();
    restarted.obeyed([kill]);
    await restarted.idle();
    expect(await world.confirmations(incidentId)).toHaveLength(1);
    expect(world.outcomes.map((outcome) => outcome.code)).toEqual([
      "confirmed",
      "already_confirmed",
      "already_confirmed",
    ]);
    // Another process is another entry.
    const other = world.confirmer({ evaluatorId: "serve-c" });
    other.obeyed([kill]);
    await other.idle();
    expect((await world.confirmations(incidentId)).map((entry) => entry.byId)).toEqual([
      "serve-b",
      "serve-c",
    ]);
    expect(world.timers.pending).toBe(0);
  });

  test("two confirmers under one id racing on one incident write one entry", async () => {
    const world = setUp();
    const kill = await world.publish("a-coffee");
    const incidentId = await world.recordOnIncident(kill);
    const first = world.confirmer();
    const second = world.confirmer();
    first.obeyed([kill]);
    second.obeyed([kill]);
    await Promise.all([first.idle(), second.idle()]);
    expect(await world.confirmations(incidentId)).toHaveLength(1);
    expect(world.outcomes.map((outcome) => outcome.code).sort()).toEqual([
      "already_confirmed",
      "confirmed",
    ]);
  });

  test("a kill obeyed before its incident records it is confirmed at a later attempt", async () => {
    const world = setUp();
    const kill = await world.publish("a-coffee");
    const obeyedAtMs = world.timers.nowMs;
    const confirmer = world.confirmer();
    confirmer.obeyed([kill], obeyedAtMs);
    await confirmer.idle();
    expect(confirmer.pendingCount).toBe(1);
    // Not found yet is the ordinary case: nothing reported.
    expect(world.outcomes).toEqual([]);
    await world.timers.advance(400);
    const incidentId = await world.recordOnIncident(kill);
    await world.timers.advance(600);
    await confirmer.idle();
    expect(await world.confirmations(incidentId)).toEqual([
      expect.objectContaining({ atMs: obeyedAtMs, byId: "serve-b" }),
    ]);
    expect(world.outcomes.map((outcome) => outcome.code)).toEqual(["confirmed"]);
    expect(confirmer.pendingCount).toBe(0);
    expect(world.timers.pending).toBe(0);
  });

  test("a kill no incident records (a person's) is given up after its attempts, once", async () => {
    const world = setUp();
    const kill = await world.publish("a-coffee");
    const confirmer = world.confirmer({ attemptsMax: 3 });
    confirmer.obeyed([kill]);
    await world.timers.advance(10_000);
    expect(world.outcomes).toEqual([
      expect.objectContaining({
        code: "no_incident",
        killSequence: kill.sequence,
        incidentId: null,
        retrying: false,
      }),
    ]);
    expect(confirmer.pendingCount).toBe(0);
    expect(world.timers.pending).toBe(0);
    expect(confirmer.counts.no_incident).toBe(1);
  });

  test("an incident that refuses the entry (resolved) is dropped at once, not retried", async () => {
    const world = setUp();
    const kill = await world.publish("a-coffee");
    const incidentId = await world.recordOnIncident(kill);
    const reason = "stopped and absorbed, a test";
    expect((await world.incidents.mitigate("ops", incidentId, reason)).ok).toBe(true);
    const remediated = await world.incidents.recordRemediation("ops", incidentId, {
      reason,
      costAbsorbedMinor: 0,
    });
    expect(remediated.ok).toBe(true);
    expect((await world.incidents.resolve("ops", incidentId, reason)).ok).toBe(true);
    const confirmer = world.confirmer();
    confirmer.obeyed([kill]);
    await confirmer.idle();
    expect(world.outcomes).toEqual([
      expect.objectContaining({
        code: "incident_refused",
        incidentId,
        retrying: false,
        message: expect.stringContaining("incident.illegal_transition"),
      }),
    ]);
    expect(world.timers.pending).toBe(0);
    expect(await world.confirmations(incidentId)).toEqual([]);
  });

  test("a failing store is reported and retried, never thrown into the caller, and the kill confirmed once it answers", async () => {
    const world = setUp();
    const kill = await world.publish("a-coffee");
    const incidentId = await world.recordOnIncident(kill);
    const confirmer = world.confirmer();
    world.store.failReads = true;
    expect(() => confirmer.obeyed([kill])).not.toThrow();
    await confirmer.idle();
    world.store.failReads = false;
    world.store.failWrites = true;
    await world.timers.advance(1_000);
    world.store.failWrites = false;
    await world.timers.advance(1_000);
    expect(world.outcomes.map(({ code, retrying }) => ({ code, retrying }))).toEqual([
      { code: "store_failed", retrying: true },
      { code: "store_failed", retrying: true },
      { code: "confirmed", retrying: false },
    ]);
    expect(world.outcomes[0]!.message).toContain("listing incidents failed");
    expect(world.outcomes[1]!.incidentId).toBe(incidentId);
    expect(await world.confirmations(incidentId)).toHaveLength(1);
    expect(confirmer.counts).toMatchObject({ store_failed: 2, confirmed: 1 });
  });

  test("a store failing past the attempts drops the kill with store_failed", async () => {
    const world = setUp();
    const kill = await world.publish("a-coffee");
    await world.recordOnIncident(kill);
    const confirmer = world.confirmer({ attemptsMax: 2 });
    world.store.failReads = true;
    confirmer.obeyed([kill]);
    await world.timers.advance(5_000);
    expect(world.outcomes.map(({ code, retrying }) => ({ code, retrying }))).toEqual([
      { code: "store_failed", retrying: true },
      { code: "store_failed", retrying: false },
    ]);
    expect(world.timers.pending).toBe(0);
  });

  test("a stopped confirmer writes nothing more and leaves no timer", async () => {
    const world = setUp();
    const kill = await world.publish("a-coffee");
    const confirmer = world.confirmer();
    confirmer.obeyed([kill]);
    await confirmer.idle();
    expect(world.timers.pending).toBe(1);
    await confirmer.stop();
    expect(world.timers.pending).toBe(0);
    const incidentId = await world.recordOnIncident(kill);
    confirmer.obeyed([kill]);
    await world.timers.advance(5_000);
    expect(await world.confirmations(incidentId)).toEqual([]);
    expect(world.outcomes).toEqual([]);
  });

  test("options out of range are refused when it is made", () => {
    const world = setUp();
    expect(() => world.confirmer({ retryMs: 0 })).toThrow(RangeError);
    expect(() => world.confirmer({ attemptsMax: 0 })).toThrow(RangeError);
  });
});

describe("a process's evaluator id", () => {
  test("names the program, the pid and the host, and an incident takes it as the confirmation's author", async () => {
    const evaluatorId = processEvaluatorId("serve");
    expect(evaluatorId).toMatch(new RegExp(`^bursar-serve-${process.pid}@[A-Za-z0-9.-]{1,64}$`));
    const world = setUp();
    const kill = await world.publish("a-coffee");
    const incidentId = await world.recordOnIncident(kill);
    const outcomes: KillConfirmationOutcome[] = [];
    const confirmer = world.confirmer({
      evaluatorId,
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    confirmer.obeyed([kill], world.timers.nowMs);
    await confirmer.idle();
    expect(outcomes.map((outcome) => outcome.code)).toEqual(["confirmed"]);
    expect((await world.confirmations(incidentId)).map((entry) => entry.byId)).toEqual([
      evaluatorId,
    ]);
  });
});

describe("a kill watcher's onKillsObeyed", () => {
  test("tells each kill once, when this process begins to obey it: read at start, read later, or adopted", async () => {
    const world = setUp();
    const before = await world.publish("a-coffee");
    const told: { sequences: number[]; atMs: number }[] = [];
    const watcher = await KillWatcher.start({
      store: world.kills,
      nowMs: () => world.timers.nowMs,
      timers: world.timers,
      pollMs: 250,
      allowedStalenessMs: 1_000,
      readTimeoutMs: 200,
      onKillsObeyed: (kills, atMs) =>
        told.push({ sequences: kills.map((kill) => kill.sequence), atMs }),
    });
    const startedAtMs = world.timers.nowMs;
    expect(told).toEqual([{ sequences: [before.sequence], atMs: startedAtMs }]);

    await world.timers.advance(100);
    const later = await world.publish("b-coffee");
    await world.timers.advance(300);
    expect(told.at(-1)?.sequences).toEqual([later.sequence]);

    // A clear, and reads that bring nothing new, tell nothing.
    const cleared = await world.kills.clearKill({
      killSequence: before.sequence,
      reason: "rolled back, a test",
      actor: "ops",
      atMs: world.timers.nowMs,
    });
    expect(cleared.ok).toBe(true);
    await world.timers.advance(1_000);
    expect(told).toHaveLength(2);

    // Adopted (published by this process): told at once, and not again when a read brings it.
    const own = await world.publish("c-bank");
    watcher.adopt(own);
    watcher.adopt(own);
    expect(told.at(-1)).toEqual({ sequences: [own.sequence], atMs: world.timers.nowMs });
    await world.timers.advance(1_000);
    expect(told.map((entry) => entry.sequences)).toEqual([
      [before.sequence],
      [later.sequence],
      [own.sequence],
    ]);
    await watcher.stop();
  });

  test("wired to a confirmer, a kill another process publishes and records is confirmed by this one", async () => {
    const world = setUp();
    const confirmer = world.confirmer();
    const watcher = await KillWatcher.start({
      store: world.kills,
      nowMs: () => world.timers.nowMs,
      timers: world.timers,
      notifications: false,
      onKillsObeyed: (kills, atMs) => confirmer.obeyed(kills, atMs),
    });
    const kill = await world.publish("a-coffee");
    const incidentId = await world.recordOnIncident(kill);
    await world.timers.advance(2_000);
    await confirmer.idle();
    expect(await world.confirmations(incidentId)).toEqual([
      expect.objectContaining({
        byId: "serve-b",
        details: expect.objectContaining({ killSequence: kill.sequence }),
      }),
    ]);
    await watcher.stop();
    await confirmer.stop();
  });
});
