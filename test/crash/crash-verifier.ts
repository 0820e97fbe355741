/**
 * Checks a ledger file after the load generator was killed, against the acknowledgement logs the
 * generators kept outside the store. Every check names what it found; none repairs anything.
 *
 * - the store opens (rebuilding its counters from the rows, releasing expired reservations) and
 *   `verify()` is clean: the counters it keeps equal the ledger's sums;
 * - no overspend: for every account, reserved + spent is within its capacity, by amount and by
 *   count, in sums taken by SQLite from the ledger rows themselves (not by the store's code), and
 *   each budget holds exactly what the test funded;
 * - no duplicates: at most one entry per payment and campaign, every stored answer matches the
 *   ledger entries behind it, and no payment id was decided twice (two acknowledgements that are
 *   not replays) or acknowledged with two different answers;
 * - nothing acknowledged is missing: every acknowledged reserve, sent again with the same id and
 *   content, is replayed with the identical answer (a conflict is still a conflict), and every
 *   acknowledged settlement's final state (committed, released, expired) is the stored state.
 */
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { ReservationAnswer } from "../../src/core/ledger/reservation.ts";
import type { SettledEntry } from "../../src/core/ledger/settlement.ts";
import type { LedgerRecovery } from "../../src/stores/sqlite/sqlite-ledger-protocol.ts";
import { SqliteLedgerStore } from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import { type AcknowledgementRecord, readAcknowledgementLog } from "./acknowledgement-log.ts";
import {
  type CrashVariant,
  crashAccountCapacity,
  crashRequest,
  isCrashPaymentId,
} from "./crash-workload.ts";

export interface CrashViolation {
  readonly check: string;
  readonly detail: string;
}

export interface AcknowledgementCounts {
  reserveAcknowledgements: number;
  decisions: number;
  replays: number;
  conflicts: number;
  reserved: number;
  noSubsidy: number;
  settleAcknowledgements: number;
  tornRecords: number;
  /** Refusal codes of subsidies in first decisions: shows that budgets and caps ran out. */
  refusals: Record<string, number>;
}

interface KnownPayment {
  /** Digest of the acknowledged answer (for the variant it was answered with). */
  answerDigest?: string;
  answeredVariant?: CrashVariant;
  /** A variant that was answered `idempotency_conflict`. */
  conflictVariant?: CrashVariant;
  decisions: number;
  /** The final state a settlement acknowledged, with its entries when committed. */
  settledState?: string;
  committedEntries?: readonly SettledEntry[];
}

const TERMINAL_STATES: ReadonlySet<string> = new Set(["committed", "released", "expired"]);
const REPLAY_BATCH = 2_000;

function digest(answer: ReservationAnswer): string {
  return createHash("sha256").update(JSON.stringify(answer)).digest("base64").slice(0, 22);
}

/**
 * What the generators acknowledged, read run by run as their logs become final (after each kill),
 * kept compactly (a digest per answer) so thousands of runs fit in memory.
 */
export class AcknowledgementIndex {
  private readonly payments = new Map<string, KnownPayment>();
  private readonly readFiles = new Set<string>();
  /** Ids acknowledged since the last replay check. */
  private fresh = new Set<string>();
  readonly violations: CrashViolation[] = [];
  readonly counts: AcknowledgementCounts = {
    reserveAcknowledgements: 0,
    decisions: 0,
    replays: 0,
    conflicts: 0,
    reserved: 0,
    noSubsidy: 0,
    settleAcknowledgements: 0,
    tornRecords: 0,
    refusals: {},
  };

  constructor(private readonly directory: string) {}

  /** Reads the logs of runs that have ended and were not read yet. */
  ingest(): void {
    const names = readdirSync(this.directory)
      .filter((name) => name.endsWith(".ndjson") && !this.readFiles.has(name))
      .sort();
    for (const name of names) {
      this.readFiles.add(name);
      const log = readAcknowledgementLog(join(this.directory, name));
      this.counts.tornRecords += log.tornRecords;
      for (const line of log.malformedLines) {
        this.violations.push({ check: "acknowledgement_log_readable", detail: `${name}: ${line}` });
      }
      for (const record of log.records) this.add(record, name);
    }
  }

