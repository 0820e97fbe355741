/**
 * The contract every incident store passes (src/guard/incident-store.ts): the memory store, the
 * model the others are held to, and the durable ones against a real SQLite file and the real
 * PostgreSQL server. A caller gives a factory for a fresh, empty store with the audit log it
 * appends to and, for a durable store, how to open it again and a second instance beside it.
 */
import { afterEach, describe, expect, test } from "vitest";
import type { AuditLogStore } from "../../src/control/audit-log.ts";
import type { AuditEntryInput } from "../../src/core/audit/audit-entry.ts";
import {
  acknowledgeIncident,
  type Incident,
  mitigateIncident,
  openIncident,
} from "../../src/core/guard/incident.ts";
import { incidentNotificationOf } from "../../src/core/guard/incident-notification.ts";
import { DEFAULT_SEVERITY_POLICY } from "../../src/core/guard/severity-policy.ts";
import { INCIDENT_LIST_LIMIT_MAX, type IncidentStore } from "../../src/guard/incident-store.ts";
import type { WebhookOutbox } from "../../src/guard/webhook-outbox.ts";

export interface IncidentStoreUnderTest {
  readonly store: IncidentStore;
  readonly audit: AuditLogStore;
  /** The webhook outbox in the same file or database, opened with a pending bound of 1. */
  readonly outbox: WebhookOutbox;
  /** Opens the same store again after `store` was closed: a restart. */
  readonly reopen?: () => Promise<IncidentStore>;
  /** Another store on the same file or database, on connections of its own. */
  readonly another?: () => Promise<IncidentStore>;
}

const T0 = Date.UTC(2025, 0, 16, 6, 40);

const PAGER = {
  id: "pager",
  url: "http://127.0.0.1:9/hook",
  secret: "whsec_contract-0123456789abcdef",
  eventTypes: ["*"],
  enabled: true,
};

function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

/** An incident as a trip opens it, with every kind of field filled (text in several scripts). */
export function trippedIncident(id: string, atMs = T0): Incident {
  return ok(
    openIncident({
      id,
      title: "政府补贴 20 % on transfers «idc-national»",
      atMs,
      openedBy: { kind: "breaker", breakerId: "velocity-1", tripCode: "velocity.above_ceiling" },
      impact: {
        atRiskPerMinuteMinor: 120_000_000,
        cumulativeMinor: 480_000_000,
        paymentShareBps: 8_000,
        scenarios: 6,
        regions: 31,
        coreFlows: true,
      },
      blame: {
        changeIds: ["change-7"],
        campaignVersions: [{ campaignId: "idc-national", version: 3 }],
        templateIds: ["gov-subsidy"],
        funders: ["platform"],
      },
      windowStartMs: atMs - 2_000,
      policy: DEFAULT_SEVERITY_POLICY,
      trip: { trippedAtMs: atMs - 500, details: { windowMs: 1_000, note: "补贴" } },
    }),
  ).incident;
}

export function auditFor(
  incident: Incident,
  action: AuditEntryInput["action"],
  actor = "ops",
): AuditEntryInput {
  return {
    at: new Date(incident.updatedAtMs).toISOString(),
    actor,
    action,
    subject: `incident/${incident.id}`,
    contentHash: null,
    reason: null,
    details: { state: incident.state, severity: incident.severity },
  };
}

