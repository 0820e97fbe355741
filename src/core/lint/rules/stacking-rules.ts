/**
 * Campaigns that stack (no shared exclusive group) on the same payments and compound: two
 * percentages of one payment. Amounts off add up but stay bounded by the envelope; shares of the
 * payment grow with it. Pairs are compared only after a cheap test, so a thousand campaigns
 * stay fast.
 */
import type { EffectiveCampaign } from "../../model/config-set.ts";
import { offerKindOf } from "../../offers/registry.ts";
import { largestPaymentMinor, smallestPaymentMinor } from "../campaign-facts.ts";
import { campaignTarget, type LintRule, listIds } from "../lint-rule.ts";

/** Partners one finding names; the rest are counted in its message. */
const PARTNERS_NAMED_MAX = 20;

interface StackingFacts {
  readonly effective: EffectiveCampaign;
  readonly percent: boolean;
  readonly scenarios: ReadonlySet<string>;
  readonly regions: ReadonlySet<string>;
  readonly startMs: number;
  readonly endMs: number;
}

export const stackingRule: LintRule = {
  name: "stacking",
  codes: ["lint.stacking_compounds"],
  check: (input, report) => {
    const facts: StackingFacts[] = input.proposed.campaigns.map((effective) => {
      const { startMs, endMs } = input.instantsOf(effective.campaign.schedule);
      return {
        effective,
        percent: offerKindOf(effective.offer).lintFacts(effective.offer).rateBps !== undefined,
        scenarios: new Set(effective.scenarios),
        regions: new Set(effective.campaign.scope.regions),
        startMs,
        endMs,
      };
    });
    // Only percentages compound, so only they are paired: the pairs grow with their square.
    const percents = facts.filter((fact) => fact.percent);
    const partners = new Map<EffectiveCampaign, { ids: string[]; count: number }>();
    for (let index = 0; index < percents.length; index += 1) {
      const left = percents[index]!;
      for (let other = index + 1; other < percents.length; other += 1) {
        const right = percents[other]!;
        if (!compounds(left, right) || !overlap(left, right)) continue;
        const found = partners.get(right.effective) ?? { ids: [], count: 0 };
        // A finding names a bounded number of partners and counts the rest.
        if (found.ids.length < PARTNERS_NAMED_MAX) found.ids.push(left.effective.campaign.id);
        found.count += 1;
        partners.set(right.effective, found);
      }
    }
    for (const [effective, { ids, count }] of partners) {
      report({
        code: "lint.stacking_compounds",
        target: campaignTarget(effective),
        path: ["stacking"],
        message: `stacks with ${count === 1 ? listIds(ids) : `${count} campaigns (${listIds(ids)})`} on the same payments and compounds; put them in one exclusiveGroup or narrow their scopes`,
        campaignIds: ids,
      });
    }
  },
};

function compounds(left: StackingFacts, right: StackingFacts): boolean {
  const leftGroup = left.effective.campaign.stacking.exclusiveGroup;
  if (leftGroup !== undefined && leftGroup === right.effective.campaign.stacking.exclusiveGroup)
    return false;
  if (left.effective.campaign.currency !== right.effective.campaign.currency) return false;
  return left.percent && right.percent;
}

function intersects<T>(left: ReadonlySet<T>, right: Iterable<T>): boolean {
  for (const value of right) if (left.has(value)) return true;
  return false;
}

function listsMeet(
  left: readonly string[] | undefined,
  right: readonly string[] | undefined,
): boolean {
  if (left === undefined || right === undefined) return true;
  const set = new Set(left);
  return right.some((value) => set.has(value));
}

function overlap(left: StackingFacts, right: StackingFacts): boolean {
  if (left.startMs >= right.endMs || right.startMs >= left.endMs) return false;
  if (!intersects(left.scenarios, right.scenarios)) return false;
  if (!intersects(left.regions, right.regions)) return false;
  const a = left.effective;
  const b = right.effective;
  if (
    smallestPaymentMinor(a) > largestPaymentMinor(b) ||
    smallestPaymentMinor(b) > largestPaymentMinor(a)
  )
    return false;
  const sa = a.campaign.scope;
  const sb = b.campaign.scope;
  return (
    listsMeet(sa.merchantCategories, sb.merchantCategories) &&
    listsMeet(sa.merchantIds, sb.merchantIds) &&
    listsMeet(sa.channels, sb.channels) &&
    listsMeet(sa.paymentMethods, sb.paymentMethods)
  );
}
