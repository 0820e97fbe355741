/**
 * One appending process of the audit log contract (audit-log-store.contract.ts): opens the log it
 * is given and appends its entries all at once, then prints the sequences it was given.
 * Usage: node --import tsx audit-append-child.ts sqlite PATH COUNT ACTOR
 *        node --import tsx audit-append-child.ts postgres URL SCHEMA COUNT ACTOR
 */
import type { AuditLogStore } from "../../src/control/audit-log.ts";
import { PostgresAuditLogStore } from "../../src/stores/postgres/postgres-audit-log-store.ts";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";

async function openStore(args: readonly string[]): Promise<[AuditLogStore, readonly string[]]> {
  const [kind, ...rest] = args;
  if (kind === "sqlite" && rest[0] !== undefined) {
    return [SqliteAuditLogStore.open({ path: rest[0] }), rest.slice(1)];
  }
  if (kind === "postgres" && rest[0] !== undefined && rest[1] !== undefined) {
    return [
      await PostgresAuditLogStore.open({ url: rest[0], schema: rest[1], connectionsMax: 4 }),
      rest.slice(2),
    ];
  }
  throw new Error(
    "usage: audit-append-child.ts sqlite PATH | postgres URL SCHEMA, then COUNT ACTOR",
  );
}

const [store, [countText, actor]] = await openStore(process.argv.slice(2));
const results = await Promise.all(
  Array.from({ length: Number(countText) }, (_, index) =>
    store.append({
      at: new Date(Date.UTC(2025, 0, 16, 6, 40) + index).toISOString(),
      actor: actor!,
      action: "kill.set",
      subject: `campaign/c${index}`,
      contentHash: null,
      reason: `from ${actor}`,
      details: { index },
    }),
  ),
);
await store.close();
const sequences = results.map((result) => {
  if (!result.ok) throw new Error(`refused: ${result.code}`);
  return result.entry.sequence;
});
process.stdout.write(`${JSON.stringify({ sequences })}\n`);
