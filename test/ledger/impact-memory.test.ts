import { MemoryLedgerStore } from "../../src/ledger/memory-ledger-store.ts";
import { describeLedgerImpactContract } from "./ledger-impact.contract.ts";

describeLedgerImpactContract("memory", async () => new MemoryLedgerStore(), 0);
