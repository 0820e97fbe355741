import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { ChangeStoreError } from "../../src/control/change-store-error.ts";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";
import { SqliteChangeStore } from "../../src/stores/sqlite/sqlite-change-store.ts";
import {
  CONTROL_MIGRATIONS,
  CONTROL_SCHEMA_VERSION,
} from "../../src/stores/sqlite/sqlite-control-schema.ts";
import { applySqliteMigrations } from "../../src/stores/sqlite/sqlite-migrations.ts";
import { describeChangeStoreContract } from "./change-store.contract.ts";
import { auditOf, draftChange, versionsOf } from "./change-store-fixtures.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-changes-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;

describeChangeStoreContract("sqlite", async () => {
  files += 1;
  const path = join(directory, `data-${files}`, "control.sqlite");
  return {
    store: SqliteChangeStore.open({ path }),
    audit: SqliteAuditLogStore.open({ path }),
    reopen: async () => SqliteChangeStore.open({ path }),
    another: async () => SqliteChangeStore.open({ path }),
    childArgs: ["sqlite", path],
  };
});

describe("sqlite change store file", () => {
  test("shares control.sqlite with the audit log: WAL, synchronous FULL, migrated once by either", async () => {
    const path = join(directory, "shared", "control.sqlite");
    const audit = SqliteAuditLogStore.open({ path });
    const store = SqliteChangeStore.open({ path });
    expect(store.migrationsApplied).toEqual([]);
    const change = draftChange(await store.nextChangeId(), []);
    await store.writeChange(change, 0, [], auditOf(change, "change.created"));
    expect((await audit.head()).sequence).toBe(1);
    await Promise.all([store.close(), audit.close()]);

    const database = new BetterSqlite3(path);
    expect(database.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(database.prepare("SELECT max(version) AS v FROM schema_migrations").get()).toEqual({
      v: CONTROL_SCHEMA_VERSION,
    });
    database.close();
  });

  test("document versions refuse UPDATE and DELETE through SQL", async () => {
    const path = join(directory, "immutable", "control.sqlite");
    const store = SqliteChangeStore.open({ path });
    const change = draftChange(await store.nextChangeId(), []);
    const versions = versionsOf(change.id, [{ kind: "campaign", id: "c1" }], 1, true);
    await store.writeChange(change, 0, versions, undefined);
    const database = new BetterSqlite3(path);
    expect(() => database.exec("UPDATE document_versions SET content_hash = 'x'")).toThrow(
      /immutable/,
    );
    expect(() => database.exec("DELETE FROM document_versions")).toThrow(/immutable/);
    database.close();
    expect(await store.latestVersions()).toEqual(versions);
    await store.close();
  });

  test("a write that waits past the busy timeout fails with write_failed, and writes nothing", async () => {
    const path = join(directory, "busy", "control.sqlite");
    const store = SqliteChangeStore.open({ path, busyTimeoutMs: 50 });
    const blocker = new BetterSqlite3(path);
    blocker.exec("BEGIN IMMEDIATE");
    const change = draftChange("change-1", []);
    await expect(
      store.writeChange(change, 0, [], auditOf(change, "change.created")),
    ).rejects.toMatchObject({ code: "write_failed" });
    await expect(store.nextChangeId()).rejects.toMatchObject({ code: "write_failed" });
    blocker.exec("ROLLBACK");
    blocker.close();
    expect(await store.getChange("change-1")).toBeUndefined();
    expect(await store.nextChangeId()).toBe("change-1");
    await store.close();
  });

  test("a row that is not the JSON the store wrote is read_failed, not a half-read change", async () => {
    const path = join(directory, "garbled", "control.sqlite");
    const store = SqliteChangeStore.open({ path });
    const change = draftChange(await store.nextChangeId(), []);
    await store.writeChange(change, 0, [], undefined);
    const database = new BetterSqlite3(path);
    database
      .prepare("UPDATE change_requests SET change_json = '{\"id\":' WHERE id = ?")
      .run(change.id);
    database.close();
    await expect(store.getChange(change.id)).rejects.toMatchObject({ code: "read_failed" });
    await expect(store.listChanges({ limit: 1 })).rejects.toMatchObject({ code: "read_failed" });
    await store.close();
    await expect(store.getChange(change.id)).rejects.toMatchObject({ code: "closed" });
  });

  test("migration 8 keeps the versions written before it, whose time is unknown (null)", async () => {
    const path = join(directory, "before-8", "control.sqlite");
    mkdirSync(join(directory, "before-8"));
    const database = new BetterSqlite3(path);
    applySqliteMigrations(database, CONTROL_MIGRATIONS.slice(0, 7), "test", 0);
    database
      .prepare(
        "INSERT INTO document_versions (key, version, document_json, content_hash, change_id) VALUES (?, 1, NULL, ?, ?)",
      )
      .run("campaign/old", "0".repeat(64), "change-1");
    database.close();
    const store = SqliteChangeStore.open({ path });
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
    await store.close();
  });

  test("options out of range and unusable files fail with open_failed", () => {
    expect(() =>
      SqliteChangeStore.open({ path: join(directory, "x", "control.sqlite"), busyTimeoutMs: -1 }),
    ).toThrow(ChangeStoreError);
    expect(() => SqliteChangeStore.open({ path: directory })).toThrow(
      expect.objectContaining({ code: "open_failed" }),
    );
  });
});
