/**
 * Numbered migrations for a SQLite file, applied in order at open, each once, in one
 * `BEGIN IMMEDIATE` transaction with its record in `schema_migrations`: processes opening one
 * file at once take turns, and a crash mid-migration leaves the previous version. The ledger's
 * file and the control plane's file each have their own list.
 */
import type BetterSqlite3 from "better-sqlite3";

export interface SqliteMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The version an open file is at (0 before any migration). */
export function sqliteSchemaVersion(database: BetterSqlite3.Database): number {
  const table = database
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (table === undefined) return 0;
  const row = database.prepare("SELECT max(version) AS version FROM schema_migrations").get() as {
    version: number | null;
  };
  return row.version ?? 0;
}

/** Applies the migrations the file lacks; returns the versions applied. `what` names the file. */
export function applySqliteMigrations(
  database: BetterSqlite3.Database,
  migrations: readonly SqliteMigration[],
  what: string,
  nowMs: number,
): number[] {
  const known = migrations[migrations.length - 1]?.version ?? 0;
  const applied: number[] = [];
  database.exec("BEGIN IMMEDIATE");
  try {
    database.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at_ms INTEGER NOT NULL
      )
    `);
    const current = sqliteSchemaVersion(database);
    if (current > known) {
      throw new Error(
        `the ${what} is at schema version ${current}, newer than this build knows (${known}); refusing to open it`,
      );
    }
    const record = database.prepare(
      "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)",
    );
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      database.exec(migration.sql);
      record.run(migration.version, migration.name, nowMs);
      applied.push(migration.version);
    }
    database.exec("COMMIT");
  } catch (error) {
    if (database.inTransaction) database.exec("ROLLBACK");
    throw error;
  }
  return applied;
}
