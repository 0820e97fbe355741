import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../../src/control/memory-change-store.ts";
import { describeChangeStoreContract } from "./change-store.contract.ts";

describeChangeStoreContract("memory", async () => {
  const audit = new MemoryAuditLogStore();
  return { store: new MemoryChangeStore(audit), audit };
});
