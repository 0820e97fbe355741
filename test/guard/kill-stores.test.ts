/** The kill store contract (kill-store.contract.ts) over memory, a real SQLite file and PostgreSQL. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, inject, test } from "vitest";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { MemoryKillStore } from "../../src/guard/memory-kill-store.ts";
import { PostgresAuditLogStore } from "../../src/stores/postgres/postgres-audit-log-store.ts";
import { PostgresKillStore } from "../../src/stores/postgres/postgres-kill-store.ts";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";
import { SqliteKillStore } from "../../src/stores/sqlite/sqlite-kill-store.ts";
import { describeKillStoreContract } from "./kill-store.contract.ts";

const url = inject("postgresUrl");
const directory = mkdtempSync(join(tmpdir(), "bursar-kills-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let instances = 0;

describeKillStoreContract("memory", async () => {
  const audit = new MemoryAuditLogStore();
  return { store: new MemoryKillStore(audit), audit };
});

describeKillStoreContract("sqlite", async () => {
  instances += 1;
  const path = join(directory, `data-${instances}`, "control.sqlite");
  return {
    store: SqliteKillStore.open({ path }),
    audit: SqliteAuditLogStore.open({ path }),
    reopen: async () => SqliteKillStore.open({ path }),
    another: async () => SqliteKillStore.open({ path }),
  };
});

describeKillStoreContract("postgres", async () => {
  instances += 1;
  const schema = `kills_${process.pid}_${instances}`;
  const store = await PostgresKillStore.open({ url, schema });
  return {
    store,
    audit: await PostgresAuditLogStore.open({ url, schema }),
    reopen: async () => PostgresKillStore.open({ url, schema }),
    another: async () => PostgresKillStore.open({ url, schema }),
  };
});

describe("postgres kill store", () => {
  test("a bad schema name, options out of range or an unreachable server fail with open_failed", async () => {
    await expect(PostgresKillStore.open({ url, schema: "Bad-Name" })).rejects.toMatchObject({
      code: "open_failed",
    });
    await expect(PostgresKillStore.open({ url, schema: "k".repeat(60) })).rejects.toMatchObject({
      code: "open_failed",
    });
    await expect(
      PostgresKillStore.open({ url, schema: "kills_x", connectionsMax: 0 }),
    ).rejects.toMatchObject({
      code: "open_failed",
    });
    await expect(
      PostgresKillStore.open({
        url: "postgres://postgres@127.0.0.1:1/none",
        connectTimeoutMs: 500,
      }),
    ).rejects.toMatchObject({ code: "open_failed" });
  });

  test("the notification is sent in the writing transaction: none for a write that rolled back, one after COMMIT", async () => {
    const schema = `kills_notify_${process.pid}`;
    const store = await PostgresKillStore.open({ url, schema });
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    const payloads: string[] = [];
    listener.on("notification", (message) => payloads.push(message.payload ?? ""));
    await listener.query(`LISTEN ${store.channel}`);
    try {
      expect(
        await store.publishKill({
          scope: { kind: "all" },
          reason: "r",
          actor: "bad actor",
          atMs: 0,
        }),
      ).toMatchObject({
        ok: false,
      });
      await store.publishKill({ scope: { kind: "all" }, reason: "r", actor: "oncall", atMs: 0 });
      await listener.query("SELECT 1");
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(payloads).toEqual(["1"]);
    } finally {
      await listener.end();
      await store.close();
    }
  });

  test("the listener connects again after its connection is killed, and signals so the state is read again", async () => {
    const schema = `kills_relisten_${process.pid}`;
    const store = await PostgresKillStore.open({ url, schema, reconnectMinMs: 20 });
    let signals = 0;
    const subscription = await store.listen({ onSignal: () => (signals += 1) });
    expect(signals).toBe(1);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bursar-kills-listen' AND query LIKE $1",
        [`LISTEN ${store.channel}%`],
      );
      const deadline = Date.now() + 5_000;
      while (signals < 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(signals).toBe(2);
      await store.publishKill({ scope: { kind: "all" }, reason: "r", actor: "oncall", atMs: 0 });
      const until = Date.now() + 5_000;
      while (signals < 3 && Date.now() < until)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(signals).toBe(3);
    } finally {
      await admin.end();
      await subscription.stop();
      await store.close();
    }
  });
});