  private known(paymentId: string): KnownPayment {
    let known = this.payments.get(paymentId);
    if (known === undefined) {
      known = { decisions: 0 };
      this.payments.set(paymentId, known);
    }
    return known;
  }

  private add(record: AcknowledgementRecord, file: string): void {
    if (record.type === "settle") {
      this.addSettlement(record, file);
      return;
    }
    this.counts.reserveAcknowledgements += 1;
    const known = this.known(record.paymentId);
    this.fresh.add(record.paymentId);
    const result = record.result;
    if (result.code === "idempotency_conflict") {
      this.counts.conflicts += 1;
      known.conflictVariant = record.variant;
      return;
    }
    const answerDigest = digest(result.answer);
    if (result.replayed) this.counts.replays += 1;
    else this.countDecision(result.answer);
    if (!result.replayed) {
      known.decisions += 1;
      if (known.decisions === 2) {
        this.violations.push({
          check: "one_decision_per_payment",
          detail: `${record.paymentId} was decided afresh twice (second in ${file})`,
        });
      }
    }
    if (known.answeredVariant !== undefined && known.answeredVariant !== record.variant) {
      this.violations.push({
        check: "one_content_per_payment",
        detail: `${record.paymentId} was answered for content ${known.answeredVariant} and ${record.variant} (${file})`,
      });
    } else if (known.answerDigest !== undefined && known.answerDigest !== answerDigest) {
      this.violations.push({
        check: "identical_answer_per_payment",
        detail: `${record.paymentId} got two different answers (second in ${file}): ${JSON.stringify(result.answer)}`,
      });
    }
    known.answeredVariant ??= record.variant;
    known.answerDigest ??= answerDigest;
  }

  private countDecision(answer: ReservationAnswer): void {
    this.counts.decisions += 1;
    if (answer.code === "reserved") this.counts.reserved += 1;
    else this.counts.noSubsidy += 1;
    for (const subsidy of answer.subsidies) {
      if (subsidy.code !== "reserved") {
        this.counts.refusals[subsidy.code] = (this.counts.refusals[subsidy.code] ?? 0) + 1;
      }
    }
  }

  private addSettlement(
    record: Extract<AcknowledgementRecord, { type: "settle" }>,
    file: string,
  ): void {
    this.counts.settleAcknowledgements += 1;
    const { answer } = record;
    if (answer.state === null || !TERMINAL_STATES.has(answer.state)) return;
    const known = this.known(answer.paymentId);
    if (known.settledState !== undefined && known.settledState !== answer.state) {
      this.violations.push({
        check: "one_resolution_per_reservation",
        detail: `${answer.paymentId} was acknowledged ${known.settledState} and later ${answer.state} (${file})`,
      });
    }
    known.settledState ??= answer.state;
    if (answer.state === "committed") known.committedEntries ??= answer.entries;
  }

  /** Ids to replay: those acknowledged since the last call, or every one. */
  takeIdsToReplay(all: boolean): string[] {
    const ids = all ? [...this.payments.keys()] : [...this.fresh];
    this.fresh = new Set();
    return ids;
  }

  payment(paymentId: string): KnownPayment | undefined {
    return this.payments.get(paymentId);
  }

  settledPayments(): [string, KnownPayment][] {
    return [...this.payments].filter(([, known]) => known.settledState !== undefined);
  }
}

export interface CrashVerification {
  readonly violations: CrashViolation[];
  readonly recovery: LedgerRecovery;
  readonly replayed: number;
  readonly accounts: number;
  readonly payments: number;
}

/**
 * Verifies one database file against the acknowledgement logs in a directory, again and again as
 * the crash loop goes on; it remembers what it has reported, so each violation is reported once.
 */
export class CrashLedgerVerifier {
  readonly index: AcknowledgementIndex;

  constructor(
    private readonly databasePath: string,
    acknowledgementsDirectory: string,
  ) {
    this.index = new AcknowledgementIndex(acknowledgementsDirectory);
  }

