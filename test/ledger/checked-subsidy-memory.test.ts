import { MemoryLedgerStore } from "../../src/ledger/memory-ledger-store.ts";
import { describeCheckedSubsidyContract } from "./checked-subsidy.contract.ts";

describeCheckedSubsidyContract("memory", async () => new MemoryLedgerStore());
