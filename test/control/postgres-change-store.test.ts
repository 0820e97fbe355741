import pg from "pg";
import { describe, expect, inject, test } from "vitest";
import { PostgresAuditLogStore } from "../../src/stores/postgres/postgres-audit-log-store.ts";
import { PostgresChangeStore } from "../../src/stores/postgres/postgres-change-store.ts";
import { POSTGRES_CONTROL_MIGRATIONS } from "../../src/stores/postgres/postgres-control-schema.ts";
import { applyPostgresMigrations } from "../../src/stores/postgres/postgres-migrations.ts";
import { FaultProxy } from "../support/fault-proxy.ts";
import { describeChangeStoreContract } from "./change-store.contract.ts";
import { auditOf, draftChange, versionsOf } from "./change-store-fixtures.ts";

const url = inject("postgresUrl");
let schemas = 0;

describeChangeStoreContract("postgres", async () => {
  schemas += 1;
  const schema = `changes_${process.pid}_${schemas}`;
  const store = await PostgresChangeStore.open({ url, schema });
  return {
    store,
    audit: await PostgresAuditLogStore.open({ url, schema }),
    reopen: async () => PostgresChangeStore.open({ url, schema }),
    another: async () => PostgresChangeStore.open({ url, schema }),
    childArgs: ["postgres", url, schema],
  };
});

describe("postgres change store tables", () => {
  test("document versions refuse UPDATE and DELETE through SQL", async () => {
    const schema = `changes_immutable_${process.pid}`;
    const store = await PostgresChangeStore.open({ url, schema });
    const change = draftChange(await store.nextChangeId(), []);
    const versions = versionsOf(change.id, [{ kind: "campaign", id: "c1" }], 1, true);
    await store.writeChange(change, 0, versions, undefined);
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    await expect(client.query("UPDATE document_versions SET content_hash = 'x'")).rejects.toThrow(
      /immutable/,
    );
    await expect(client.query("DELETE FROM document_versions")).rejects.toThrow(/immutable/);
    await client.end();
    expect(await store.latestVersions()).toEqual(versions);
    await store.close();
  });

  test("migration 8 keeps the versions written before it, whose time is unknown (null)", async () => {
    const schema = `changes_before8_${process.pid}`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await applyPostgresMigrations(
        client,
        schema,
        "control_schema_migrations",
        POSTGRES_CONTROL_MIGRATIONS.slice(0, 7),
        "control tables",
        0,
      );
      await client.query(
        `INSERT INTO ${schema}.document_versions (key, version, document_json, content_hash, change_id)
         VALUES ('campaign/old', 1, NULL, $1, 'change-1')`,
        ["0".repeat(64)],
      );
    } finally {
      await client.end();
    }
    const store = await PostgresChangeStore.open({ url, schema });
    try {
      expect(store.migrationsApplied).toEqual([8]);
      expect(await store.versionHistory("campaign/old", { limit: 5 })).toEqual([
        {
          key: "campaign/old",
          version: 1,
          document: null,
          contentHash: "0".repeat(64),
          changeId: "change-1",
          writtenAt: null,
        },
      ]);
    } finally {
      await store.close();
    }
  });

  test("options out of range, a bad schema name or an unreachable server fail with open_failed", async () => {
    await expect(PostgresChangeStore.open({ url, schema: "Bad-Name" })).rejects.toMatchObject({
      code: "open_failed",
    });
    await expect(
      PostgresChangeStore.open({ url, schema: "changes_x", connectionsMax: 0 }),
    ).rejects.toMatchObject({ code: "open_failed" });
    await expect(
      PostgresChangeStore.open({
        url: "postgres://postgres@127.0.0.1:1/none",
        connectTimeoutMs: 500,
      }),
    ).rejects.toMatchObject({ code: "open_failed" });
  });
});

describe("postgres change store behind a failing network", () => {
  test("a write whose COMMIT answer is lost fails with write_failed; reading tells whether it was written, and it was written once", async () => {
    const target = new URL(url);
    const proxy = await FaultProxy.start(target.hostname, Number(target.port || 5432));
    const schema = `changes_faults_${process.pid}`;
    const store = await PostgresChangeStore.open({
      url: proxy.urlFor(url),
      schema,
      connectTimeoutMs: 1_000,
      queryTimeoutMs: 2_000,
    });
    const audit = await PostgresAuditLogStore.open({ url, schema });
    try {
      const change = draftChange(await store.nextChangeId(), []);
      const versions = versionsOf(change.id, [{ kind: "campaign", id: "c1" }], 1, true);
      proxy.mode = "drop_after_commit";
      await expect(
        store.writeChange(change, 0, versions, auditOf(change, "change.created")),
      ).rejects.toMatchObject({ code: "write_failed" });
      expect(proxy.droppedCommits).toBe(1);
      proxy.mode = "pass";
      // The server read the COMMIT: the change, its version and its entry are there, once.
      expect(await store.getChange(change.id)).toEqual({ change, revision: 1 });
      expect(
        await store.writeChange(change, 0, versions, auditOf(change, "change.created")),
      ).toMatchObject({ ok: false, code: "concurrent_update" });
      expect(await store.latestVersions()).toEqual(versions);
      expect(await audit.verify()).toMatchObject({ entries: 1, ok: true });

      proxy.mode = "refuse";
      proxy.cutAll();
      await expect(store.getChange(change.id)).rejects.toMatchObject({ code: "read_failed" });
      await expect(store.nextChangeId()).rejects.toMatchObject({ code: "write_failed" });
      await expect(store.writeChange(change, 1, [], undefined)).rejects.toMatchObject({
        code: "write_failed",
      });
      proxy.mode = "pass";
      expect((await store.getChange(change.id))?.revision).toBe(1);
    } finally {
      proxy.mode = "pass";
      await Promise.all([store.close(), audit.close()]);
      await proxy.close();
    }
  });
});
