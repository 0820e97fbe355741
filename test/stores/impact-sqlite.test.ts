import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { SqliteLedgerStore } from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import { describeLedgerImpactContract } from "../ledger/ledger-impact.contract.ts";
import { REQUEST_T0_MS } from "../support/ledger-requests.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-impact-sqlite-"));
let databases = 0;
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeLedgerImpactContract(
  "sqlite",
  async () => {
    databases += 1;
    return SqliteLedgerStore.open({
      path: join(directory, `case-${databases}.db`),
      nowMs: () => REQUEST_T0_MS,
    });
  },
  12,
);
