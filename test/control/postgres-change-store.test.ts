import pg from "pg";
import { describe, expect, inject, test } from "vitest";
import { PostgresAuditLogStore } from "../../src/stores/postgres/postgres-audit-log-store.ts";
import { PostgresChangeStore } from "../../src/stores/postgres/postgres-change-store.ts";
import { describeChangeStoreContract } from "./change-store.contract.ts";
import { draftChange, versionsOf } from "./change-store-fixtures.ts";

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
