/**
 * On-call's immediate actions, the ones that turn money off (DESIGN §3, principle 8: one
 * authorised person, at once): pausing a campaign, lowering its limits
 * (docs/reference/changes.md, "Operator actions"), and moving a tripped breaker to acknowledged
 * and an acknowledged one back to armed (docs/reference/guard.md, "Breakers"). The server enforces
 * every rule; these say in advance what it would refuse and why, so the page can explain instead
 * of failing. Pure.
 */

import type { CampaignApiRow, CampaignStatus } from "./campaigns.ts";
import { type ActionStance, allowed, refused } from "./change-actions.ts";

/** A campaign's schedule phase (paused is one) and the status shown, which a kill overrides. */
export type CampaignPhase = CampaignApiRow["phase"];

/** What the API answers an operator's action with: the change it was recorded as. */
export interface RecordedAction {
  readonly id: string;
}

/** Campaigns one "pause them all" pauses at most, one request each (a kill names 32 too). */
export const PAUSE_ALL_MAX = 32;

/** Whether this person may pause campaigns at all: the API lets operators only. */
export function pausingStance(roles: readonly string[]): ActionStance {
  return roles.includes("operator") ? allowed : refused("Pausing needs the operator role.");
}

/**
 * Whether this person may pause a campaign now. `phase` is the campaign list's (undefined: the
 * campaign is not active, e.g. a change's new campaign not yet written or retired); a killed
 * campaign may be paused too — the kill stops money now, the pause keeps it off in the
 * configuration — so the phase decides, not the status a kill overrides.
 */
export function pauseStance(
  phase: CampaignPhase | undefined,
  roles: readonly string[],
): ActionStance {
  const pausing = pausingStance(roles);
  if (!pausing.allowed) return pausing;
  if (phase === undefined) return refused("Not an active campaign: there is nothing to pause.");
  if (phase === "paused") return refused("Paused already; resuming is a change request.");
  return allowed;
}

export interface PauseTarget {
  readonly campaignId: string;
  readonly status: CampaignStatus | undefined;
  readonly stance: ActionStance;
}

/** The campaigns a change reaches, each with its status and whether it may be paused now. */
export function pauseTargets(
  campaignIds: readonly string[],
  campaigns: ReadonlyMap<
    string,
    { readonly phase: CampaignPhase; readonly status: CampaignStatus }
  >,
  roles: readonly string[],
): PauseTarget[] {
  return [...new Set(campaignIds)].map((campaignId) => {
    const campaign = campaigns.get(campaignId);
    return {
      campaignId,
      status: campaign?.status,
      stance: pauseStance(campaign?.phase, roles),
    };
  });
}

/** "Pause them all": the targets it would pause (those that may be), or why there are none. */
export function pauseAllStance(
  targets: readonly PauseTarget[],
  roles: readonly string[],
): ActionStance & { readonly campaignIds: readonly string[] } {
  const campaignIds = targets
    .filter((target) => target.stance.allowed)
    .map((target) => target.campaignId);
  const pausing = pausingStance(roles);
  if (!pausing.allowed) return { ...pausing, campaignIds: [] };
  if (campaignIds.length === 0) {
    return { ...refused("None of its campaigns can be paused now."), campaignIds };
  }
  if (campaignIds.length > PAUSE_ALL_MAX) {
    return {
      ...refused(`At most ${PAUSE_ALL_MAX} at once; pause them one by one, or kill the template.`),
      campaignIds,
    };
  }
  return { ...allowed, campaignIds };
}

/** The outcome of one pause request, as the page reports it beside the campaign. */
export type PauseOutcome =
  | { readonly campaignId: string; readonly ok: true; readonly changeId: string }
  | { readonly campaignId: string; readonly ok: false; readonly message: string };

/** One line for a "pause them all": how many were paused, and every refusal named. */
export function pauseAllSummary(outcomes: readonly PauseOutcome[]): string {
  const paused = outcomes.filter((outcome) => outcome.ok);
  const failed = outcomes.filter((outcome) => !outcome.ok);
  const head = `Paused ${paused.length} of ${outcomes.length}`;
  if (failed.length === 0) return `${head}.`;
  return `${head}; refused: ${failed
    .map((outcome) => `${outcome.campaignId} (${outcome.ok ? "" : outcome.message})`)
    .join("; ")}.`;
}

// ---------------------------------------------------------------------------------------------
// Lowering a campaign's limits (POST /v1/campaigns/{id}/lower-limits).

/** The limits the page offers to lower: money, in minor units, as the editor types them. */
export const LOWERABLE_LIMITS = [
  { key: "totalBudgetMinor", label: "Total budget" },
  { key: "dailyBudgetMinor", label: "Daily budget" },
  { key: "perPaymentCapMinor", label: "Cap per payment" },
  { key: "spendPerMinuteMaxMinor", label: "Spend per minute ceiling" },
] as const;
export type LowerableLimit = (typeof LOWERABLE_LIMITS)[number]["key"];

