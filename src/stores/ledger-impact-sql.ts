/**
 * The impact report's aggregation in SQL, shared by the SQLite and PostgreSQL stores: over a
 * relation `affected` the store defines — one row per subsidy of the queried versions, with
 * payment_id, user_id, scenario, region, at_ms, campaign_id, campaign_version, funding and the
 * amounts of `impactAmounts` (held_minor, committed_minor, returned_minor, reserved_minor,
 * refunded_minor) — one row per group of each split, and one `total` row. The core assembles
 * them (`assembleImpactReport`).
 *
 * Distinct payments and payers are what cost (ADR 0015): counting them per group sorts every
 * affected subsidy twice per split. Most payers of an incident pay once in it, so the count is
 * split in two. A subsidy whose payer has no other affected subsidy is one payment and one payer
 * of each of its groups (a payment has one payer: the payer is a fact of the payment, copied to
 * its subsidies), so its groups just count it. Only the other subsidies — the payer's repeat
 * payments, a payment's second subsidy, rows without a recorded payer — are counted distinct,
 * in the CTE `shared`:
 *   payments = subsidies − shared subsidies + distinct payments among the shared ones
 * (and the same for payers). Within `shared`:
 * - payers are numbered (`repeat_payers`), so that a group's distinct payers sort integers, not
 *   ids; the total's distinct payers are the number of repeat payers;
 * - distinct payments are counted only over `multi`, the rows of payments with more than one
 *   affected subsidy: every other shared row is one payment of each of its groups;
 * - the splits group by the stored columns (campaign and version, the minute's number), and the
 *   text keys are made once per group, not once per row.
 * The sums and the plain counts are one hashed pass over `affected` (PostgreSQL: one GROUPING
 * SETS pass for every split; SQLite, which has none: one pass per split).
 */
import type { ImpactGroupRow } from "../core/ledger/impact-report.ts";

const AMOUNTS = [
  "reserved_minor",
  "held_minor",
  "committed_minor",
  "returned_minor",
  "refunded_minor",
] as const;

type SplitName = Exclude<ImpactGroupRow["split"], "total">;

/**
 * Each split: the columns its groups are made by (of `KEYED_COLUMNS`), and its key as text from
 * them; a row without the fact falls under "" (minutes: left out).
 */
const SPLIT_KEYS: readonly (readonly [SplitName, readonly string[], string])[] = [
  ["scenario", ["scenario_key"], "scenario_key"],
  ["region", ["region_key"], "region_key"],
  ["funder", ["funding"], "funding"],
  [
    "campaign_version",
    ["campaign_id", "campaign_version"],
    "campaign_id || '@' || CAST(campaign_version AS text)",
  ],
  ["minute", ["minute_number"], "CAST(minute_number * 60000 AS text)"],
];

/** The grouping columns over a row of `affected` (`prefix`: its alias and a dot, if any). */
function keyedColumns(prefix: string): string {
  return `coalesce(${prefix}scenario, '') AS scenario_key, coalesce(${prefix}region, '') AS region_key,
    ${prefix}funding AS funding, ${prefix}campaign_id AS campaign_id,
    ${prefix}campaign_version AS campaign_version, ${prefix}at_ms / 60000 AS minute_number`;
}

/** Every grouping column, in the order `GROUPING(…)` reads them. */
const GROUPING_COLUMNS = [
  "scenario_key",
  "region_key",
  "funding",
  "campaign_id",
  "campaign_version",
  "minute_number",
] as const;

/**
 * Payers with more than one affected subsidy, numbered; the subsidies of those payers and those
 * without a payer (`shared`, with the payer's number); and among them the subsidies of payments
 * with more than one (`multi`).
 */
