import pg from "pg";
import { describe, expect, inject, test } from "vitest";
import { PostgresAuditLogStore } from "../../src/stores/postgres/postgres-audit-log-store.ts";
import { POSTGRES_CONTROL_MIGRATIONS } from "../../src/stores/postgres/postgres-control-schema.ts";
import { PostgresLedgerStore } from "../../src/stores/postgres/postgres-ledger-store.ts";
import { FaultProxy } from "../support/fault-proxy.ts";
import { auditInput, describeAuditLogStoreContract } from "./audit-log-store.contract.ts";

const url = inject("postgresUrl");
let schemas = 0;

describeAuditLogStoreContract("postgres", async () => {
  schemas += 1;
  const schema = `audit_${process.pid}_${schemas}`;
  return {
    store: await PostgresAuditLogStore.open({ url, schema }),
    reopen: async () => PostgresAuditLogStore.open({ url, schema }),
    childArgs: ["postgres", url, schema],
    tamper: async () => {
      const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await client.connect();
      return {
        run: async (sql, params = []) => {
          let index = 0;
          await client.query(
            sql.replace(/\?/g, () => `$${++index}`),
            [...params],
          );
        },
        dropGuards: async () => {
          await client.query("DROP TRIGGER audit_log_append_only ON audit_log");
        },
        close: async () => {
          await client.end();
        },
      };
    },
  };
});

describe("postgres audit log tables", () => {
  test("live beside the ledger's in one schema, each with its own migrations", async () => {
    const schema = `audit_beside_${process.pid}`;
    const [ledger, audit] = await Promise.all([
      PostgresLedgerStore.open({ url, schema }),
      PostgresAuditLogStore.open({ url, schema }),
    ]);
    expect(audit.migrationsApplied).toEqual(POSTGRES_CONTROL_MIGRATIONS.map((m) => m.version));
    await ledger.fund("campaign/c1", 100, "initial", 0);
    expect((await audit.append(auditInput(0))).ok).toBe(true);
    await Promise.all([ledger.close(), audit.close()]);
    const again = await PostgresAuditLogStore.open({ url, schema });
    expect(again.migrationsApplied).toEqual([]);
    expect((await again.verify()).ok).toBe(true);
    await again.close();
  });

  test("read-only open needs the tables and appends nothing", async () => {
    await expect(
      PostgresAuditLogStore.open({ url, schema: `audit_none_${process.pid}`, readOnly: true }),
    ).rejects.toMatchObject({ code: "open_failed" });
    const schema = `audit_ro_${process.pid}`;
    const writer = await PostgresAuditLogStore.open({ url, schema });
    await writer.append(auditInput(0));
    await writer.close();
    const reader = await PostgresAuditLogStore.open({ url, schema, readOnly: true });
    await expect(reader.append(auditInput(1))).rejects.toMatchObject({ code: "read_only" });
    expect(await reader.verify()).toMatchObject({ entries: 1, ok: true });
    await reader.close();
  });

  test("verify pages through the log in one snapshot", async () => {
    const schema = `audit_pages_${process.pid}`;
    const store = await PostgresAuditLogStore.open({ url, schema, verifyPageEntries: 3 });
    for (let index = 0; index < 7; index += 1) await store.append(auditInput(index));
    const progress: number[] = [];
    expect(await store.verify({ onProgress: (entries) => progress.push(entries) })).toMatchObject({
      entries: 7,
      ok: true,
    });
    expect(progress).toEqual([3, 6, 7]);
    await store.close();
  });

  test("an append that waits on the head row past its timeout fails with write_failed and writes nothing", async () => {
    const schema = `audit_locked_${process.pid}`;
    const store = await PostgresAuditLogStore.open({ url, schema, queryTimeoutMs: 300 });
    await store.append(auditInput(0));
    const other = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await other.connect();
    await other.query("BEGIN");
    await other.query("SELECT * FROM audit_head FOR UPDATE");
    await expect(store.append(auditInput(1))).rejects.toMatchObject({ code: "write_failed" });
    await other.query("ROLLBACK");
    await other.end();
    const next = await store.append(auditInput(1));
    expect(next.ok && next.entry.sequence).toBe(2);
    expect(await store.verify()).toMatchObject({ entries: 2, ok: true });
    await store.close();
  });
});

describe("postgres audit log behind a failing network", () => {
  test("an append whose COMMIT answer is lost fails with write_failed and the process lives on; the entry was written once", async () => {
    const target = new URL(url);
    const proxy = await FaultProxy.start(target.hostname, Number(target.port || 5432));
    const schema = `audit_faults_${process.pid}`;
    const store = await PostgresAuditLogStore.open({
      url: proxy.urlFor(url),
      schema,
      connectTimeoutMs: 1_000,
      queryTimeoutMs: 2_000,
    });
    const direct = await PostgresAuditLogStore.open({ url, schema });
    try {
      proxy.mode = "drop_after_commit";
      // Before the fix, the lost connection was also an unhandled 'error' event on the client,
      // which ended the whole process here.
      await expect(store.append(auditInput(1))).rejects.toMatchObject({ code: "write_failed" });
      expect(proxy.droppedCommits).toBe(1);
      proxy.mode = "pass";
      expect(await direct.head()).toMatchObject({ sequence: 1 });
      expect(await store.append(auditInput(2))).toMatchObject({ ok: true, entry: { sequence: 2 } });
      expect(await direct.verify()).toMatchObject({ entries: 2, ok: true });
    } finally {
      await store.close();
      await direct.close();
      await proxy.close();
    }
  });
});
