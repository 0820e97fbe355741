/**
 * Remediation after an incident (DESIGN §4.6): release every reservation still uncommitted that
 * holds a subsidy of the bad campaign versions, so that money not yet spent is never spent. The
 * other choice, absorbing what was committed, needs no ledger operation: it is a decision the
 * incident records, with this outcome. Users are never asked to pay anything back.
 *
 * Idempotent: a released reservation is no longer listed, so a second run releases nothing. It
 * releases whole payments (a reservation settles as one), so `releasedTotalMinor` may include
 * other campaigns' subsidies on the same payments; `releasedMinor` is the bad versions' part.
 */
import { type CampaignVersionRef, impactQueryProblem } from "../core/ledger/impact-report.ts";
import type { SettleAnswer } from "../core/ledger/settlement.ts";
import type { LedgerImpactReader } from "./ledger-impact-reader.ts";
import type { LedgerStore } from "./ledger-store.ts";

/** Payments listed and released per round trip: one settle batch each. */
export const REMEDIATION_PAGE_SIZE = 1_000;
/** A bound on the rounds (10M payments), so that a store that keeps listing cannot loop forever. */
const REMEDIATION_PAGES_MAX = 10_000;

export interface RemediationOutcome {
  readonly decision: "release_uncommitted";
  readonly versions: readonly CampaignVersionRef[];
  readonly atMs: number;
  /** Payments this run released. */
  readonly paymentsReleased: number;
  /** The bad versions' subsidies on them. */
  readonly releasedMinor: number;
  /** Every subsidy on them, other campaigns' included. */
  readonly releasedTotalMinor: number;
  /** Listed, but past their expiry when released: expired instead (their money returned too). */
  readonly paymentsExpired: number;
  /** Listed, but committed (or released) by someone else meanwhile: left as they are. */
  readonly paymentsSettledMeanwhile: number;
}

export async function releaseUncommitted(
  store: LedgerStore,
  reader: LedgerImpactReader,
  versions: readonly CampaignVersionRef[],
  atMs: number,
): Promise<RemediationOutcome> {
  const problem = impactQueryProblem({ versions });
  if (problem !== undefined) throw new Error(`invalid remediation: ${problem}`);
  let paymentsReleased = 0;
  let releasedMinor = 0;
  let releasedTotalMinor = 0;
  let paymentsExpired = 0;
  let paymentsSettledMeanwhile = 0;
  let after = "";
  for (let page = 0; page < REMEDIATION_PAGES_MAX; page += 1) {
    const listed = await reader.uncommittedOf({ versions }, after, REMEDIATION_PAGE_SIZE);
    if (listed.length === 0) break;
    const answers = await store.settle(
      listed.map(({ paymentId }) => ({ kind: "release", paymentId, atMs })),
    );
    answers.forEach((answer: SettleAnswer, index) => {
      const { affectedMinor } = listed[index]!;
      if (answer.code === "released" && answer.state === "released") {
        paymentsReleased += 1;
        releasedMinor += affectedMinor;
        for (const entry of answer.entries) releasedTotalMinor += entry.reservedMinor;
      } else if (answer.code === "reservation_expired") {
        paymentsExpired += 1;
      } else {
        paymentsSettledMeanwhile += 1;
      }
    });
    after = listed[listed.length - 1]!.paymentId;
    if (listed.length < REMEDIATION_PAGE_SIZE) break;
  }
  return {
    decision: "release_uncommitted",
    versions,
    atMs,
    paymentsReleased,
    releasedMinor,
    releasedTotalMinor,
    paymentsExpired,
    paymentsSettledMeanwhile,
  };
}
