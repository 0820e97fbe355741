/**
 * A process holding a SQLite ledger open for writing (sqlite-ledger-store.test.ts): opens the
 * store on PATH, funds WRITER_CHILD_ACCOUNT, prints "ready", and waits to be killed. It exits by
 * itself when its stdin closes (the test is gone) or after WRITER_CHILD_LIFETIME_MS, so that a
 * test that dies never leaves it holding the lock.
 * Usage: node --import tsx sqlite-writer-child.ts PATH
 */
import { fileURLToPath } from "node:url";
import { SqliteLedgerStore } from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import { REQUEST_T0_MS } from "../support/ledger-requests.ts";

export const WRITER_CHILD_ACCOUNT = "campaign/child";
export const WRITER_CHILD_FUNDED_MINOR = 4_200;
const WRITER_CHILD_LIFETIME_MS = 60_000;

async function main(): Promise<void> {
  const [path] = process.argv.slice(2);
  if (path === undefined) throw new Error("usage: PATH");
  setTimeout(() => process.exit(2), WRITER_CHILD_LIFETIME_MS);
  process.stdin.once("close", () => process.exit(0));
  process.stdin.resume();
  const store = await SqliteLedgerStore.open({ path, nowMs: () => REQUEST_T0_MS });
  // Answered once durable: what the parent finds after killing this process.
  await store.fund(WRITER_CHILD_ACCOUNT, WRITER_CHILD_FUNDED_MINOR, "child", REQUEST_T0_MS);
  process.stdout.write("ready\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
