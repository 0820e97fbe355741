/**
 * The kill switch's pure parts (DESIGN §3.8, §4.5; docs/reference/kill-switch.md): what a kill
 * names, the kill state an evaluator holds, and what both do to a decision the evaluator made.
 * The evaluators know nothing of kills: the guard applies them afterwards, so a kill takes effect
 * without rebuilding the snapshot, and the evaluators stay equal to each other.
 *
 * Two rules, applied in this order:
 * 1. The staleness gate: an evaluator that has not confirmed its kill state current within its
 *    allowed staleness grants nothing (`guard.snapshot_stale`). It cannot tell whether a kill it
 *    has not heard of exists, so it fails closed (DESIGN §3.7).
 * 2. `applyKills`: every subsidy a kill names is withdrawn and listed in `rejected` with
 *    `guard.killed`. The rest stay exactly as the evaluator granted them, so a decision never
 *    gains subsidy from a kill. In particular a killed winner's exclusive-group runner-up is NOT
 *    promoted, nor does freed envelope room go to anyone: stacking ran before the kill, and
 *    re-running it here would grant money nobody reviewed under these conditions. The runner-up
 *    subsidises again once the snapshot is rebuilt without the killed campaign.
 */
import type { Decision, Explanation, Rejection, Subsidy } from "../evaluator/decision.ts";
import { FUNDING_SOURCES, type FundingSource } from "../funding.ts";

/** What a kill names. Deny-by-default does not apply here: `all` is explicit, never implied. */
export type KillScope =
  | { readonly kind: "all" }
  | { readonly kind: "campaigns"; readonly campaignIds: readonly string[] }
  | { readonly kind: "template"; readonly templateId: string }
  | { readonly kind: "funding"; readonly funding: FundingSource };

export const KILL_SCOPE_KINDS = ["all", "campaigns", "template", "funding"] as const;

/** A kill as the store keeps it. */
export interface Kill {
  /** The kill store's sequence when the kill was set: unique, growing, 1, 2, 3, … */
  readonly sequence: number;
  readonly scope: KillScope;
  readonly reason: string;
  /** Who set it: a principal id, as the audit log names actors. */
  readonly actor: string;
  /** When it was set, from the publisher's injected clock. */
  readonly atMs: number;
}

/** What a process knows of the kills: the active ones, as of the store's `sequence`. */
export interface KillState {
  /** Moves by one with every kill set or cleared; the state reflects every write up to it. */
  readonly sequence: number;
  /** In sequence order. */
  readonly active: readonly Kill[];
}

export const EMPTY_KILL_STATE: KillState = Object.freeze({ sequence: 0, active: [] });

/**
 * The kills of `active` that are none of `known`: what a process begins to obey when it reads a
 * new state. Kills are told apart by sequence: a store never gives one sequence to two kills.
 */
export function killsNotIn(active: readonly Kill[], ...known: (readonly Kill[])[]): Kill[] {
  const seen = new Set<number>();
  for (const kills of known) for (const kill of kills) seen.add(kill.sequence);
  return active.filter((kill) => !seen.has(kill.sequence));
}

export const KILL_LIMITS = {
  /** Active kills a store holds at most: a state is read whole on every change. */
  activeKillsMax: 1_000,
  /** Campaign ids one kill lists at most; the scope is written into the audit entry's details. */
  campaignIdsMax: 32,
  /** A campaign or template id. */
  idLengthMax: 64,
  reasonLengthMax: 2_000,
} as const;

/** Why a store refused a kill write; nothing was written (docs/reference/kill-switch.md). */
export const KILL_WRITE_CODES = {
  kill_invalid:
    "The scope, reason or time is malformed or beyond its limit (KILL_LIMITS); nothing was written.",
  kill_not_active: "The kill to clear does not exist or was already cleared.",
  too_many_kills: "The store already holds the most active kills it may (1,000): clear some first.",
  audit_refused: "The audit log refused the entry (e.g. a malformed actor): nothing was written.",
} as const;

export type KillWriteCode = keyof typeof KILL_WRITE_CODES;

/** A message why `scope`, `reason` and `atMs` cannot be published; undefined when they can. */
export function killRequestProblem(
  scope: unknown,
  reason: unknown,
  atMs: unknown,
): string | undefined {
  if (typeof reason !== "string" || reason.trim() === "") return "a kill needs a reason";
  if (reason.length > KILL_LIMITS.reasonLengthMax) {
    return `the reason is longer than ${KILL_LIMITS.reasonLengthMax} characters`;
  }
  if (typeof atMs !== "number" || !Number.isSafeInteger(atMs) || atMs < 0) {
    return "atMs is not a non-negative integer";
  }
  return killScopeProblem(scope);
}

function killScopeProblem(scope: unknown): string | undefined {
  if (typeof scope !== "object" || scope === null) return "the scope is not an object";
  const kind = (scope as { kind?: unknown }).kind;
  switch (kind) {
    case "all":
      return Object.keys(scope).length === 1 ? undefined : "an `all` scope lists nothing else";
    case "campaigns": {
      const ids = (scope as { campaignIds?: unknown }).campaignIds;
      if (!Array.isArray(ids) || ids.length === 0) return "campaignIds is not a non-empty list";
      if (ids.length > KILL_LIMITS.campaignIdsMax) {
        return `more than ${KILL_LIMITS.campaignIdsMax} campaign ids`;
      }
      if (!ids.every(isId)) return "a campaign id is empty, too long or not a string";
      return new Set(ids).size === ids.length ? undefined : "a campaign id is listed twice";
    }
    case "template":
      return isId((scope as { templateId?: unknown }).templateId)
        ? undefined
        : "templateId is empty, too long or not a string";
    case "funding":
      return (FUNDING_SOURCES as readonly unknown[]).includes(
        (scope as { funding?: unknown }).funding,
      )
        ? undefined
        : `funding is not one of ${FUNDING_SOURCES.join(", ")}`;
    default:
      return `the scope's kind is not one of ${KILL_SCOPE_KINDS.join(", ")}`;
  }
}

