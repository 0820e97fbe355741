/**
 * The ledger's impact port: what an incident needs from the ledger (DESIGN §4.6). Apart from
 * `LedgerStore` so that stores and fakes that never report (guard mode's, tests') need not
 * implement it. Every ledger store — memory, SQLite, PostgreSQL — implements it and passes the
 * same contract suite (test/ledger/ledger-impact.contract.ts) against a real database.
 *
 * - `impactReport` reads what is durable when it starts (SQLite: after the batches decided
 *   before it commit; PostgreSQL: one REPEATABLE READ snapshot) and aggregates in the database.
 * - `uncommittedOf` lists, in payment id order after `afterPaymentId`, up to `limit` payments
 *   still reserved (not committed, released or expired) that hold a subsidy of the versions,
 *   with the amount those subsidies reserved. Remediation releases them through `settle`.
 */
import type { ImpactQuery, ImpactReport } from "../core/ledger/impact-report.ts";

export interface UncommittedPayment {
  readonly paymentId: string;
  /** What the payment's subsidies of the queried versions hold. */
  readonly affectedMinor: number;
}

/** The most payments one `uncommittedOf` call lists. */
export const UNCOMMITTED_PAGE_MAX = 10_000;

export interface LedgerImpactReader {
  impactReport(query: ImpactQuery): Promise<ImpactReport>;
  uncommittedOf(
    query: Pick<ImpactQuery, "versions">,
    afterPaymentId: string,
    limit: number,
  ): Promise<UncommittedPayment[]>;
}
