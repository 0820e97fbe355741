import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { SqliteLedgerStore } from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import {
  type CheckedLedgerStore,
  describeCheckedSubsidyContract,
} from "../ledger/checked-subsidy.contract.ts";
import { COFFEE_PAYMENT_AT_MS } from "../support/documents.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-checked-sqlite-"));
let databases = 0;
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const paths = new WeakMap<CheckedLedgerStore, string>();

async function openAt(path: string): Promise<CheckedLedgerStore> {
  const store = await SqliteLedgerStore.open({ path, nowMs: () => COFFEE_PAYMENT_AT_MS });
  paths.set(store, path);
  return store;
}

describeCheckedSubsidyContract(
  "sqlite",
  () => {
    databases += 1;
    return openAt(join(directory, `case-${databases}.db`));
  },
  (closed) => openAt(paths.get(closed)!),
);