  /**
   * Opens the store on the file (its recovery runs), checks everything above, and closes it.
   * `replayAll` replays every acknowledged id, not only those acknowledged since the last check.
   */
  async verify(options: {
    readonly replayAll: boolean;
    readonly nowMs: number;
  }): Promise<CrashVerification> {
    const index = this.index;
    index.ingest();
    const violations: CrashViolation[] = [...index.violations.splice(0)];
    const store = await SqliteLedgerStore.open({
      path: this.databasePath,
      nowMs: () => options.nowMs,
    });
    let replayed = 0;
    try {
      const report = await store.verify();
      for (const violation of report.violations) {
        violations.push({
          check: `verify.${violation.invariant}`,
          detail: JSON.stringify(violation),
        });
      }
      replayed = await replayAcknowledged(store, index, options, violations);
    } finally {
      await store.close();
    }
    const database = new BetterSqlite3(this.databasePath, { readonly: true });
    try {
      database.exec(LEDGER_ROW_VIEWS);
      const accounts = checkCapacities(database, violations);
      const payments = checkAnswersMatchEntries(database, violations);
      checkSettlements(database, index, violations);
      return { violations, recovery: store.recovery, replayed, accounts, payments };
    } finally {
      database.close();
    }
  }
}

async function replayAcknowledged(
  store: SqliteLedgerStore,
  index: AcknowledgementIndex,
  options: { readonly replayAll: boolean; readonly nowMs: number },
  violations: CrashViolation[],
): Promise<number> {
  const checks: { paymentId: string; variant: CrashVariant; expected: string }[] = [];
  for (const paymentId of index.takeIdsToReplay(options.replayAll)) {
    const known = index.payment(paymentId)!;
    if (known.answeredVariant !== undefined && known.answerDigest !== undefined) {
      checks.push({ paymentId, variant: known.answeredVariant, expected: known.answerDigest });
    }
    if (known.conflictVariant !== undefined) {
      checks.push({ paymentId, variant: known.conflictVariant, expected: "conflict" });
    }
  }
  for (let start = 0; start < checks.length; start += REPLAY_BATCH) {
    const slice = checks.slice(start, start + REPLAY_BATCH);
    const results = await store.reserve(
      slice.map((check) => crashRequest(check.paymentId, check.variant, options.nowMs)),
    );
    results.forEach((result, position) => {
      const check = slice[position]!;
      const missing = (found: string) =>
        violations.push({
          check: "acknowledged_answer_present",
          detail: `${check.paymentId} (${check.variant}): acknowledged ${check.expected === "conflict" ? "idempotency_conflict" : "an answer"}, now ${found}`,
        });
      if (check.expected === "conflict") {
        if (result.code !== "idempotency_conflict") missing(JSON.stringify(result));
      } else if (result.code !== "answered" || !result.replayed) {
        missing(JSON.stringify(result));
      } else if (digest(result.answer) !== check.expected) {
        missing(`a different answer ${JSON.stringify(result.answer)}`);
      }
    });
  }
  return checks.length;
}

interface AccountRow {
  readonly account: string;
  readonly funded_minor: number;
  readonly ledger_reserved_minor: number;
  readonly ledger_spent_minor: number;
  readonly ledger_reserved_count: number;
  readonly ledger_spent_count: number;
}

/**
 * The payment rows' entries and the limits each drew on (the store keeps them as JSON in
 * the payment row), unpacked by SQLite itself rather than by the store's code, so that a mistake
 * in the store's reading of its own rows cannot hide one here. Temporary: nothing is written.
 */
const LEDGER_ROW_VIEWS = `
  CREATE TEMP VIEW entries AS
    SELECT p.payment_id || '#' || e.key AS entry_id, p.payment_id, e.key AS position,
      e.value ->> 0 AS campaign_id, e.value ->> 1 AS reserved_minor,
      e.value ->> 2 AS committed_minor, e.value ->> 3 AS reversed_minor, e.value -> 4 AS debits
    FROM payments p, json_each(p.entries_json) e;
  CREATE TEMP VIEW entry_debits AS
    SELECT e.entry_id, d.key AS position, d.value ->> 0 AS account,
      d.value ->> 1 AS amount_minor, d.value ->> 2 AS count, d.value ->> 3 AS restored_by_refund
    FROM entries e, json_each(e.debits) d;
`;

