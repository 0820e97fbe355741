import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { AuditLogStoreError } from "../../src/control/audit-log.ts";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";
import {
  CONTROL_MIGRATIONS,
  CONTROL_SCHEMA_VERSION,
} from "../../src/stores/sqlite/sqlite-control-schema.ts";
import { auditInput, describeAuditLogStoreContract } from "./audit-log-store.contract.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-audit-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;

describeAuditLogStoreContract("sqlite", async () => {
  files += 1;
  const path = join(directory, `data-${files}`, "control.sqlite");
  return {
    store: SqliteAuditLogStore.open({ path }),
    reopen: async () => SqliteAuditLogStore.open({ path }),
    childArgs: ["sqlite", path],
    tamper: async () => {
      const database = new BetterSqlite3(path);
      return {
        run: async (sql, params = []) => {
          database.prepare(sql).run(...params);
        },
        dropGuards: async () => {
          database.exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
        },
        close: async () => {
          database.close();
        },
      };
    },
  };
});

describe("sqlite audit log file", () => {
  test("is WAL with synchronous FULL, migrated once, and readable read-only", async () => {
    const path = join(directory, "settings", "control.sqlite");
    const store = SqliteAuditLogStore.open({ path });
    expect(store.migrationsApplied).toEqual(
      CONTROL_MIGRATIONS.map((migration) => migration.version),
    );
    await store.append(auditInput(0));
    await store.close();
    const again = SqliteAuditLogStore.open({ path });
    expect(again.migrationsApplied).toEqual([]);
    await again.close();

    const database = new BetterSqlite3(path);
    expect(database.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(database.prepare("SELECT max(version) AS v FROM schema_migrations").get()).toEqual({
      v: CONTROL_SCHEMA_VERSION,
    });
    database.close();

    const reader = SqliteAuditLogStore.open({ path, readOnly: true });
    expect((await reader.read(1, 10)).length).toBe(1);
    await expect(reader.append(auditInput(1))).rejects.toMatchObject({ code: "read_only" });
    expect((await reader.verify()).ok).toBe(true);
    await reader.close();
  });

  test("read-only open of a missing file or a file without the log fails with open_failed", async () => {
    expect(() =>
      SqliteAuditLogStore.open({ path: join(directory, "none.sqlite"), readOnly: true }),
    ).toThrow(AuditLogStoreError);
    const other = join(directory, "other.sqlite");
    new BetterSqlite3(other).close();
    expect(() => SqliteAuditLogStore.open({ path: other, readOnly: true })).toThrow(/no audit log/);
  });

  test("verify pages through the log in a snapshot of its own", async () => {
    const path = join(directory, "pages", "control.sqlite");
    const store = SqliteAuditLogStore.open({ path, verifyPageEntries: 3 });
    for (let index = 0; index < 10; index += 1) await store.append(auditInput(index));
    const progress: number[] = [];
    const verification = await store.verify({ onProgress: (entries) => progress.push(entries) });
    expect(verification).toMatchObject({ entries: 10, ok: true });
    expect(progress).toEqual([3, 6, 9, 10]);
    await store.close();
  });

  test("an append that cannot get the write lock in time fails with write_failed and writes nothing", async () => {
    const path = join(directory, "busy", "control.sqlite");
    const store = SqliteAuditLogStore.open({ path, busyTimeoutMs: 50 });
    await store.append(auditInput(0));
    const other = new BetterSqlite3(path);
    other.exec("BEGIN IMMEDIATE");
    await expect(store.append(auditInput(1))).rejects.toMatchObject({ code: "write_failed" });
    other.exec("ROLLBACK");
    other.close();
    const next = await store.append(auditInput(1));
    expect(next.ok && next.entry.sequence).toBe(2);
    expect(await store.verify()).toMatchObject({ entries: 2, ok: true });
    await store.close();
  });
});
