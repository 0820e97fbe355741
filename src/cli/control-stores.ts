/**
 * Opens the control plane's stores (versions, change requests and the audit log, kills, incidents,
 * the webhook outbox, API tokens): the embedded file `<data dir>/control.sqlite` by default,
 * PostgreSQL with `--database`.
 */
import { join } from "node:path";
import type { ApiTokenStore } from "../control/api-token-store.ts";
import type { ChangeStore } from "../control/change-store.ts";
import type { IncidentStore } from "../guard/incident-store.ts";
import type { KillStore } from "../guard/kill-store.ts";
import type { WebhookOutbox } from "../guard/webhook-outbox.ts";
import { PostgresApiTokenStore } from "../stores/postgres/postgres-api-token-store.ts";
import { PostgresChangeStore } from "../stores/postgres/postgres-change-store.ts";
import { PostgresIncidentStore } from "../stores/postgres/postgres-incident-store.ts";
import { PostgresKillStore } from "../stores/postgres/postgres-kill-store.ts";
import { PostgresWebhookOutbox } from "../stores/postgres/postgres-webhook-outbox.ts";
import { SqliteApiTokenStore } from "../stores/sqlite/sqlite-api-token-store.ts";
import { CONTROL_FILE_NAME } from "../stores/sqlite/sqlite-audit-log-store.ts";
import { SqliteChangeStore } from "../stores/sqlite/sqlite-change-store.ts";
import { SqliteIncidentStore } from "../stores/sqlite/sqlite-incident-store.ts";
import { SqliteKillStore } from "../stores/sqlite/sqlite-kill-store.ts";
import { SqliteWebhookOutbox } from "../stores/sqlite/sqlite-webhook-outbox.ts";

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