const SHARED = `
  repeat_payers AS MATERIALIZED (
    SELECT user_id, row_number() OVER () AS payer
    FROM affected WHERE user_id IS NOT NULL GROUP BY user_id HAVING count(*) > 1
  ),
  shared AS MATERIALIZED (
    SELECT a.payment_id, r.payer, a.at_ms, ${keyedColumns("a.")}
    FROM affected a LEFT JOIN repeat_payers r ON r.user_id = a.user_id
    WHERE a.user_id IS NULL OR r.payer IS NOT NULL
  ),
  multi AS MATERIALIZED (
    SELECT * FROM shared
    WHERE payment_id IN (SELECT payment_id FROM shared GROUP BY payment_id HAVING count(*) > 1)
  )`;

/** Over every subsidy of a group: each counts as a payment and a payer (corrected by `shared`). */
const EVERY_SUBSIDY_COLUMNS = `count(*) AS subsidies, count(*) AS payments, count(*) AS users,
  min(at_ms) AS first_at_ms, max(at_ms) AS last_at_ms,
  ${AMOUNTS.map((amount) => `sum(${amount}) AS ${amount}`).join(", ")}`;

const NO_SUMS = `NULL AS first_at_ms, NULL AS last_at_ms,
  ${AMOUNTS.map((amount) => `0 AS ${amount}`).join(", ")}`;

/** Over a group's shared subsidies: distinct payers in place of their count. */
const SHARED_PAYER_COLUMNS = `0 AS subsidies, 0 AS payments,
  count(DISTINCT payer) - count(*) AS users, ${NO_SUMS}`;

/** Over a group's subsidies of `multi`: distinct payments in place of their count. */
const MULTI_PAYMENT_COLUMNS = `0 AS subsidies, count(DISTINCT payment_id) - count(*) AS payments,
  0 AS users, ${NO_SUMS}`;

/** One SELECT per split over `relation` (which has the grouping columns), joined by UNION ALL. */
function perSplit(relation: string, columns: string): string {
  return SPLIT_KEYS.map(
    ([split, groupBy, key]) =>
      `SELECT '${split}' AS split, ${key} AS key, ${columns} FROM ${relation}${split === "minute" ? " WHERE at_ms IS NOT NULL" : ""} GROUP BY ${groupBy.join(", ")}`,
  ).join("\nUNION ALL\n");
}

/** The shared and multi subsidies' corrections of every split and of the total. */
const SHARED_COUNTS = `
    SELECT 'total' AS split, '' AS key, 0 AS subsidies, 0 AS payments,
      (SELECT count(*) FROM repeat_payers) - count(*) AS users, ${NO_SUMS}
    FROM shared
    UNION ALL
    SELECT 'total' AS split, '' AS key, ${MULTI_PAYMENT_COLUMNS} FROM multi
    UNION ALL
    ${perSplit("shared", SHARED_PAYER_COLUMNS)}
    UNION ALL
    ${perSplit("multi", MULTI_PAYMENT_COLUMNS)}`;

/** The every-subsidy pass over `affected` with its grouping columns. */
const KEYED = `(
      SELECT at_ms, ${AMOUNTS.join(", ")}, ${keyedColumns("")}
      FROM affected
    ) keyed`;

/**
 * Every split's plain counts and sums in one pass (PostgreSQL: one hash table per grouping
 * set). `GROUPING(…)` has a bit set for each column a row is not grouped by, the first
 * column's the highest; a row with no minute leaves the minute split only.
 */
function groupingSetsOverAffected(): string {
  const grouping = `GROUPING(${GROUPING_COLUMNS.join(", ")})`;
  const all = 2 ** GROUPING_COLUMNS.length - 1;
  const bitsOf = (groupBy: readonly string[]) =>
    GROUPING_COLUMNS.reduce(
      (bits, column, index) =>
        groupBy.includes(column) ? bits : bits | (1 << (GROUPING_COLUMNS.length - 1 - index)),
      0,
    );
  const splits = SPLIT_KEYS.map(
    ([split, groupBy]) => `WHEN ${bitsOf(groupBy)} THEN '${split}'`,
  ).join(" ");
  const keys = SPLIT_KEYS.map(([, groupBy, key]) => `WHEN ${bitsOf(groupBy)} THEN ${key}`).join(
    " ",
  );
  return `
    SELECT CASE ${grouping} WHEN ${all} THEN 'total' ${splits} END AS split,
      CASE ${grouping} WHEN ${all} THEN '' ${keys} END AS key, ${EVERY_SUBSIDY_COLUMNS}
    FROM ${KEYED}
    GROUP BY GROUPING SETS ((), ${SPLIT_KEYS.map(([, groupBy]) => `(${groupBy.join(", ")})`).join(", ")})
    HAVING GROUPING(minute_number) = 1 OR minute_number IS NOT NULL`;
}

