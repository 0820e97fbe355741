import { inject } from "vitest";
import { PostgresLedgerStore } from "../../src/stores/postgres/postgres-ledger-store.ts";
import { describeLedgerImpactContract } from "../ledger/ledger-impact.contract.ts";

const url = inject("postgresUrl");
let schemas = 0;

describeLedgerImpactContract(
  "postgres",
  async () => {
    schemas += 1;
    return PostgresLedgerStore.open({ url, schema: `impact_${process.pid}_${schemas}` });
  },
  12,
);
