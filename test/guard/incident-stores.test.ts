/**
 * The incident store contract (incident-store.contract.ts) over every store: memory, a real
 * control.sqlite, and the real PostgreSQL server (a schema per store); then what only the SQL
 * stores have — rows that are not their JSON, options out of range.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, inject, test } from "vitest";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { IncidentStoreError } from "../../src/guard/incident-store.ts";
import { MemoryIncidentStore } from "../../src/guard/memory-incident-store.ts";
import { MemoryWebhookOutbox } from "../../src/guard/memory-webhook-outbox.ts";
import { PostgresAuditLogStore } from "../../src/stores/postgres/postgres-audit-log-store.ts";
import { PostgresIncidentStore } from "../../src/stores/postgres/postgres-incident-store.ts";
import { PostgresWebhookOutbox } from "../../src/stores/postgres/postgres-webhook-outbox.ts";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";
import { SqliteIncidentStore } from "../../src/stores/sqlite/sqlite-incident-store.ts";
import { SqliteWebhookOutbox } from "../../src/stores/sqlite/sqlite-webhook-outbox.ts";
import {
  auditFor,
  describeIncidentStoreContract,
  trippedIncident,
} from "./incident-store.contract.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-incidents-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const url = inject("postgresUrl");
let files = 0;
let schemas = 0;

describeIncidentStoreContract("memory", async () => {
  const audit = new MemoryAuditLogStore();
  const outbox = new MemoryWebhookOutbox({ audit, pendingMax: 1 });
  return { store: new MemoryIncidentStore(audit, outbox), audit, outbox };
});

describeIncidentStoreContract("sqlite", async () => {
  files += 1;
  const path = join(directory, `data-${files}`, "control.sqlite");
  return {
    store: SqliteIncidentStore.open({ path }),
    audit: SqliteAuditLogStore.open({ path }),
    outbox: SqliteWebhookOutbox.open({ path, pendingMax: 1 }),
    reopen: async () => SqliteIncidentStore.open({ path }),
    another: async () => SqliteIncidentStore.open({ path }),
  };
});

describeIncidentStoreContract("postgres", async () => {
  schemas += 1;
  const schema = `incidents_${process.pid}_${schemas}`;
  return {
    store: await PostgresIncidentStore.open({ url, schema }),
    audit: await PostgresAuditLogStore.open({ url, schema }),
    outbox: await PostgresWebhookOutbox.open({ url, schema, pendingMax: 1 }),
    reopen: async () => PostgresIncidentStore.open({ url, schema }),
    another: async () => PostgresIncidentStore.open({ url, schema }),
  };
});

describe("sql incident stores", () => {
  test("sqlite: a row that is not the JSON the store wrote is read_failed", async () => {
    const path = join(directory, "garbled", "control.sqlite");
    const store = SqliteIncidentStore.open({ path });
    const incident = trippedIncident(await store.nextIncidentId());
    await store.writeIncident(incident, 0, auditFor(incident, "incident.opened"));
    const database = new BetterSqlite3(path);
    database.prepare("UPDATE incidents SET incident_json = '{' WHERE id = ?").run(incident.id);
    database.close();
    await expect(store.getIncident(incident.id)).rejects.toMatchObject({ code: "read_failed" });
    await expect(store.listIncidents({ limit: 1 })).rejects.toMatchObject({ code: "read_failed" });
    await store.close();
  });

  test("options out of range and unusable places fail with open_failed", async () => {
    expect(() =>
      SqliteIncidentStore.open({ path: join(directory, "x", "control.sqlite"), busyTimeoutMs: -1 }),
    ).toThrow(IncidentStoreError);
    expect(() => SqliteIncidentStore.open({ path: directory })).toThrow(
      expect.objectContaining({ code: "open_failed" }),
    );
    await expect(PostgresIncidentStore.open({ url, schema: "Not-A-Name" })).rejects.toMatchObject({
      code: "open_failed",
    });
    await expect(
      PostgresIncidentStore.open({ url, schema: "incidents_opts", connectionsMax: 0 }),
    ).rejects.toMatchObject({ code: "open_failed" });
  });
});
