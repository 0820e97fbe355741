import { inject } from "vitest";
import {
  PostgresLedgerStore,
  type PostgresLedgerStoreOptions,
} from "../../src/stores/postgres/postgres-ledger-store.ts";
import {
  type CheckedLedgerStore,
  describeCheckedSubsidyContract,
} from "../ledger/checked-subsidy.contract.ts";

const url = inject("postgresUrl");
let schemas = 0;

/** Stores with `options`, each in a fresh schema, and opened again on its schema after a restart. */
function stores(options: Omit<PostgresLedgerStoreOptions, "url" | "schema">) {
  const schemaOf = new WeakMap<CheckedLedgerStore, string>();
  const openIn = async (schema: string): Promise<CheckedLedgerStore> => {
    const store = await PostgresLedgerStore.open({ ...options, url, schema });
    schemaOf.set(store, schema);
    return store;
  };
  return [
    () => {
      schemas += 1;
      return openIn(`checked_${process.pid}_${schemas}`);
    },
    (closed: CheckedLedgerStore) => openIn(schemaOf.get(closed)!),
  ] as const;
}

describeCheckedSubsidyContract("postgres", ...stores({}));

// Every budget leased, however small (ADR 0008): a check committed at once charges its lease.
describeCheckedSubsidyContract(
  "postgres with budget leases",
  ...stores({ leaseFloorMinor: 0, leaseGrantMinMinor: 1 }),
);
