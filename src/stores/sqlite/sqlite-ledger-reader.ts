/**
 * A read-only connection to the SQLite ledger, on the thread that decides: the rows a decision
 * needs (a payment by id, a refund, reservations due), and the whole ledger read once to rebuild
 * the counters or to verify them. In WAL mode a reader never waits for the writer, and sees every
 * transaction committed before its statement began. `bursar ledger verify` reads a file with it
 * while a store may be writing.
 */
import BetterSqlite3 from "better-sqlite3";
import {
  assembleImpactReport,
  type ImpactQuery,
  type ImpactReport,
  impactQueryProblem,
} from "../../core/ledger/impact-report.ts";
import type {
  AccountCounters,
  PaymentRecord,
  RefundRecord,
} from "../../core/ledger/ledger-book.ts";
import {
  addContributions,
  type LedgerContents,
  type LedgerVerification,
  type PaymentLedgerPart,
  verifyLedger,
} from "../../core/ledger/ledger-verification.ts";
import type { RefundAnswer } from "../../core/ledger/refund.ts";
import {
  UNCOMMITTED_PAGE_MAX,
  type UncommittedPayment,
} from "../../ledger/ledger-impact-reader.ts";
import { type ImpactGroupSqlRow, impactGroupOf } from "../ledger-impact-sql.ts";
import { type PaymentRow, paymentLedgerPartOf, paymentOf } from "../ledger-rows.ts";
import { SCHEMA_VERSION } from "./sqlite-ledger-schema.ts";
import {
  type DueRow,
  prepareReaderStatements,
  type ReaderStatements,
  type RefundRow,
} from "./sqlite-ledger-statements.ts";

/** The reader's page cache: the payments index pages that lookups walk. */
const PAGE_CACHE_KIB = 16_384;

/** Payment rows read between two turns of the event loop while the counters are rebuilt. */
const REBUILD_SLICE_ROWS = 5_000;

export class SqliteLedgerReader {
  private constructor(
    private readonly database: BetterSqlite3.Database,
    private readonly statements: ReaderStatements,
  ) {}

  /** Opens an existing ledger file at the schema this build writes. */
  static open(path: string): SqliteLedgerReader {
    const database = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
    try {
      database.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      const statements = prepareReaderStatements(database);
      const version = statements.schemaVersion.get() as number | null;
      if (version !== SCHEMA_VERSION) {
        throw new Error(
          `the ledger is at schema version ${version ?? 0}, this build reads ${SCHEMA_VERSION}; open it with the store (which migrates it) first`,
        );
      }
      return new SqliteLedgerReader(database, statements);
    } catch (error) {
      database.close();
      throw error;
    }
  }

  close(): void {
    this.database.close();
  }

  payment(paymentId: string): PaymentRecord | undefined {
    const row = this.statements.selectPayment.get(paymentId) as PaymentRow | undefined;
    return row === undefined ? undefined : paymentOf(row);
  }

  refund(paymentId: string, refundId: string): RefundRecord | undefined {
    const row = this.statements.selectRefund.get(paymentId, refundId) as RefundRow | undefined;
    if (row === undefined) return undefined;
    return {
      paymentId,
      refundId,
      amountMinor: row.amount_minor,
      atMs: row.at_ms,
      answer: JSON.parse(row.answer_json) as RefundAnswer,
    };
  }

  /** Up to `limit` committed reservations due at `nowMs`, earliest expiry first. */
  due(nowMs: number, limit: number): DueRow[] {
    return this.statements.selectDue.all(nowMs, limit) as DueRow[];
  }

  /**
   * The ledger's sums — every account's counters, as `countersOf` finds or creates them — from
   * the funding records and the payments, and every payment id to `onPaymentId`; yields to the
   * event loop every few thousand rows so that a large ledger does not stall it. Returns how many
   * payments it read.
   */
  async sums(
    countersOf: (account: string) => AccountCounters,
    onPaymentId: (paymentId: string) => void,
  ): Promise<number> {
    for (const [account, fundedMinor] of this.fundedByAccount()) {
      countersOf(account).fundedMinor = fundedMinor;
    }
    let paymentsRead = 0;
    for (const row of this.statements.allPayments.iterate() as Iterable<PaymentRow>) {
      onPaymentId(row.payment_id);
      if (row.state !== null) addContributions(countersOf, paymentLedgerPartOf(row));
      paymentsRead += 1;
      if (paymentsRead % REBUILD_SLICE_ROWS === 0) await new Promise(setImmediate);
    }
    return paymentsRead;
  }

  /** The impact report over the committed rows, aggregated in SQL. */
  impactReport(query: ImpactQuery): ImpactReport {
    refuseBadQuery(query);
    const rows = this.statements.impactGroups.all({
      versions: versionsJson(query),
      fromMs: query.fromMs ?? null,
      toMs: query.toMs ?? null,
    }) as ImpactGroupSqlRow[];
    return assembleImpactReport(query, rows.map(impactGroupOf));
  }

  /** Committed reservations still held that hold a subsidy of the versions (ledger-impact-reader.ts). */
  uncommittedOf(
    query: Pick<ImpactQuery, "versions">,
    afterPaymentId: string,
    limit: number,
  ): UncommittedPayment[] {
    refuseBadQuery(query);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > UNCOMMITTED_PAGE_MAX) {
      throw new Error(`limit must be 1-${UNCOMMITTED_PAGE_MAX}`);
    }
    const rows = this.statements.uncommittedOf.all({
      versions: versionsJson(query),
      after: afterPaymentId,
      limit,
    }) as { payment_id: string; affected_minor: number }[];
    return rows.map((row) => ({ paymentId: row.payment_id, affectedMinor: row.affected_minor }));
  }

  /** The ledger's invariants over the committed rows, against `accounts` when given. */
  verify(accounts?: LedgerContents["accounts"]): LedgerVerification {
    return verifyLedger({
      ...(accounts === undefined ? {} : { accounts }),
      fundedByAccount: this.fundedByAccount(),
      payments: this.ledgerParts(),
      refundedByPayment: this.refundedByPayment(),
    });
  }

  private *ledgerParts(): Generator<PaymentLedgerPart> {
    for (const row of this.statements.settledOrHeldPayments.iterate() as Iterable<PaymentRow>) {
      yield paymentLedgerPartOf(row);
    }
  }

  private fundedByAccount(): Map<string, number> {
    return new Map(
      (this.statements.fundedByAccount.all() as { account: string; amount_minor: number }[]).map(
        (row) => [row.account, row.amount_minor],
      ),
    );
  }

  private refundedByPayment(): Map<string, number> {
    return new Map(
      (
        this.statements.refundedByPayment.all() as { payment_id: string; amount_minor: number }[]
      ).map((row) => [row.payment_id, row.amount_minor]),
    );
  }
}

function versionsJson(query: Pick<ImpactQuery, "versions">): string {
  return JSON.stringify(query.versions.map((ref) => [ref.campaignId, ref.version]));
}

function refuseBadQuery(query: Pick<ImpactQuery, "versions"> & Partial<ImpactQuery>): void {
  const problem = impactQueryProblem(query);
  if (problem !== undefined) throw new Error(`invalid impact query: ${problem}`);
}
