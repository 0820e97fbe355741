/**
 * Opens the control plane's stores (versions, change requests and the audit log, kills, incidents,
 * the webhook outbox, API tokens): the embedded file `<data dir>/control.sqlite` by default,
 * PostgreSQL with `--database`.
 */
import { join } from "node:path";
import type { ApiTokenStore } from "../control/api-token-store.ts";
import type { AuditLogStore } from "../control/audit-log.ts";
import type { ChangeStore } from "../control/change-store.ts";
import type { IncidentStore } from "../guard/incident-store.ts";
import type { KillStore } from "../guard/kill-store.ts";
import type { WebhookOutbox } from "../guard/webhook-outbox.ts";
import { PostgresApiTokenStore } from "./postgres/postgres-api-token-store.ts";
import { PostgresAuditLogStore } from "./postgres/postgres-audit-log-store.ts";
import { PostgresChangeStore } from "./postgres/postgres-change-store.ts";
import { PostgresIncidentStore } from "./postgres/postgres-incident-store.ts";
import { PostgresKillStore } from "./postgres/postgres-kill-store.ts";
import { PostgresLedgerStore } from "./postgres/postgres-ledger-store.ts";
import { PostgresWebhookOutbox } from "./postgres/postgres-webhook-outbox.ts";
import { SqliteApiTokenStore } from "./sqlite/sqlite-api-token-store.ts";
import { CONTROL_FILE_NAME, SqliteAuditLogStore } from "./sqlite/sqlite-audit-log-store.ts";
import { SqliteChangeStore } from "./sqlite/sqlite-change-store.ts";
import { SqliteIncidentStore } from "./sqlite/sqlite-incident-store.ts";
import { SqliteKillStore } from "./sqlite/sqlite-kill-store.ts";
import { LEDGER_FILE_NAME, SqliteLedgerStore } from "./sqlite/sqlite-ledger-store.ts";
import { SqliteWebhookOutbox } from "./sqlite/sqlite-webhook-outbox.ts";

export interface ControlStoreFlags {
  readonly data: string;
  readonly database?: string;
  readonly schema: string;
}

export async function openChangeStore(flags: ControlStoreFlags): Promise<ChangeStore> {
  if (flags.database !== undefined) {
    return PostgresChangeStore.open({ url: flags.database, schema: flags.schema });
  }
  return SqliteChangeStore.open({ path: join(flags.data, CONTROL_FILE_NAME) });
}

/** The kill switch's store, beside the change store: `control.sqlite`, or PostgreSQL with `--database`. */
export async function openKillStore(flags: ControlStoreFlags): Promise<KillStore> {
  if (flags.database !== undefined) {
    return PostgresKillStore.open({ url: flags.database, schema: flags.schema });
  }
  return SqliteKillStore.open({ path: join(flags.data, CONTROL_FILE_NAME) });
}

export async function openIncidentStore(flags: ControlStoreFlags): Promise<IncidentStore> {
  if (flags.database !== undefined) {
    return PostgresIncidentStore.open({ url: flags.database, schema: flags.schema });
  }
  return SqliteIncidentStore.open({ path: join(flags.data, CONTROL_FILE_NAME) });
}

/** The webhook outbox (endpoints and deliveries) beside the other control tables. */
export async function openWebhookOutbox(flags: ControlStoreFlags): Promise<WebhookOutbox> {
  if (flags.database !== undefined) {
    return PostgresWebhookOutbox.open({ url: flags.database, schema: flags.schema });
  }
  return SqliteWebhookOutbox.open({ path: join(flags.data, CONTROL_FILE_NAME) });
}

/** The API tokens (hashed secrets and roles) beside the other control tables. */
export async function openApiTokenStore(flags: ControlStoreFlags): Promise<ApiTokenStore> {
  if (flags.database !== undefined) {
    return PostgresApiTokenStore.open({ url: flags.database, schema: flags.schema });
  }
  return SqliteApiTokenStore.open({ path: join(flags.data, CONTROL_FILE_NAME) });
}

/**
 * The ledger beside the control stores: `<data dir>/ledger.db`, held by its writer thread, or the
 * ledger's tables in the same PostgreSQL schema. `nowMs` releases reservations that expired while
 * the store was closed; `onBatchCommitted` hears of every durable transaction (metrics).
 */
export async function openLedgerStore(
  flags: ControlStoreFlags,
  nowMs: () => number,
  onBatchCommitted?: (requests: number, durationMs: number) => void,
): Promise<SqliteLedgerStore | PostgresLedgerStore> {
  const observer = onBatchCommitted === undefined ? {} : { onBatchCommitted };
  if (flags.database !== undefined) {
    return PostgresLedgerStore.open({
      url: flags.database,
      schema: flags.schema,
      nowMs,
      ...observer,
    });
  }
  return SqliteLedgerStore.open({ path: join(flags.data, LEDGER_FILE_NAME), nowMs, ...observer });
}

/**
 * The audit log, writable, for what no store records: a breaker's moves live in a process's
 * runtime guard, so the server appends them itself (the log's own atomic step serialises them
 * with every other appender).
 */
export async function openAuditLog(flags: ControlStoreFlags): Promise<AuditLogStore> {
  if (flags.database !== undefined) {
    return PostgresAuditLogStore.open({
      url: flags.database,
      schema: flags.schema,
      connectionsMax: 2,
    });
  }
  return SqliteAuditLogStore.open({ path: join(flags.data, CONTROL_FILE_NAME) });
}