export type LimitsTyped = Readonly<Partial<Record<LowerableLimit, string>>>;

/**
 * The largest amount the API takes in any money field (src/core/money.ts, 10^15 minor units),
 * below 2^53: a new limit above it is refused even though it lowers nothing.
 */
export const AMOUNT_MINOR_MAX = 1_000_000_000_000_000;

/** The text each field starts with: the active limit, or empty where the campaign has none. */
export function limitsText(
  limits: Readonly<Record<string, unknown>>,
): Record<LowerableLimit, string> {
  const text = {} as Record<LowerableLimit, string>;
  for (const { key } of LOWERABLE_LIMITS) {
    const value = limits[key];
    text[key] = typeof value === "number" ? String(value) : "";
  }
  return text;
}

export type LoweredDraft =
  | { readonly ok: true; readonly limits: Record<string, unknown>; readonly lowered: number }
  | {
      readonly ok: false;
      /** Beside a field. */
      readonly problems: Readonly<Partial<Record<LowerableLimit, string>>>;
      /** About the whole (nothing lowered). */
      readonly general?: string;
    };

/**
 * The campaign's whole new `limits` from what was typed, or why the API would refuse it: a limit
 * may fall or appear (up to the largest amount), never rise or go (removing a limit raises it);
 * the rest of `limits` (per-user caps, refunds) is kept as it is; at least one must fall.
 */
export function loweredLimitsDraft(
  current: Readonly<Record<string, unknown>>,
  typed: LimitsTyped,
): LoweredDraft {
  const limits: Record<string, unknown> = { ...current };
  const problems: Partial<Record<LowerableLimit, string>> = {};
  let lowered = 0;
  for (const { key } of LOWERABLE_LIMITS) {
    const before = typeof current[key] === "number" ? (current[key] as number) : undefined;
    const text = (typed[key] ?? (before === undefined ? "" : String(before))).trim();
    if (text === "") {
      if (before !== undefined) problems[key] = "Removing a limit raises it: keep one.";
      continue;
    }
    if (!/^\d+$/.test(text)) {
      problems[key] = "A whole number of minor units.";
      continue;
    }
    // Digits only, so a whole number; past 2^53 rounded, but then above the largest amount too.
    const after = Number(text);
    if (after < 1) {
      problems[key] = "At least 1 minor unit.";
      continue;
    }
    if (before !== undefined && after > before) {
      problems[key] = `Raises it from ${before}: raising is a change request.`;
      continue;
    }
    if (after > AMOUNT_MINOR_MAX) {
      problems[key] = `At most ${AMOUNT_MINOR_MAX} minor units.`;
      continue;
    }
    if (after !== before) lowered += 1;
    limits[key] = after;
  }
  if (Object.keys(problems).length > 0) return { ok: false, problems };
  if (lowered === 0) return { ok: false, problems, general: "No limit is lowered yet." };
  return { ok: true, limits, lowered };
}

// ---------------------------------------------------------------------------------------------
// Breakers (POST /v1/breakers/{id}/acknowledge | reset).

export type BreakerMove = "acknowledge" | "reset";

/** The breaker lifecycle's moves for on-call: tripped → acknowledged → armed, never skipping. */
export function breakerMoveStance(
  state: string,
  move: BreakerMove,
  roles: readonly string[],
): ActionStance {
  if (!roles.includes("operator")) return refused("Acting on breakers needs the operator role.");
  if (move === "acknowledge") {
    if (state === "tripped") return allowed;
    if (state === "acknowledged") return refused("Acknowledged already.");
    return refused("Armed: there is no trip to acknowledge.");
  }
  if (state === "acknowledged") return allowed;
  if (state === "tripped") {
    return refused("Acknowledge it first: a breaker is never reset straight from tripped.");
  }
  return refused("Armed already.");
}

/** Bytes the audit log keeps of a reason (docs/reference/audit-log.md). */
export const AUDIT_REASON_BYTES_MAX = 2_000;

/**
 * A breaker move's body: the on-call engineer's reason when one is typed (it is optional, and
 * audited with the move), else no body at all; or why the typed reason cannot be sent.
 */
export function breakerMoveBody(
  typed: string,
): { ok: true; body: { reason: string } | undefined } | { ok: false; problem: string } {
  const reason = typed.trim();
  if (reason === "") return { ok: true, body: undefined };
  if (new TextEncoder().encode(reason).length > AUDIT_REASON_BYTES_MAX) {
    return { ok: false, problem: `At most ${AUDIT_REASON_BYTES_MAX.toLocaleString("en")} bytes.` };
  }
  return { ok: true, body: { reason } };
}
