/**
 * The incident service over the memory stores (src/guard/incident-service.ts): the injected
 * clock, one audit entry per write, retries on a conflict, remediation releasing the blamed
 * versions' reservations through the injected port, and writes skipped when nothing changed.
 */
import { describe, expect, test } from "vitest";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import type { CampaignVersionRef } from "../../src/core/guard/incident.ts";
import { DEFAULT_SEVERITY_POLICY, NO_IMPACT } from "../../src/core/guard/severity-policy.ts";
import { IncidentService, type IncidentServiceOptions } from "../../src/guard/incident-service.ts";
import type { IncidentStore } from "../../src/guard/incident-store.ts";
import { MemoryIncidentStore } from "../../src/guard/memory-incident-store.ts";

const T0 = Date.UTC(2025, 0, 16, 6, 40);

function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

function setUp(options: Partial<IncidentServiceOptions> = {}) {
  const audit = new MemoryAuditLogStore();
  const store = new MemoryIncidentStore(audit);
  let nowMs = T0;
  const service = new IncidentService({ store, nowMs: () => nowMs, ...options });
  return {
    audit,
    store,
    service,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe("incident service", () => {
  test("a trip to resolution: every write audited at the injected time, in order", async () => {
    const released: CampaignVersionRef[][] = [];
    const { service, audit, advance } = setUp({
      releaseReservations: async (versions) => {
        released.push([...versions]);
        return { count: 4, amountMinor: 1_200 };
      },
    });
    const opened = ok(
      await service.openFromTrip({
        breakerId: "velocity-1",
        tripCode: "velocity.above_ceiling",
        trippedAtMs: T0 - 300,
        impact: { ...NO_IMPACT, atRiskPerMinuteMinor: 2_000_000, regions: 3 },
        blame: {
          changeIds: ["change-7"],
          campaignVersions: [{ campaignId: "idc-national", version: 3 }],
          templateIds: [],
          funders: ["platform"],
        },
        windowStartMs: T0 - 2_000,
      }),
    ).incident;
    expect(opened).toMatchObject({
      id: "incident-1",
      title: "breaker velocity-1 tripped: velocity.above_ceiling",
      severity: "P2",
      openedAtMs: T0,
    });
    advance(1_000);
    const id = opened.id;
    ok(
      await service.addTimeline(id, {
        kind: "kill_confirmed",
        atMs: T0 + 900,
        byId: "evaluator-1",
        summary: "applies kill 3",
        details: { evaluatorId: "evaluator-1" },
      }),
    );
    const reassessed = ok(
      await service.reassess(id, {
        impact: { ...NO_IMPACT, atRiskPerMinuteMinor: 50_000_000 },
        byId: "guard",
      }),
    );
    expect(reassessed).toMatchObject({ changed: true, incident: { severity: "P1" } });
    // The same figures again: nothing new, nothing written.
    const head = await audit.head();
    expect(
      ok(await service.reassess(id, { impact: { ...NO_IMPACT, regions: 1 }, byId: "guard" }))
        .changed,
    ).toBe(false);
    expect(await audit.head()).toEqual(head);

    ok(await service.acknowledge("ops", id));
    ok(await service.mitigate("ops", id, "kill confirmed by every evaluator"));
    const remediated = ok(
      await service.recordRemediation("fin", id, {
        reason: "the cost is ours; users keep what they received",
        costAbsorbedMinor: 9_000_000,
      }),
    ).incident;
    expect(released).toEqual([[{ campaignId: "idc-national", version: 3 }]]);
    expect(remediated.remediation).toMatchObject({
      decision: "absorb",
      reservationsReleased: { count: 4, amountMinor: 1_200 },
      costAbsorbedMinor: 9_000_000,
      decidedById: "fin",
    });
    const resolved = ok(await service.resolve("ops", id, "stopped, released, absorbed")).incident;
    expect(resolved.state).toBe("resolved");

    const entries = await audit.read(1, 100);
    expect(entries.map((entry) => [entry.action, entry.actor])).toEqual([
      ["incident.opened", "velocity-1"],
      ["incident.updated", "evaluator-1"],
      ["incident.severity_raised", "guard"],
      ["incident.acknowledged", "ops"],
      ["incident.mitigated", "ops"],
      ["incident.remediated", "fin"],
      ["incident.resolved", "ops"],
    ]);
    expect(entries.every((entry) => entry.subject === "incident/incident-1")).toBe(true);
    expect(entries[0]!.at).toBe(new Date(T0).toISOString());
    expect(entries[1]!.at).toBe(new Date(T0 + 1_000).toISOString());
    expect(entries[5]!.details).toMatchObject({ releasedCount: 4, absorbedMinor: 9_000_000 });
    expect(await audit.verify()).toMatchObject({ ok: true, entries: 7 });
  });

  test("refusals are values with codes; nothing is written for them", async () => {
    const { service, audit } = setUp();
    expect(await service.acknowledge("ops", "incident-9")).toMatchObject({
      ok: false,
      code: "incident.not_found",
    });
    expect(
      await service.openByHand("ops", { title: "label wrong", reason: "too short" }),
    ).toMatchObject({ ok: false, code: "incident.reason_required" });
    const opened = ok(
      await service.openByHand("ops", {
        title: "label wrong",
        reason: "merchants report a government label on our discount",
        severity: "P2",
      }),
    ).incident;
    expect(opened).toMatchObject({ severity: "P2", openedBy: { kind: "person" } });
    const head = await audit.head();
    expect(await service.raiseSeverity("ops", opened.id, "P3", "it is smaller")).toMatchObject({
      code: "incident.severity_not_higher",
    });
    expect(await service.resolve("ops", opened.id, "nothing to see here")).toMatchObject({
      code: "incident.illegal_transition",
    });
    expect(
      await service.addTimeline(opened.id, {
        kind: "resolved",
        atMs: T0,
        byId: "ops",
        summary: "",
      }),
    ).toMatchObject({ code: "incident.timeline_kind_not_recordable" });
    expect(await audit.head()).toEqual(head);
    expect(
      ok(await service.raiseSeverity("ops", opened.id, "P0", "it reaches card repayments")).incident
        .severity,
    ).toBe("P0");
  });

  test("remediation without a release port records what the caller released; a closed incident releases nothing", async () => {
    let calls = 0;
    const { service } = setUp({
      releaseReservations: async () => {
        calls += 1;
        return { count: 1, amountMinor: 1 };
      },
    });
    const { incident } = ok(
      await service.openByHand("ops", {
        title: "t",
        reason: "a reason long enough",
        blame: {
          changeIds: [],
          campaignVersions: [{ campaignId: "c", version: 1 }],
          templateIds: [],
          funders: [],
        },
      }),
    );
    const given = ok(
      await service.recordRemediation("fin", incident.id, {
        reason: "released by the ledger job already",
        costAbsorbedMinor: 0,
        reservationsReleased: { count: 2, amountMinor: 30 },
      }),
    ).incident;
    expect(given.remediation?.reservationsReleased).toEqual({ count: 2, amountMinor: 30 });
    expect(calls).toBe(0);
    expect(
      await service.recordRemediation("fin", incident.id, {
        reason: "a second decision is refused",
        costAbsorbedMinor: 0,
      }),
    ).toMatchObject({ code: "incident.remediation_recorded" });
    expect(calls).toBe(0);
  });

  test("a write that loses a race is decided again on the fresh incident", async () => {
    const audit = new MemoryAuditLogStore();
    const inner = new MemoryIncidentStore(audit);
    let interfere = 1;
    // A store whose first write after a read meets someone else's write in between.
    const racing: IncidentStore = {
      nextIncidentId: () => inner.nextIncidentId(),
      getIncident: (id) => inner.getIncident(id),
      listIncidents: (options) => inner.listIncidents(options),
      close: () => inner.close(),
      writeIncident: async (incident, revision, entry) => {
        if (revision > 0 && interfere > 0) {
          interfere -= 1;
          const stored = (await inner.getIncident(incident.id))!;
          await inner.writeIncident(stored.incident, stored.revision, {
            ...entry,
            actor: "someone",
            action: "incident.updated",
          });
        }
        return inner.writeIncident(incident, revision, entry);
      },
    };
    const service = new IncidentService({ store: racing, nowMs: () => T0 });
    const { incident } = ok(
      await service.openByHand("ops", { title: "t", reason: "a reason long enough" }),
    );
    ok(await service.acknowledge("ops", incident.id));
    expect((await racing.getIncident(incident.id))?.revision).toBe(3);
    expect((await audit.read(1, 10)).map((entry) => entry.actor)).toEqual([
      "ops",
      "someone",
      "ops",
    ]);
  });

  test("confirmKill writes one kill_confirmed per kill and evaluator; again, it writes and audits nothing", async () => {
    const { service, audit, advance } = setUp();
    const id = ok(
      await service.openFromTrip({
        breakerId: "velocity-1",
        tripCode: "velocity.x",
        impact: NO_IMPACT,
      }),
    ).incident.id;
    const first = ok(
      await service.confirmKill(id, { evaluatorId: "serve-b", killSequence: 3, atMs: T0 + 40 }),
    );
    expect(first.changed).toBe(true);
    expect(first.incident.timeline.at(-1)).toEqual({
      kind: "kill_confirmed",
      atMs: T0 + 40,
      byId: "serve-b",
      summary: "serve-b applies kill 3 from its next decision",
      details: { evaluatorId: "serve-b", killSequence: 3 },
    });
    const head = await audit.head();
    advance(1_000);
    const again = ok(
      await service.confirmKill(id, { evaluatorId: "serve-b", killSequence: 3, atMs: T0 + 900 }),
    );
    expect(again.changed).toBe(false);
    expect(await audit.head()).toEqual(head);
    // Another kill, or another evaluator, is another entry; a refusal stays a value.
    expect(
      ok(await service.confirmKill(id, { evaluatorId: "serve-b", killSequence: 4, atMs: T0 }))
        .changed,
    ).toBe(true);
    expect(
      ok(await service.confirmKill(id, { evaluatorId: "serve-c", killSequence: 3, atMs: T0 }))
        .changed,
    ).toBe(true);
    // A caller's own wording replaces the summary only; the details stay what recognises it.
    const worded = ok(
      await service.confirmKill(id, {
        evaluatorId: "evaluator-1",
        killSequence: 3,
        atMs: T0 + 50,
        summary: "evaluator-1 applies kill 3 and serves the rollback",
      }),
    );
    expect(worded.incident.timeline.at(-1)).toMatchObject({
      summary: "evaluator-1 applies kill 3 and serves the rollback",
      details: { evaluatorId: "evaluator-1", killSequence: 3 },
    });
    expect(
      await service.confirmKill(id, { evaluatorId: "not an id", killSequence: 3, atMs: T0 }),
    ).toMatchObject({ ok: false, code: "incident.actor_invalid" });
    expect(
      await service.confirmKill("incident-9", {
        evaluatorId: "serve-b",
        killSequence: 3,
        atMs: T0,
      }),
    ).toMatchObject({ ok: false, code: "incident.not_found" });
  });

  test("the policy is configurable; a malformed one is refused at use", async () => {
    const strict = setUp({
      severityPolicy: { ...DEFAULT_SEVERITY_POLICY, cumulativeMinor: [100, 50, 10, 1] },
    });
    const judged = ok(
      await strict.service.openFromTrip({
        breakerId: "b",
        tripCode: "velocity.above_forecast",
        impact: { ...NO_IMPACT, cumulativeMinor: 100 },
      }),
    ).incident;
    expect(judged).toMatchObject({
      severity: "P0",
      because: [{ measure: "cumulativeMinor", severity: "P0" }],
    });
    const broken = setUp({
      severityPolicy: { ...DEFAULT_SEVERITY_POLICY, scenarios: [1, 2] as never },
    });
    expect(
      await broken.service.openFromTrip({ breakerId: "b", tripCode: "x", impact: NO_IMPACT }),
    ).toMatchObject({ code: "incident.policy_invalid" });
  });
});
