/**
 * What the guard's monitors read: one event per payment the evaluators decided, subsidised or
 * not, with the subsidies granted on it. Payments without a grant matter too: they are the
 * denominators of the share of payments subsidised and of the platform's subsidy rate.
 */
import type { FundingSource } from "../funding.ts";
import type { PayeeKind } from "../model/payment.ts";
import type { Region } from "../region.ts";
import type { Scenario } from "../scenario.ts";

/** One subsidy granted on a payment, by one version of one campaign. */
export interface GuardGrant {
  readonly campaignId: string;
  readonly campaignVersion: number;
  readonly templateId: string;
  readonly funding: FundingSource;
  /** The subsidy granted, in the payment's minor units. */
  readonly amountMinor: number;
}

/** One decided payment. `atMs` is the caller's clock (epoch ms): real time or a replay's. */
export interface GuardPaymentEvent {
  readonly atMs: number;
  /** The payment's amount before any subsidy, in minor units. */
  readonly amountMinor: number;
  readonly scenario: Scenario;
  readonly region: Region;
  readonly payeeKind: PayeeKind;
  /** Empty when nothing was granted. */
  readonly grants: readonly GuardGrant[];
}
