/**
 * The impact report's aggregation in SQL, shared by the SQLite and PostgreSQL stores (the same
 * statement in both dialects): over a relation `affected` the store defines — one row per
 * subsidy of the queried versions, with payment_id, user_id, scenario, region, at_ms,
 * campaign_id, campaign_version, funding and the amounts of `impactAmounts` (held_minor,
 * committed_minor, returned_minor, reserved_minor, refunded_minor) — one row per group of each
 * split, and one `total` row. The core assembles them (`assembleImpactReport`).
 */
import type { ImpactGroupRow } from "../core/ledger/impact-report.ts";

const AGGREGATES = `
  count(DISTINCT payment_id) AS payments,
  count(DISTINCT user_id) AS users,
  count(*) AS subsidies,
  min(at_ms) AS first_at_ms,
  max(at_ms) AS last_at_ms,
  CAST(coalesce(sum(reserved_minor), 0) AS bigint) AS reserved_minor,
  CAST(coalesce(sum(held_minor), 0) AS bigint) AS held_minor,
  CAST(coalesce(sum(committed_minor), 0) AS bigint) AS committed_minor,
  CAST(coalesce(sum(returned_minor), 0) AS bigint) AS returned_minor,
  CAST(coalesce(sum(refunded_minor), 0) AS bigint) AS refunded_minor`;

/** Each split's key expression; a row without the fact falls under "" (minutes: left out). */
const SPLIT_KEYS: readonly (readonly [ImpactGroupRow["split"], string, string])[] = [
  ["scenario", "coalesce(scenario, '')", ""],
  ["region", "coalesce(region, '')", ""],
  ["funder", "funding", ""],
  ["campaign_version", "campaign_id || '@' || CAST(campaign_version AS text)", ""],
  ["minute", "CAST((at_ms / 60000) * 60000 AS text)", "WHERE at_ms IS NOT NULL"],
];

/** The SELECT (after the store's `WITH … affected AS (…)`) giving every group row. */
export const IMPACT_GROUPS_SQL = [
  `SELECT 'total' AS split, '' AS key, ${AGGREGATES} FROM affected`,
  ...SPLIT_KEYS.map(
    ([split, key, where]) =>
      `SELECT '${split}' AS split, ${key} AS key, ${AGGREGATES} FROM affected ${where} GROUP BY ${key}`,
  ),
].join("\nUNION ALL\n");

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
