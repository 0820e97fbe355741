/**
 * The ledger `bursar incident remediate` releases from: opened only when the incident service
 * asks to release (after its own checks, so a refused remediation never touches the ledger),
 * through `releaseUncommitted` (src/ledger/impact-remediation.ts), and closed by the command.
 * SQLite's ledger file is held by one writer at a time: while a server runs on it, release from
 * that process, or release elsewhere and record the figures with `--released-count/--released`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { CampaignVersionRef } from "../core/guard/incident.ts";
import type { ReleaseReservations } from "../guard/incident-service.ts";
import { type RemediationOutcome, releaseUncommitted } from "../ledger/impact-remediation.ts";
import type { LedgerImpactReader } from "../ledger/ledger-impact-reader.ts";
import type { LedgerStore } from "../ledger/ledger-store.ts";
import { PostgresLedgerStore } from "../stores/postgres/postgres-ledger-store.ts";
import { LEDGER_FILE_NAME, SqliteLedgerStore } from "../stores/sqlite/sqlite-ledger-store.ts";
import type { LedgerLocation } from "./commands/impact.ts";

export type { LedgerLocation } from "./commands/impact.ts";

type ReleasingLedger = LedgerStore & LedgerImpactReader;

export class RemediationLedger {
  private store: ReleasingLedger | undefined;

  constructor(
    private readonly location: LedgerLocation,
    /** Told of the outcome (the command prints it on stderr). */
    private readonly onOutcome: (outcome: RemediationOutcome) => void = reportOutcome,
  ) {}

  /** The incident service's port, releasing at the service's clock. */
  readonly release = (nowMs: () => number): ReleaseReservations => {
    return async (versions: readonly CampaignVersionRef[]) => {
      const store = await this.open(nowMs);
      const outcome = await releaseUncommitted(store, store, versions, nowMs());
      this.onOutcome(outcome);
      // What the incident records: the blamed versions' part of the reservations released here.
      return { count: outcome.paymentsReleased, amountMinor: outcome.releasedMinor };
    };
  };

  async close(): Promise<void> {
    await this.store?.close();
    this.store = undefined;
  }

  private async open(nowMs: () => number): Promise<ReleasingLedger> {
    if (this.store !== undefined) return this.store;
    if (this.location.kind === "sqlite") {
      const path = join(this.location.data, LEDGER_FILE_NAME);
      // Opening would create an empty ledger: a wrong directory must not look like "nothing held".
      if (!existsSync(path)) throw new Error(`no ledger at ${path}`);
      this.store = await SqliteLedgerStore.open({ path, nowMs });
    } else {
      this.store = await PostgresLedgerStore.open({
        url: this.location.url,
        schema: this.location.schema,
        nowMs,
      });
    }
    return this.store;
  }
}

function reportOutcome(outcome: RemediationOutcome): void {
  process.stderr.write(
    `released ${outcome.paymentsReleased} uncommitted reservations holding ${outcome.releasedMinor} of the blamed versions (${outcome.releasedTotalMinor} in all); ${outcome.paymentsExpired} had expired; ${outcome.paymentsSettledMeanwhile} were settled meanwhile\n`,
  );
}
