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
 * (and the same for payers). The sums and the plain counts are one hashed pass over `affected`
 * (PostgreSQL: one GROUPING SETS pass for every split; SQLite, which has none: one pass per
 * split).
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

/** Each split's key over `affected`; a row without the fact falls under "" (minutes: left out). */
const SPLIT_KEYS: readonly (readonly [SplitName, string])[] = [
  ["scenario", "coalesce(scenario, '')"],
  ["region", "coalesce(region, '')"],
  ["funder", "funding"],
  ["campaign_version", "campaign_id || '@' || CAST(campaign_version AS text)"],
  ["minute", "CAST((at_ms / 60000) * 60000 AS text)"],
];

/** Subsidies not alone with their payer (or with none recorded): the ones counted distinct. */
const SHARED = `
  shared AS MATERIALIZED (
    SELECT * FROM affected
    WHERE user_id IS NULL
      OR user_id IN (SELECT user_id FROM affected GROUP BY user_id HAVING count(*) > 1)
  )`;

/** Over every subsidy of a group: each counts as a payment and a payer (corrected by `shared`). */
const EVERY_SUBSIDY_COLUMNS = `count(*) AS subsidies, count(*) AS payments, count(*) AS users,
  min(at_ms) AS first_at_ms, max(at_ms) AS last_at_ms,
  ${AMOUNTS.map((amount) => `sum(${amount}) AS ${amount}`).join(", ")}`;

/** Over a group's shared subsidies: distinct payments and payers in place of their count. */
const SHARED_COLUMNS = `0 AS subsidies,
  count(DISTINCT payment_id) - count(*) AS payments,
  count(DISTINCT user_id) - count(*) AS users,
  NULL AS first_at_ms, NULL AS last_at_ms,
  ${AMOUNTS.map((amount) => `0 AS ${amount}`).join(", ")}`;

/** One SELECT per split (and the total) over `relation`, joined by UNION ALL. */
function perSplit(relation: string, columns: string): string {
  return [
    `SELECT 'total' AS split, '' AS key, ${columns} FROM ${relation}`,
    ...SPLIT_KEYS.map(
      ([split, key]) =>
        `SELECT '${split}' AS split, ${key} AS key, ${columns} FROM ${relation}${split === "minute" ? " WHERE at_ms IS NOT NULL" : ""} GROUP BY ${key}`,
    ),
  ].join("\nUNION ALL\n");
}

/**
 * Every split's plain counts and sums in one pass (PostgreSQL: one hash table per grouping
 * set). `GROUPING(…)` has a bit set for each key a row is not grouped by, the first key's the
 * highest; a row with no minute leaves the minute split only.
 */
function groupingSetsOverAffected(): string {
  const keys = SPLIT_KEYS.map(([split]) => `${split}_key`);
  const grouping = `GROUPING(${keys.join(", ")})`;
  const all = 2 ** keys.length - 1;
  const cases = SPLIT_KEYS.map(
    ([split], index) => `WHEN ${all - 2 ** (keys.length - 1 - index)} THEN '${split}'`,
  );
  return `
    SELECT CASE ${grouping} WHEN ${all} THEN 'total' ${cases.join(" ")} END AS split,
      coalesce(${keys.join(", ")}, '') AS key, ${EVERY_SUBSIDY_COLUMNS}
    FROM (
      SELECT at_ms, ${AMOUNTS.join(", ")},
        ${SPLIT_KEYS.map(([split, key]) => `${key} AS ${split}_key`).join(", ")}
      FROM affected
    ) keyed
    GROUP BY GROUPING SETS ((), ${keys.map((key) => `(${key})`).join(", ")})
    HAVING GROUPING(minute_key) = 1 OR minute_key IS NOT NULL`;
}

function impactGroupsSql(groupingSets: boolean): string {
  const everySubsidy = groupingSets
    ? groupingSetsOverAffected()
    : perSplit("affected", EVERY_SUBSIDY_COLUMNS);
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
    ${perSplit("shared", SHARED_COLUMNS)}
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