/**
 * The ledger's own sums, written here rather than taken from the store's rebuild, so that a
 * mistake there cannot hide an overspend here: every account funded or drawn on, what the
 * funding rows put in, and what the payments' entries hold or spent. A committed entry spends
 * what it committed (less what refunds restored to the account) and one use if it committed
 * anything and was not wholly refunded back to the account.
 */
const ACCOUNTS_WITH_LEDGER_SUMS = `
  SELECT a.account,
    coalesce((SELECT sum(f.amount_minor) FROM fundings f WHERE f.account = a.account), 0)
      AS funded_minor,
    coalesce(sum(CASE WHEN p.state = 'reserved' THEN d.amount_minor END), 0) AS ledger_reserved_minor,
    coalesce(sum(CASE WHEN p.state = 'committed'
      THEN e.committed_minor - d.restored_by_refund * e.reversed_minor END), 0) AS ledger_spent_minor,
    coalesce(sum(CASE WHEN p.state = 'reserved' THEN d.count END), 0) AS ledger_reserved_count,
    coalesce(sum(CASE WHEN p.state = 'committed' AND e.committed_minor > 0
      AND NOT (d.restored_by_refund = 1 AND e.reversed_minor = e.committed_minor)
      THEN d.count END), 0) AS ledger_spent_count
  FROM (SELECT account FROM fundings UNION SELECT account FROM entry_debits) a
  LEFT JOIN entry_debits d ON d.account = a.account
  LEFT JOIN entries e ON e.entry_id = d.entry_id
  LEFT JOIN payments p ON p.payment_id = e.payment_id
  GROUP BY a.account
`;

function checkCapacities(database: BetterSqlite3.Database, violations: CrashViolation[]): number {
  const rows = database.prepare(ACCOUNTS_WITH_LEDGER_SUMS).all() as AccountRow[];
  const fail = (account: string, detail: string) =>
    violations.push({ check: "within_capacity", detail: `${account}: ${detail}` });
  for (const row of rows) {
    const capacity = crashAccountCapacity(row.account);
    if (capacity === undefined) {
      violations.push({ check: "known_accounts", detail: `unexpected account ${row.account}` });
      continue;
    }
    if (capacity.fundedMinor !== null && row.funded_minor !== capacity.fundedMinor) {
      violations.push({
        check: "funded_as_funded",
        detail: `${row.account}: funded ${row.funded_minor}, the test funded ${capacity.fundedMinor}`,
      });
    }
    const amountMax = capacity.fundedMinor ?? capacity.capacityMinor;
    const usedMinor = row.ledger_reserved_minor + row.ledger_spent_minor;
    const usedCount = row.ledger_reserved_count + row.ledger_spent_count;
    if (amountMax !== null && usedMinor > amountMax) {
      fail(row.account, `reserved + spent = ${usedMinor} > ${amountMax}`);
    }
    if (capacity.countCapacity !== null && usedCount > capacity.countCapacity) {
      fail(row.account, `uses ${usedCount} > ${capacity.countCapacity}`);
    }
  }
  return rows.length;
}

/**
 * Each stored answer against the ledger behind it: a payment answered `reserved` has exactly one
 * entry per reserved subsidy, for the reserved amount, and one debit per account of its request;
 * a `no_subsidy` answer has no entry. Two entries for one subsidy would be a double reservation.
 */
