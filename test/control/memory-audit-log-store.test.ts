import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { describeAuditLogStoreContract } from "./audit-log-store.contract.ts";

describeAuditLogStoreContract("memory", async () => ({ store: new MemoryAuditLogStore() }));