export function describeIncidentStoreContract(
  name: string,
  create: () => Promise<IncidentStoreUnderTest>,
): void {
  describe(`incident store contract: ${name}`, () => {
    const opened: (IncidentStore | AuditLogStore | WebhookOutbox)[] = [];
    const open = async () => {
      const underTest = await create();
      opened.push(underTest.store, underTest.audit, underTest.outbox);
      return underTest;
    };
    const track = <S extends IncidentStore>(store: S): S => {
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close().catch(() => {});
    });

    test("an empty store: the first id is incident-1, nothing is stored", async () => {
      const { store, audit } = await open();
      expect(await store.nextIncidentId()).toBe("incident-1");
      expect(await store.getIncident("incident-1")).toBeUndefined();
      expect(await store.listIncidents({ limit: 10 })).toEqual([]);
      expect((await audit.head()).sequence).toBe(0);
    });

    test("an incident reads back equal at each revision, each write with its audit entry", async () => {
      const { store, audit } = await open();
      const incident = trippedIncident(await store.nextIncidentId());
      expect(await store.writeIncident(incident, 0, auditFor(incident, "incident.opened"))).toEqual(
        { ok: true, revision: 1 },
      );
      expect(await store.getIncident(incident.id)).toEqual({ incident, revision: 1 });
      const acknowledged = ok(acknowledgeIncident(incident, "ops", T0 + 1_000)).incident;
      expect(
        await store.writeIncident(acknowledged, 1, auditFor(acknowledged, "incident.acknowledged")),
      ).toEqual({ ok: true, revision: 2 });
      expect(await store.getIncident(incident.id)).toEqual({ incident: acknowledged, revision: 2 });
      const entries = await audit.read(1, 10);
      expect(entries.map((entry) => [entry.action, entry.subject])).toEqual([
        ["incident.opened", `incident/${incident.id}`],
        ["incident.acknowledged", `incident/${incident.id}`],
      ]);
      expect(await audit.verify()).toMatchObject({ entries: 2, ok: true });
    });

    test("a stale revision is refused and nothing is written: neither incident nor audit entry", async () => {
      const { store, audit } = await open();
      const incident = trippedIncident(await store.nextIncidentId());
      ok(await store.writeIncident(incident, 0, auditFor(incident, "incident.opened")));
      const head = await audit.head();
      const late = ok(acknowledgeIncident(incident, "mei", T0 + 5)).incident;
      for (const expected of [0, 2, 7]) {
        expect(
          await store.writeIncident(late, expected, auditFor(late, "incident.acknowledged")),
        ).toMatchObject({ ok: false, code: "concurrent_update" });
      }
      expect(await store.getIncident(incident.id)).toEqual({ incident, revision: 1 });
      expect(await audit.head()).toEqual(head);
      // An incident never written has no revision to match but 0.
      const ghost = trippedIncident(await store.nextIncidentId());
      expect(await store.writeIncident(ghost, 1, auditFor(ghost, "incident.opened"))).toMatchObject(
        { ok: false, code: "concurrent_update" },
      );
      expect(await store.getIncident(ghost.id)).toBeUndefined();
    });

    test("an audit input the log refuses is audit_refused and nothing is written", async () => {
      const { store, audit } = await open();
      const incident = trippedIncident(await store.nextIncidentId());
      expect(
        await store.writeIncident(incident, 0, auditFor(incident, "incident.opened", "o p s")),
      ).toMatchObject({ ok: false, code: "audit_refused" });
      expect(await store.getIncident(incident.id)).toBeUndefined();
      expect(await store.listIncidents({ limit: 10 })).toEqual([]);
      expect((await audit.head()).sequence).toBe(0);
    });

    test("two writers on one revision: exactly one wins", async () => {
      const underTest = await open();
      const { store } = underTest;
      const other = underTest.another === undefined ? store : track(await underTest.another());
      const incident = trippedIncident(await store.nextIncidentId());
      ok(await store.writeIncident(incident, 0, auditFor(incident, "incident.opened")));
      const byAna = ok(acknowledgeIncident(incident, "ana", T0 + 1)).incident;
      const byMei = ok(mitigateIncident(incident, "mei", "killed idc-national@3", T0 + 1)).incident;
      const results = await Promise.all([
        store.writeIncident(byAna, 1, auditFor(byAna, "incident.acknowledged", "ana")),
        other.writeIncident(byMei, 1, auditFor(byMei, "incident.mitigated", "mei")),
      ]);
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      expect(results.filter((result) => !result.ok)).toMatchObject([{ code: "concurrent_update" }]);
      const stored = await store.getIncident(incident.id);
      expect(stored?.revision).toBe(2);
      expect([byAna, byMei]).toContainEqual(stored?.incident);
      expect((await underTest.audit.head()).sequence).toBe(2);
    });

    test("ids are unique and never reused: at once, across instances and restarts", async () => {
      const underTest = await open();
      const { store } = underTest;
      const ids = await Promise.all(Array.from({ length: 20 }, () => store.nextIncidentId()));
      expect(new Set(ids).size).toBe(20);
      expect(ids.every((id) => /^incident-[1-9][0-9]*$/.test(id))).toBe(true);
      const seen = new Set(ids);
      if (underTest.another !== undefined) {
        const other = track(await underTest.another());
        for (const id of await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).nextIncidentId()),
        )) {
          expect(seen.has(id)).toBe(false);
          seen.add(id);
        }
      }
      if (underTest.reopen !== undefined) {
        await store.close();
        const again = track(await underTest.reopen());
        expect(seen.has(await again.nextIncidentId())).toBe(false);
      }
    });

    test("listIncidents: newest opened first, filtered by state, at most limit", async () => {
      const { store } = await open();
      const incidents: Incident[] = [];
      for (let index = 0; index < 4; index += 1) {
        const incident = trippedIncident(await store.nextIncidentId(), T0 + index);
        ok(await store.writeIncident(incident, 0, auditFor(incident, "incident.opened")));
        incidents.push(incident);
      }
      // Writing an older incident again does not make it newer.
      const mitigated = ok(
        mitigateIncident(incidents[0]!, "ops", "rolled back change-7", T0 + 9),
      ).incident;
      ok(await store.writeIncident(mitigated, 1, auditFor(mitigated, "incident.mitigated")));
      incidents[0] = mitigated;
      const newestFirst = [...incidents].reverse();
      expect(await store.listIncidents({ limit: 10 })).toEqual(newestFirst);
      expect(await store.listIncidents({ limit: 2 })).toEqual(newestFirst.slice(0, 2));
      expect(await store.listIncidents({ limit: 0 })).toEqual([]);
      expect(await store.listIncidents({ limit: -1 })).toEqual([]);
      expect(await store.listIncidents({ limit: Number.NaN })).toEqual([]);
      expect(await store.listIncidents({ state: "mitigated", limit: 10 })).toEqual([mitigated]);
      expect(await store.listIncidents({ state: "open", limit: 10 })).toEqual(
        newestFirst.slice(0, 3),
      );
      expect(await store.listIncidents({ state: "resolved", limit: 10 })).toEqual([]);
    });

    test(`listIncidents returns at most ${INCIDENT_LIST_LIMIT_MAX}`, async () => {
      const { store } = await open();
      const count = INCIDENT_LIST_LIMIT_MAX + 1;
      for (let start = 0; start < count; start += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, count - start) }, async () => {
            const incident = trippedIncident(await store.nextIncidentId());
            ok(await store.writeIncident(incident, 0, auditFor(incident, "incident.opened")));
          }),
        );
      }
      const listed = await store.listIncidents({ limit: Number.POSITIVE_INFINITY });
      expect(listed).toHaveLength(INCIDENT_LIST_LIMIT_MAX);
      expect(new Set(listed.map((incident) => incident.id)).size).toBe(INCIDENT_LIST_LIMIT_MAX);
    });

    test("a write enqueues its notifications in the same step, past the outbox's pending bound", async () => {
      const { store, outbox } = await open();
      ok(await outbox.addEndpoint(PAGER, T0, undefined));
      ok(
        await outbox.addEndpoint(
          { ...PAGER, id: "chat", eventTypes: ["incident.resolved"] },
          T0,
          undefined,
        ),
      );
      // The bound of 1 is reached: an ordinary enqueue is refused, an incident's is not.
      ok(await outbox.enqueue({ eventType: "incident.opened", id: "filler", payload: {} }, T0));
      expect(
        await outbox.enqueue({ eventType: "incident.opened", id: "another", payload: {} }, T0),
      ).toMatchObject({ ok: false, code: "outbox_full" });
      const incident = trippedIncident(await store.nextIncidentId());
      const notification = incidentNotificationOf("incident.opened", incident, 1)!;
      expect(
        await store.writeIncident(incident, 0, auditFor(incident, "incident.opened"), [
          notification,
        ]),
      ).toEqual({ ok: true, revision: 1 });
      const deliveries = await outbox.listDeliveries({ limit: 10 });
      expect(deliveries.map((delivery) => [delivery.deliveryId, delivery.state])).toEqual([
        [`${incident.id}:opened:1@pager`, "pending"],
        ["filler@pager", "pending"],
      ]);
      expect(deliveries[0]).toMatchObject({
        eventType: "incident.opened",
        createdAtMs: incident.updatedAtMs,
        nextAttemptAtMs: incident.updatedAtMs,
      });
    });

    test("a refused write enqueues nothing: stale revision, audit refused, unusable notification", async () => {
      const { store, audit, outbox } = await open();
      ok(await outbox.addEndpoint(PAGER, T0, undefined));
      const incident = trippedIncident(await store.nextIncidentId());
      ok(await store.writeIncident(incident, 0, auditFor(incident, "incident.opened")));
      const head = await audit.head();
      const mitigated = ok(
        mitigateIncident(incident, "ops", "stopped at the source", T0 + 5),
      ).incident;
      const notification = incidentNotificationOf("incident.mitigated", mitigated, 2)!;
      expect(
        await store.writeIncident(mitigated, 7, auditFor(mitigated, "incident.mitigated"), [
          notification,
        ]),
      ).toMatchObject({ ok: false, code: "concurrent_update" });
      expect(
        await store.writeIncident(mitigated, 1, auditFor(mitigated, "incident.mitigated", ""), [
          notification,
        ]),
      ).toMatchObject({ ok: false, code: "audit_refused" });
      expect(
        await store.writeIncident(mitigated, 1, auditFor(mitigated, "incident.mitigated"), [
          { ...notification, id: "not an id" },
        ]),
      ).toMatchObject({ ok: false, code: "notification_refused" });
      expect(await outbox.listDeliveries({ limit: 10 })).toEqual([]);
      expect(await store.getIncident(incident.id)).toEqual({ incident, revision: 1 });
      expect(await audit.head()).toEqual(head);
    });

    test("what was written outlives close and reopen", async (context) => {
      const underTest = await open();
      if (underTest.reopen === undefined) context.skip("a memory store does not outlive itself");
      const { store } = underTest;
      const incident = trippedIncident(await store.nextIncidentId());
      ok(await store.writeIncident(incident, 0, auditFor(incident, "incident.opened")));
      await store.close();
      const again = track(await underTest.reopen!());
      expect(await again.getIncident(incident.id)).toEqual({ incident, revision: 1 });
      expect(await again.listIncidents({ limit: 5 })).toEqual([incident]);
    });

    test("every call on a closed store fails with closed", async () => {
      const { store } = await open();
      await store.close();
      const incident = trippedIncident("incident-1");
      for (const call of [
        () => store.nextIncidentId(),
        () => store.getIncident("incident-1"),
        () => store.listIncidents({ limit: 1 }),
        () => store.writeIncident(incident, 0, auditFor(incident, "incident.opened")),
      ]) {
        await expect(call()).rejects.toMatchObject({ code: "closed" });
      }
    });
  });
}
