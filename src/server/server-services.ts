/**
 * What the route tables are handed: the application services of one running server. Routes read
 * and act through these only — never a store's tables — so every action goes through the same
 * rules (and audit entries) as the CLI's.
 */
import type { ApiTokenService } from "../control/api-tokens.ts";
import type { AuditLogStore } from "../control/audit-log.ts";
import type { ChangeService } from "../control/change-service.ts";
import type { IncidentService } from "../guard/incident-service.ts";
import type { KillStore } from "../guard/kill-store.ts";
import type { PaymentServing } from "../guard/payment-serving.ts";
import type { WebhookOutbox } from "../guard/webhook-outbox.ts";
import type { LedgerImpactReader } from "../ledger/ledger-impact-reader.ts";
import type { LedgerService } from "../ledger/ledger-service.ts";
import type { ServerMetrics } from "./server-metrics.ts";

export interface ServerServices {
  /** The server's clock (the demo's clock with `--demo`). */
  readonly nowMs: () => number;
  readonly tokens: ApiTokenService;
  readonly changes: ChangeService;
  readonly kills: KillStore;
  readonly incidents: IncidentService;
  /** The ledger's impact facts, for impact reports. */
  readonly impact: LedgerImpactReader;
  readonly webhooks: WebhookOutbox;
  readonly audit: AuditLogStore;
  /** The payment serving: breakers, the rollout served, staleness. */
  readonly serving: PaymentServing;
  readonly ledger: LedgerService;
  readonly metrics: ServerMetrics;
}
