/**
 * The API token store contract (api-token-store.contract.ts) over memory, a real SQLite file and
 * PostgreSQL, and what is particular to each durable store: opening, and the migration from the
 * control schema before API tokens.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, inject, test } from "vitest";
import { MemoryApiTokenStore } from "../../src/control/memory-api-token-store.ts";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { PostgresApiTokenStore } from "../../src/stores/postgres/postgres-api-token-store.ts";
import { PostgresAuditLogStore } from "../../src/stores/postgres/postgres-audit-log-store.ts";
import {
  migratePostgresControl,
  POSTGRES_CONTROL_MIGRATIONS,
} from "../../src/stores/postgres/postgres-control-schema.ts";
import { applyPostgresMigrations } from "../../src/stores/postgres/postgres-migrations.ts";
import { SqliteApiTokenStore } from "../../src/stores/sqlite/sqlite-api-token-store.ts";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";
import {
  CONTROL_MIGRATIONS,
  CONTROL_SCHEMA_VERSION,
} from "../../src/stores/sqlite/sqlite-control-schema.ts";
import { applySqliteMigrations } from "../../src/stores/sqlite/sqlite-migrations.ts";
import {
  creation,
  describeApiTokenStoreContract,
  newRecord,
  tokenIdOf,
} from "./api-token-store.contract.ts";

const url = inject("postgresUrl");
const directory = mkdtempSync(join(tmpdir(), "bursar-api-tokens-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let instances = 0;

describeApiTokenStoreContract("memory", async () => {
  const audit = new MemoryAuditLogStore();
  return { store: new MemoryApiTokenStore(audit), audit };
});

describeApiTokenStoreContract("sqlite", async () => {
  instances += 1;
  const path = join(directory, `data-${instances}`, "control.sqlite");
  return {
    store: SqliteApiTokenStore.open({ path }),
    audit: SqliteAuditLogStore.open({ path }),
    reopen: async () => SqliteApiTokenStore.open({ path }),
    another: async () => SqliteApiTokenStore.open({ path }),
  };
});

describeApiTokenStoreContract("postgres", async () => {
  instances += 1;
  const schema = `api_tokens_${process.pid}_${instances}`;
  const store = await PostgresApiTokenStore.open({ url, schema });
  return {
    store,
    audit: await PostgresAuditLogStore.open({ url, schema }),
    reopen: async () => PostgresApiTokenStore.open({ url, schema }),
    another: async () => PostgresApiTokenStore.open({ url, schema }),
  };
});

describe("sqlite api token store", () => {
  test("migrates a control file of version 6 to the newest (7: tokens, 8: when versions were written), keeping what it holds", async () => {
    expect(CONTROL_SCHEMA_VERSION).toBe(8);
    // A file made by the build before API tokens: migrations 1-6 only.
    const path = join(directory, "six.sqlite");
    const database = new BetterSqlite3(path);
    expect(applySqliteMigrations(database, CONTROL_MIGRATIONS.slice(0, 6), "test", 0)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    database.close();
    const store = SqliteApiTokenStore.open({ path });
    try {
      expect(store.migrationsApplied).toEqual([7, 8]);
      expect(await store.create(creation(newRecord(1)))).toMatchObject({ ok: true });
    } finally {
      await store.close();
    }
    const again = SqliteApiTokenStore.open({ path });
    expect(again.migrationsApplied).toEqual([]);
    expect(await again.find(tokenIdOf(1))).toMatchObject({ id: tokenIdOf(1) });
    await again.close();
  });

  test("stores the secret's hash and nothing of the secret; a bad busy time-out fails with open_failed", async () => {
    const path = join(directory, "columns", "control.sqlite");
    const store = SqliteApiTokenStore.open({ path });
    await store.create(creation(newRecord(1)));
    await store.close();
    const database = new BetterSqlite3(path, { readonly: true });
    const columns = database.prepare("SELECT name FROM pragma_table_info('api_tokens')").all();
    database.close();
    expect(columns.map((column) => (column as { name: string }).name)).toEqual([
      "position",
      "id",
      "name",
      "principal_id",
      "roles_json",
      "secret_hash",
      "created_at_ms",
      "created_by",
      "revoked_at_ms",
      "revoked_by",
    ]);
    expect(() => SqliteApiTokenStore.open({ path, busyTimeoutMs: -1 })).toThrow(
      expect.objectContaining({ code: "open_failed" }),
    );
  });
});

describe("postgres api token store", () => {
  test("a bad schema name, options out of range or an unreachable server fail with open_failed", async () => {
    await expect(PostgresApiTokenStore.open({ url, schema: "Bad-Name" })).rejects.toMatchObject({
      code: "open_failed",
    });
    await expect(
      PostgresApiTokenStore.open({ url, schema: "api_tokens_x", connectionsMax: 0 }),
    ).rejects.toMatchObject({ code: "open_failed" });
    await expect(
      PostgresApiTokenStore.open({
        url: "postgres://postgres@127.0.0.1:1/none",
        connectTimeoutMs: 500,
      }),
    ).rejects.toMatchObject({ code: "open_failed" });
  });

  test("migrates control tables of version 6 to the newest (7, 8); every control store opens on them", async () => {
    const schema = `api_tokens_from6_${process.pid}`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      expect(
        await applyPostgresMigrations(
          client,
          schema,
          "control_schema_migrations",
          POSTGRES_CONTROL_MIGRATIONS.slice(0, 6),
          "control tables",
          0,
        ),
      ).toEqual([1, 2, 3, 4, 5, 6]);
      const store = await PostgresApiTokenStore.open({ url, schema });
      try {
        expect(store.migrationsApplied).toEqual([7, 8]);
        expect(await store.create(creation(newRecord(1)))).toMatchObject({ ok: true });
      } finally {
        await store.close();
      }
      expect(await migratePostgresControl(client, schema, 0)).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
