import { MemoryLedgerStore } from "../../src/ledger/memory-ledger-store.ts";
import { describeLedgerStoreContract } from "./ledger-store.contract.ts";

describeLedgerStoreContract("memory", async () => new MemoryLedgerStore());