function isId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= KILL_LIMITS.idLengthMax;
}

/** A kill state prepared for the hot path: one set lookup per subsidy and scope kind. */
export class KillMatcher {
  readonly sequence: number;
  readonly killsAll: boolean;
  /** True when no kill is active: decisions pass through untouched. */
  readonly empty: boolean;
  private readonly campaignIds = new Set<string>();
  private readonly templateIds = new Set<string>();
  private readonly fundings = new Set<FundingSource>();

  constructor(state: KillState) {
    this.sequence = state.sequence;
    let killsAll = false;
    for (const { scope } of state.active) {
      if (scope.kind === "all") killsAll = true;
      else if (scope.kind === "campaigns")
        for (const id of scope.campaignIds) this.campaignIds.add(id);
      else if (scope.kind === "template") this.templateIds.add(scope.templateId);
      else this.fundings.add(scope.funding);
    }
    this.killsAll = killsAll;
    this.empty = state.active.length === 0;
  }

  kills(subsidy: Subsidy): boolean {
    return (
      this.killsAll ||
      this.campaignIds.has(subsidy.campaignId) ||
      this.templateIds.has(subsidy.templateId) ||
      this.fundings.has(subsidy.funding)
    );
  }
}

/**
 * The decision without the subsidies `matcher` kills: each listed in `rejected` (kept in campaign
 * id order) with `guard.killed`, and in `explanation` when there is one; the total recomputed from
 * what remains. The same object when nothing is killed. See the file comment on runners-up.
 */
export function applyKills(decision: Decision, matcher: KillMatcher): Decision {
  if (matcher.empty || decision.subsidies.length === 0) return decision;
  const kept: Subsidy[] = [];
  const killed: Rejection[] = [];
  for (const subsidy of decision.subsidies) {
    if (matcher.kills(subsidy))
      killed.push({ campaignId: subsidy.campaignId, reason: "guard.killed" });
    else kept.push(subsidy);
  }
  if (killed.length === 0) return decision;
  let totalSubsidyMinor = 0;
  for (const subsidy of kept) totalSubsidyMinor += subsidy.amountMinor;
  // Removing subsidies can only lower the total; anything else is a bug worth stopping on.
  if (!(totalSubsidyMinor <= decision.totalSubsidyMinor)) {
    throw new Error(
      `a kill raised a payment's subsidy from ${decision.totalSubsidyMinor} to ${totalSubsidyMinor}`,
    );
  }
  const killedIds = new Set(killed.map((rejection) => rejection.campaignId));
  const rejected = [...decision.rejected, ...killed].sort(byCampaignId);
  const guarded: Decision = {
    ...decision,
    subsidies: kept,
    totalSubsidyMinor,
    rejected,
    subjectToBudget: decision.subjectToBudget && kept.length > 0,
  };
  if (decision.explanation === undefined) return guarded;
  return {
    ...guarded,
    explanation: decision.explanation.map(
      (entry): Explanation =>
        killedIds.has(entry.campaignId)
          ? { campaignId: entry.campaignId, outcome: "guard.killed" }
          : entry,
    ),
  };
}

function byCampaignId(left: Rejection, right: Rejection): number {
  return left.campaignId < right.campaignId ? -1 : left.campaignId > right.campaignId ? 1 : 0;
}

/** What the staleness gate needs to know of a watcher. */
export interface KillFreshness {
  /** When the kill state was last confirmed current (a read issued then saw it), or null: never. */
  readonly confirmedAtMs: number | null;
  readonly allowedStalenessMs: number;
}

/** True when the state was last confirmed more than the allowed staleness before `nowMs`. */
export function isKillStateStale(freshness: KillFreshness, nowMs: number): boolean {
  return (
    freshness.confirmedAtMs === null ||
    nowMs - freshness.confirmedAtMs > freshness.allowedStalenessMs
  );
}

/**
 * No subsidy at all, with `guard.snapshot_stale`, unless the evaluator already refused the payment
 * as a whole (its own reason is the more useful one, and grants nothing either).
 */
export function refuseStale(decision: Decision): Decision {
  if (decision.reason !== null) return decision;
  return {
    ...decision,
    reason: "guard.snapshot_stale",
    subsidies: [],
    totalSubsidyMinor: 0,
    rejected: [],
    excludedByIndex: 0,
    subjectToBudget: false,
    ...(decision.explanation === undefined
      ? {}
      : {
          explanation: decision.explanation.map((entry) => ({
            campaignId: entry.campaignId,
            outcome: "guard.snapshot_stale" as const,
          })),
        }),
  };
}

/** Both rules, in order: the staleness gate, then the kills. */
export function guardDecision(
  decision: Decision,
  matcher: KillMatcher,
  freshness: KillFreshness,
  nowMs: number,
): Decision {
  if (isKillStateStale(freshness, nowMs)) return refuseStale(decision);
  return applyKills(decision, matcher);
}