function impactGroupsSql(groupingSets: boolean): string {
  const everySubsidy = groupingSets
    ? groupingSetsOverAffected()
    : `SELECT 'total' AS split, '' AS key, ${EVERY_SUBSIDY_COLUMNS} FROM ${KEYED}
    UNION ALL
    ${perSplit(KEYED, EVERY_SUBSIDY_COLUMNS)}`;
  return `,
  ${SHARED}
  SELECT split, key,
    CAST(sum(payments) AS bigint) AS payments,
    CAST(sum(users) AS bigint) AS users,
    CAST(sum(subsidies) AS bigint) AS subsidies,
    min(first_at_ms) AS first_at_ms,
    max(last_at_ms) AS last_at_ms,
    ${AMOUNTS.map((amount) => `CAST(coalesce(sum(${amount}), 0) AS bigint) AS ${amount}`).join(",\n    ")}
  FROM (
    ${everySubsidy}
    UNION ALL
    ${SHARED_COUNTS}
  ) parts
  GROUP BY split, key`;
}

/**
 * The rest of the statement after the store's `WITH … affected AS (…)` (it goes on with
 * `, shared AS …`), giving every group row: one pass per split, for SQLite.
 */
export const IMPACT_GROUPS_SQL = impactGroupsSql(false);

/** `IMPACT_GROUPS_SQL` with every split's sums in one GROUPING SETS pass, for PostgreSQL. */
export const IMPACT_GROUPS_SQL_GROUPING_SETS = impactGroupsSql(true);

/**
 * The money columns of `affected` from a subsidy's state and amounts (`impactAmounts` in SQL):
 * `state`, `reserved`, `committed`, `reversed` are the expressions the store reads them from.
 */
export function impactAmountColumns(
  state: string,
  reserved: string,
  committed: string,
  reversed: string,
): string {
  return `
    ${reserved} AS reserved_minor,
    CASE WHEN ${state} = 'reserved' THEN ${reserved} ELSE 0 END AS held_minor,
    CASE WHEN ${state} = 'committed' THEN ${committed} ELSE 0 END AS committed_minor,
    CASE WHEN ${state} = 'reserved' THEN 0 ELSE ${reserved} - ${committed} END AS returned_minor,
    ${reversed} AS refunded_minor`;
}

export interface ImpactGroupSqlRow {
  readonly split: ImpactGroupRow["split"];
  readonly key: string;
  readonly payments: number;
  readonly users: number;
  readonly subsidies: number;
  readonly first_at_ms: number | null;
  readonly last_at_ms: number | null;
  readonly reserved_minor: number;
  readonly held_minor: number;
  readonly committed_minor: number;
  readonly returned_minor: number;
  readonly refunded_minor: number;
}

export function impactGroupOf(row: ImpactGroupSqlRow): ImpactGroupRow {
  return {
    split: row.split,
    key: row.key,
    payments: row.payments,
    users: row.users,
    subsidies: row.subsidies,
    firstAtMs: row.first_at_ms,
    lastAtMs: row.last_at_ms,
    reservedMinor: row.reserved_minor,
    heldMinor: row.held_minor,
    committedMinor: row.committed_minor,
    returnedMinor: row.returned_minor,
    refundedMinor: row.refunded_minor,
  };
}
