/**
 * Incidents notify the configured webhooks (src/core/guard/incident-notification.ts): which
 * actions enqueue what, in the incident's own write, over the memory stores; then an incident
 * opened through the service on a real control.sqlite and a real PostgreSQL schema, delivered by a
 * dispatcher to a local receiver that verifies the signature.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, test } from "vitest";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { INCIDENT_NOTIFICATION_BLAME_MAX } from "../../src/core/guard/incident-notification.ts";
import { IncidentService } from "../../src/guard/incident-service.ts";
import type { IncidentStore } from "../../src/guard/incident-store.ts";
import { MemoryIncidentStore } from "../../src/guard/memory-incident-store.ts";
import { MemoryWebhookOutbox } from "../../src/guard/memory-webhook-outbox.ts";
import { WebhookDispatcher } from "../../src/guard/webhook-dispatcher.ts";
import type { WebhookOutbox } from "../../src/guard/webhook-outbox.ts";
import { verifyWebhookSignature } from "../../src/guard/webhook-signing.ts";
import { PostgresIncidentStore } from "../../src/stores/postgres/postgres-incident-store.ts";
import { PostgresWebhookOutbox } from "../../src/stores/postgres/postgres-webhook-outbox.ts";
import { SqliteIncidentStore } from "../../src/stores/sqlite/sqlite-incident-store.ts";
import { SqliteWebhookOutbox } from "../../src/stores/sqlite/sqlite-webhook-outbox.ts";

const T0 = Date.UTC(2025, 0, 16, 6, 40);
const SECRET = "whsec_incident-webhooks-0123456789";
const IMPACT = {
  atRiskPerMinuteMinor: 2_000_000,
  cumulativeMinor: 5_000_000,
  paymentShareBps: 40,
  scenarios: 2,
  regions: 3,
  coreFlows: false,
};
const BLAME = {
  changeIds: ["change-7"],
  campaignVersions: [{ campaignId: "idc-national", version: 3 }],
  templateIds: [],
  funders: ["platform"],
};

function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

const endpoint = (url: string) => ({
  id: "pager",
  url,
  secret: SECRET,
  eventTypes: ["*"],
  enabled: true,
});

describe("incident notifications", () => {
  test("opened, severity raised (by a person and by reassessment), mitigated, resolved; nothing else", async () => {
    const audit = new MemoryAuditLogStore();
    const outbox = new MemoryWebhookOutbox({ audit });
    ok(await outbox.addEndpoint(endpoint("http://127.0.0.1:9/"), T0, undefined));
    let nowMs = T0;
    const service = new IncidentService({
      store: new MemoryIncidentStore(audit, outbox),
      nowMs: () => nowMs,
    });
    const { incident } = ok(
      await service.openFromTrip({
        breakerId: "velocity-1",
        tripCode: "velocity.above_ceiling",
        impact: IMPACT,
        blame: BLAME,
        windowStartMs: T0 - 2_000,
      }),
    );
    const id = incident.id;
    nowMs += 1_000;
    ok(await service.acknowledge("ops", id));
    ok(
      await service.addTimeline(id, { kind: "note", atMs: nowMs, byId: "ops", summary: "looking" }),
    );
    ok(await service.reassess(id, { impact: { ...IMPACT, regions: 6 }, byId: "velocity-1" }));
    ok(await service.reassess(id, { impact: { ...IMPACT, regions: 6 }, byId: "velocity-1" }));
    ok(await service.raiseSeverity("ops", id, "P0", "customers on social media report it"));
    ok(await service.mitigate("ops", id, "killed idc-national@3 everywhere"));
    ok(
      await service.recordRemediation("fin", id, {
        reason: "the cost is ours to absorb",
        costAbsorbedMinor: 5_000_000,
        reservationsReleased: { count: 0, amountMinor: 0 },
      }),
    );
    ok(await service.resolve("ops", id, "stopped, released and absorbed"));

    const deliveries = [...(await outbox.listDeliveries({ limit: 20 }))].reverse();
    // Revisions: 1 opened, 2 acknowledged, 3 note, 4 reassessed to P1, 5 raised to P0,
    // 6 mitigated, 7 remediated, 8 resolved. The second reassessment learnt nothing: no write.
    expect(deliveries.map((delivery) => [delivery.eventType, delivery.notificationId])).toEqual([
      ["incident.opened", `${id}:opened:1`],
      ["incident.severity_raised", `${id}:severity_raised:4`],
      ["incident.severity_raised", `${id}:severity_raised:5`],
      ["incident.mitigated", `${id}:mitigated:6`],
      ["incident.resolved", `${id}:resolved:8`],
    ]);
  });

  test("the payload: who, how bad and why, what it blames (capped), since when; no reasons or actors", async () => {
    const audit = new MemoryAuditLogStore();
    const outbox = new MemoryWebhookOutbox({ audit });
    ok(await outbox.addEndpoint(endpoint("http://127.0.0.1:9/"), T0, undefined));
    const service = new IncidentService({
      store: new MemoryIncidentStore(audit, outbox),
      nowMs: () => T0,
    });
    const many = Array.from({ length: 25 }, (_, index) => ({
      campaignId: `c-${index}`,
      version: 1,
    }));
    ok(
      await service.openByHand("ana", {
        title: "government label on transfers",
        reason: "a secret-looking reason: token=abc123",
        impact: IMPACT,
        blame: { ...BLAME, campaignVersions: many },
        windowStartMs: T0 - 60_000,
      }),
    );
    const [claimed] = await outbox.claimDue({
      nowMs: T0,
      limit: 1,
      claimMs: 60_000,
      claimToken: "t",
      attemptsMax: 8,
    });
    const body = JSON.parse(claimed!.body);
    expect(body).toMatchObject({
      id: "incident-1:opened:1",
      type: "incident.opened",
      createdAt: new Date(T0).toISOString(),
      data: {
        incident: {
          id: "incident-1",
          title: "government label on transfers",
          state: "open",
          severity: "P2",
          openedAtMs: T0,
          windowStartMs: T0 - 60_000,
          openedBy: "person",
        },
        impact: IMPACT,
        blame: {
          changeIds: ["change-7"],
          funders: ["platform"],
          omitted: 25 - INCIDENT_NOTIFICATION_BLAME_MAX,
        },
      },
    });
    expect(body.data.incident.because.length).toBeGreaterThan(0);
    expect(body.data.blame.campaignVersions[0]).toBe("c-0@1");
    expect(body.data.summary).toContain("P2 open: government label on transfers");
    expect(claimed!.body).not.toContain("token=abc123");
    expect(claimed!.body).not.toContain("ana");
  });
});

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A receiver on a loopback port: records what it gets, answers 204. */
async function startReceiver() {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bursar`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function deliversAnOpenedIncident(store: IncidentStore, outbox: WebhookOutbox) {
  const receiver = await startReceiver();
  try {
    ok(await outbox.addEndpoint(endpoint(receiver.url), Date.now(), undefined));
    const service = new IncidentService({ store, nowMs: Date.now });
    const { incident } = ok(
      await service.openFromTrip({
        breakerId: "velocity-1",
        tripCode: "velocity.above_ceiling",
        impact: IMPACT,
        blame: BLAME,
      }),
    );
    const dispatcher = new WebhookDispatcher({ outbox, timeoutMs: 5_000 });
    expect(await dispatcher.runOnce()).toBe(1);
    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    expect(delivery!.headers["bursar-event"]).toBe("incident.opened");
    expect(delivery!.headers["bursar-delivery"]).toBe(`${incident.id}:opened:1@pager`);
    expect(
      verifyWebhookSignature(
        SECRET,
        String(delivery!.headers["bursar-signature"]),
        delivery!.body,
        Date.now(),
        300_000,
      ),
    ).toMatchObject({ ok: true });
    expect(JSON.parse(delivery!.body).data.incident).toMatchObject({
      id: incident.id,
      severity: incident.severity,
      state: "open",
    });
    expect(await outbox.listDeliveries({ state: "delivered", limit: 5 })).toHaveLength(1);
  } finally {
    await receiver.close();
  }
}

describe("an opened incident reaches a local receiver through the dispatcher", () => {
  const directory = mkdtempSync(join(tmpdir(), "bursar-incident-webhooks-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  test("sqlite: control.sqlite holds the incident and its delivery", async () => {
    const path = join(directory, "control.sqlite");
    const store = SqliteIncidentStore.open({ path });
    const outbox = SqliteWebhookOutbox.open({ path });
    try {
      await deliversAnOpenedIncident(store, outbox);
    } finally {
      await store.close();
      await outbox.close();
    }
  });

  test("postgres: the control schema holds the incident and its delivery", async () => {
    const url = inject("postgresUrl");
    const schema = `incident_hooks_${process.pid}`;
    const store = await PostgresIncidentStore.open({ url, schema });
    const outbox = await PostgresWebhookOutbox.open({ url, schema });
    try {
      await deliversAnOpenedIncident(store, outbox);
    } finally {
      await store.close();
      await outbox.close();
    }
  });
});
