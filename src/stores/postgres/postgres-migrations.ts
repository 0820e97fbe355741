/**
 * Numbered migrations for a PostgreSQL schema, applied in order at open inside one transaction
 * under an advisory lock, each once, with its record in `recordTable`: processes opening at once
 * migrate once. The ledger's tables and the control plane's each keep their own list and record,
 * so either part can migrate without the other; they share the lock, since both create the
 * schema if missing and two `CREATE SCHEMA IF NOT EXISTS` at once can collide.
 */
import type pg from "pg";

export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Any constant works; it only has to be the same for every Bursar process. */
const MIGRATION_LOCK = 4_250_116;

/** The version recorded in `schema.recordTable` (0 before any migration). */
export async function postgresRecordedVersion(
  client: pg.ClientBase,
  schema: string,
  recordTable: string,
): Promise<number> {
  const { rows: tables } = await client.query<{ found: string | null }>(
    "SELECT to_regclass($1)::text AS found",
    [`${schema}.${recordTable}`],
  );
  if (tables[0]?.found == null) return 0;
  const { rows } = await client.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM ${schema}.${recordTable}`,
  );
  return rows[0]?.version ?? 0;
}

/** Creates the schema if needed and applies the migrations it lacks; returns the versions applied. */
export async function applyPostgresMigrations(
  client: pg.ClientBase,
  schema: string,
  recordTable: string,
  migrations: readonly PostgresMigration[],
  what: string,
  nowMs: number,
): Promise<number[]> {
  const known = migrations[migrations.length - 1]?.version ?? 0;
  const applied: number[] = [];
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${schema}.${recordTable} (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at_ms bigint NOT NULL
      )
    `);
    const current = await postgresRecordedVersion(client, schema, recordTable);
    if (current > known) {
      throw new Error(
        `the ${what} in ${schema} are at version ${current}, newer than this build knows (${known}); refusing to open them`,
      );
    }
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      await client.query(`SET LOCAL search_path TO ${schema}`);
      await client.query(migration.sql);
      await client.query(
        `INSERT INTO ${schema}.${recordTable} (version, name, applied_at_ms) VALUES ($1, $2, $3)`,
        [migration.version, migration.name, nowMs],
      );
      applied.push(migration.version);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
  return applied;
}
