/**
 * What every control-plane store on PostgreSQL does at open (changes, kills, incidents, the
 * webhook outbox): check its numeric options against their ranges, open a pool on the control
 * schema with int8 read as numbers, and bring the control migrations up to date on one of its
 * connections. Each store passes its own defaults, extra ranges and error, so a caller still
 * sees the store's own `open_failed`.
 */
import pg from "pg";
import { migratePostgresControl } from "./postgres-control-schema.ts";
import { INT8_AS_NUMBER_TYPES } from "./postgres-int8.ts";

/** The ranges every control store's pool options share. */
export const CONTROL_POOL_OPTION_RANGES = {
  connectionsMax: [1, 100],
  connectTimeoutMs: [1, 600_000],
  queryTimeoutMs: [1, 3_600_000],
} as const satisfies Record<string, readonly [number, number]>;

/**
 * Each option `ranges` names, as given, else its default; one outside its range throws what `fail` builds
 * from the message.
 */
export function resolveOptions<Name extends string>(
  ranges: Readonly<Record<Name, readonly [number, number]>>,
  given: { readonly [Key in NoInfer<Name>]?: number },
  defaults: { readonly [Key in NoInfer<Name>]: number },
  fail: (message: string) => Error,
): Record<Name, number> {
  const resolved = {} as Record<Name, number>;
  for (const name of Object.keys(ranges) as Name[]) {
    const [minimum, maximum] = ranges[name];
    const value = given[name] ?? defaults[name];
    if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
      throw fail(`${name} ${value} is not within ${minimum}..${maximum}`);
    }
    resolved[name] = value;
  }
  return resolved;
}

export interface ControlPoolSettings {
  readonly url: string;
  readonly schema: string;
  readonly connectionsMax: number;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
  /** How the connections are named in pg_stat_activity. */
  readonly applicationName: string;
}

/** A client's settings on the control schema (a pool's, or a store's own dedicated client). */
export function controlClientConfig(
  settings: Omit<ControlPoolSettings, "connectionsMax" | "applicationName">,
): pg.ClientConfig {
  return {
    connectionString: settings.url,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    query_timeout: settings.queryTimeoutMs,
    options: `-c search_path=${settings.schema}`,
    types: INT8_AS_NUMBER_TYPES,
  };
}

/**
 * The pool and the migrations applied; on any failure the pool is ended and what `fail` builds
 * from the cause's message is thrown.
 */
export async function openControlPool(
  settings: ControlPoolSettings,
  nowMs: () => number,
  fail: (message: string) => Error,
): Promise<{ pool: pg.Pool; applied: readonly number[] }> {
  const pool = new pg.Pool({
    ...controlClientConfig(settings),
    application_name: settings.applicationName,
    max: settings.connectionsMax,
  });
  // An idle connection that breaks is dropped by the pool; a query on it fails on its own.
  pool.on("error", () => {});
  try {
    const client = await pool.connect();
    try {
      return { pool, applied: await migratePostgresControl(client, settings.schema, nowMs()) };
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw fail(error instanceof Error ? error.message : String(error));
  }
}