function checkAnswersMatchEntries(
  database: BetterSqlite3.Database,
  violations: CrashViolation[],
): number {
  const duplicates = database
    .prepare(
      "SELECT payment_id, campaign_id, count(*) AS n FROM entries GROUP BY payment_id, campaign_id HAVING n > 1",
    )
    .all();
  for (const row of duplicates) {
    violations.push({ check: "one_entry_per_payment_and_campaign", detail: JSON.stringify(row) });
  }
  const entries = new Map<string, string[]>();
  const entryRows = database
    .prepare(
      `SELECT e.payment_id, e.campaign_id, e.reserved_minor, count(d.account) AS debits
       FROM entries e LEFT JOIN entry_debits d ON d.entry_id = e.entry_id
       GROUP BY e.entry_id ORDER BY e.payment_id, e.position`,
    )
    .iterate() as Iterable<{
    payment_id: string;
    campaign_id: string;
    reserved_minor: number;
    debits: number;
  }>;
  for (const row of entryRows) {
    const list = entries.get(row.payment_id) ?? [];
    list.push(`${row.campaign_id}:${row.reserved_minor}:${row.debits}`);
    entries.set(row.payment_id, list);
  }
  let payments = 0;
  const paymentRows = database
    .prepare("SELECT payment_id, content_key, answer_json, state FROM payments")
    .iterate() as Iterable<{
    payment_id: string;
    content_key: string;
    answer_json: string;
    state: string | null;
  }>;
  for (const row of paymentRows) {
    payments += 1;
    if (!isCrashPaymentId(row.payment_id)) {
      violations.push({ check: "known_payments", detail: `unexpected payment ${row.payment_id}` });
      continue;
    }
    const answer = JSON.parse(row.answer_json) as ReservationAnswer;
    const variant: CrashVariant = row.content_key.startsWith("crash-x:") ? "x" : "n";
    const request = crashRequest(row.payment_id, variant, 0);
    const expected = answer.subsidies
      .filter((subsidy) => subsidy.code === "reserved")
      .map((subsidy) => {
        const planned = request.subsidies.find((each) => each.campaignId === subsidy.campaignId);
        return `${subsidy.campaignId}:${subsidy.amountMinor}:${planned?.debits.length ?? "?"}`;
      });
    const actual = entries.get(row.payment_id) ?? [];
    entries.delete(row.payment_id);
    const stateFits = answer.code === "reserved" ? row.state !== null : row.state === null;
    if (expected.join(",") !== actual.join(",") || !stateFits) {
      violations.push({
        check: "answer_matches_entries",
        detail: `${row.payment_id}: answer ${answer.code} [${expected.join(",")}], state ${row.state}, entries [${actual.join(",")}]`,
      });
    }
  }
  for (const [paymentId, list] of entries) {
    violations.push({
      check: "answer_matches_entries",
      detail: `entries [${list.join(",")}] for ${paymentId}, which has no stored answer`,
    });
  }
  return payments;
}

function checkSettlements(
  database: BetterSqlite3.Database,
  index: AcknowledgementIndex,
  violations: CrashViolation[],
): void {
  const selectState = database.prepare("SELECT state FROM payments WHERE payment_id = ?");
  const selectEntries = database.prepare(
    "SELECT campaign_id, reserved_minor, committed_minor FROM entries WHERE payment_id = ? ORDER BY position",
  );
  for (const [paymentId, known] of index.settledPayments()) {
    const row = selectState.get(paymentId) as { state: string | null } | undefined;
    if (row?.state !== known.settledState) {
      violations.push({
        check: "acknowledged_settlement_present",
        detail: `${paymentId}: acknowledged ${known.settledState}, stored ${row?.state ?? "nothing"}`,
      });
      continue;
    }
    if (known.committedEntries !== undefined) {
      const stored = selectEntries.all(paymentId).map((entry) => {
        const each = entry as {
          campaign_id: string;
          reserved_minor: number;
          committed_minor: number;
        };
        return {
          campaignId: each.campaign_id,
          reservedMinor: each.reserved_minor,
          committedMinor: each.committed_minor,
        };
      });
      if (JSON.stringify(stored) !== JSON.stringify(known.committedEntries)) {
        violations.push({
          check: "acknowledged_settlement_present",
          detail: `${paymentId}: acknowledged commit ${JSON.stringify(known.committedEntries)}, stored ${JSON.stringify(stored)}`,
        });
      }
    }
  }
}
