import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, inject } from "vitest";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { MemoryWebhookOutbox } from "../../src/guard/memory-webhook-outbox.ts";
import { PostgresAuditLogStore } from "../../src/stores/postgres/postgres-audit-log-store.ts";
import { PostgresWebhookOutbox } from "../../src/stores/postgres/postgres-webhook-outbox.ts";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";
import { SqliteWebhookOutbox } from "../../src/stores/sqlite/sqlite-webhook-outbox.ts";
import { describeWebhookOutboxContract } from "./webhook-outbox.contract.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-webhook-outbox-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const url = inject("postgresUrl");
let count = 0;

describeWebhookOutboxContract("memory", async (options) => {
  const audit = new MemoryAuditLogStore();
  return { outbox: new MemoryWebhookOutbox({ audit, pendingMax: options?.pendingMax }), audit };
});

describeWebhookOutboxContract("sqlite", async (options) => {
  count += 1;
  const path = join(directory, `data-${count}`, "control.sqlite");
  const open = () => SqliteWebhookOutbox.open({ path, pendingMax: options?.pendingMax });
  return {
    outbox: open(),
    audit: SqliteAuditLogStore.open({ path }),
    reopen: async () => open(),
    another: async () => open(),
  };
});

describeWebhookOutboxContract("postgres", async (options) => {
  count += 1;
  const schema = `webhooks_${process.pid}_${count}`;
  const open = () => PostgresWebhookOutbox.open({ url, schema, pendingMax: options?.pendingMax });
  return {
    outbox: await open(),
    audit: await PostgresAuditLogStore.open({ url, schema }),
    reopen: open,
    another: open,
  };
});
