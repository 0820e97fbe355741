/**
 * Opens the control plane's stores (versions, change requests and the audit log) for commands:
 * the embedded file `<data dir>/control.sqlite` by default, PostgreSQL with `--database`.
 */
import { join } from "node:path";
import type { ChangeStore } from "../control/change-store.ts";
import { PostgresChangeStore } from "../stores/postgres/postgres-change-store.ts";
import { CONTROL_FILE_NAME } from "../stores/sqlite/sqlite-audit-log-store.ts";
import { SqliteChangeStore } from "../stores/sqlite/sqlite-change-store.ts";

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
