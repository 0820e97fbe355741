/**
 * Lowering a budget, cap or ceiling and pausing a campaign are operator actions, not change
 * requests: turning money down must be one person and one step (DESIGN §3, principle 8). These
 * decide whether an edit is purely such an action — for a lowering, nothing else of the document
 * differs, no limit rises or goes away, and at least one falls or appears; for a pause, only
 * `paused` turns on — so nothing that moves money up can pass as one.
 */
import type { Campaign } from "../model/campaign.ts";
import type { ConfigDocument } from "../model/document.ts";
import type { Program } from "../model/program.ts";
import { canonicalJson } from "./canonical-json.ts";
import { type ChangeResult, refuse } from "./change-codes.ts";

export interface LoweredLimit {
  readonly field: string;
  /** Absent when the limit is new: no limit was the highest limit. */
  readonly beforeMinor?: number;
  readonly afterMinor: number;
}

type Limits = Readonly<Record<string, number | undefined>>;

export function loweredLimits(
  before: ConfigDocument,
  after: ConfigDocument,
): ChangeResult<{ lowered: LoweredLimit[] }> {
  if (before.kind !== after.kind || before.id !== after.id) {
    return refuse("not_a_lowering", "a lowering edits one document in place");
  }
  if (after.kind === "campaign") {
    const { limits: limitsBefore, ...restBefore } = before as Campaign;
    const { limits: limitsAfter, ...restAfter } = after;
    const {
      perUser: perUserBefore,
      refundRestores: restoresBefore,
      ...budgetsBefore
    } = limitsBefore;
    const { perUser: perUserAfter, refundRestores: restoresAfter, ...budgetsAfter } = limitsAfter;
    if (
      canonicalJson(restBefore) !== canonicalJson(restAfter) ||
      restoresBefore !== restoresAfter
    ) {
      return refuse("not_a_lowering", "only limits may change in a lowering");
    }
    return compareLimits([
      ["limits", budgetsBefore, budgetsAfter],
      ["limits.perUser", perUserBefore ?? {}, perUserAfter ?? {}],
    ]);
  }
  if (after.kind === "program") {
    const { budgetMinor, perUserMaxMinor, ...restBefore } = before as Program;
    const { budgetMinor: budgetAfter, perUserMaxMinor: perUserAfter, ...restAfter } = after;
    if (canonicalJson(restBefore) !== canonicalJson(restAfter)) {
      return refuse(
        "not_a_lowering",
        "only the program's budget and per-user maximum may change in a lowering",
      );
    }
    return compareLimits([
      [
        "",
        { budgetMinor, perUserMaxMinor },
        { budgetMinor: budgetAfter, perUserMaxMinor: perUserAfter },
      ],
    ]);
  }
  return refuse(
    "not_a_lowering",
    `a ${after.kind} has no limits an operator may lower; change it by a change request`,
  );
}

function compareLimits(
  groups: readonly [string, Limits, Limits][],
): ChangeResult<{ lowered: LoweredLimit[] }> {
  const lowered: LoweredLimit[] = [];
  for (const [path, before, after] of groups) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const field = path === "" ? key : `${path}.${key}`;
      const valueBefore = before[key];
      const valueAfter = after[key];
      if (valueBefore === valueAfter) continue;
      if (valueAfter === undefined)
        return refuse("not_a_lowering", `${field} is removed, which raises it`);
      if (valueBefore !== undefined && valueAfter > valueBefore) {
        return refuse("not_a_lowering", `${field} rises from ${valueBefore} to ${valueAfter}`);
      }
      lowered.push(
        valueBefore === undefined
          ? { field, afterMinor: valueAfter }
          : { field, beforeMinor: valueBefore, afterMinor: valueAfter },
      );
    }
  }
  if (lowered.length === 0) return refuse("not_a_lowering", "no limit is lowered");
  return { ok: true, lowered };
}

/** Whether `after` is `before` paused, and nothing else. Resuming is a change request. */
export function pausedCampaign(
  before: ConfigDocument,
  after: ConfigDocument,
): ChangeResult<object> {
  if (before.kind !== "campaign" || after.kind !== "campaign" || before.id !== after.id) {
    return refuse("not_a_pause", "only a campaign can be paused, in place");
  }
  if (before.paused === true)
    return refuse("not_a_pause", `campaign ${before.id} is paused already`);
  const { paused: _before, ...restBefore } = before;
  const { paused, ...restAfter } = after;
  if (paused !== true || canonicalJson(restBefore) !== canonicalJson(restAfter)) {
    return refuse("not_a_pause", "a pause sets paused and changes nothing else");
  }
  return { ok: true };
}
