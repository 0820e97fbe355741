/**
 * How risky a change is, from what it does to effective campaigns and to the money its
 * simulation projects. A high-risk change needs two distinct reviewers and is never approved
 * by policy; a low-risk one may be approved by the documented auto-approval policy when none
 * of the reasons that block it apply.
 */
import type { Campaign } from "../model/campaign.ts";
import type { EffectiveCampaign } from "../model/config-set.ts";
import type { Schedule } from "../model/schedule.ts";
import type { Scope } from "../model/scope.ts";
import { SCOPE_LIST_FIELDS } from "../model/scope.ts";
import { AMOUNT_MINOR_MAX } from "../money.ts";
import { type Offer, offerKindOf } from "../offers/registry.ts";
import { canonicalJson } from "./canonical-json.ts";
import type { ChangeDiff, FieldChange } from "./change-diff.ts";

export const RISK_REASONS = {
  envelope_changed: { highRisk: true, description: "The change edits the safety envelope." },
  government_funding: {
    highRisk: true,
    description: "The change touches government funding: a program, or a campaign it pays for.",
  },
  new_scenario: {
    highRisk: true,
    description: "A campaign starts subsidising a payment scenario it did not cover before.",
  },
  new_region: {
    highRisk: true,
    description: "A campaign starts subsidising a region it did not cover before.",
  },
  template_fan_out: {
    highRisk: true,
    description:
      "A template or program edit changes the offer, funding or label of campaigns that were not edited themselves.",
  },
  spend_growth: {
    highRisk: true,
    description: "Simulated subsidy per hour grows past the policy's threshold.",
  },
  template_widened: {
    highRisk: true,
    description:
      "A template allows more: wider or removed parameter bands, more scenarios or regions, longer campaigns, no segment restriction.",
  },
  campaign_added: {
    highRisk: false,
    description:
      "A campaign starts granting that did not before (a new one, or one a template edit brings in): money is turned on, so not auto-approved.",
  },
  new_funding: {
    highRisk: false,
    description:
      "A campaign's funding source changes or a new campaign brings one: not auto-approved.",
  },
  scope_widened: {
    highRisk: false,
    description:
      "A campaign's merchant, channel, method, segment or amount scope widens: not auto-approved.",
  },
  schedule_widened: {
    highRisk: false,
    description:
      "A campaign runs longer or at more times (earlier start, later end, wider or no daily window or weekdays): not auto-approved.",
  },
  offer_raised: {
    highRisk: false,
    description:
      "A campaign's offer gives more on some payment (a larger amount, rate, cap or draw, a lower threshold), even where a per-payment cap holds it today: not auto-approved.",
  },
  limit_raised: {
    highRisk: false,
    description: "A budget, cap or ceiling is raised or removed: not auto-approved.",
  },
  campaign_resumed: {
    highRisk: false,
    description: "A paused campaign is resumed: money turns back on, so not auto-approved.",
  },
  money_delta_over_threshold: {
    highRisk: false,
    description:
      "The simulated change in subsidy per hour is above the auto-approval threshold: not auto-approved.",
  },
  simulation_uninformative: {
    highRisk: false,
    description:
      "A campaign the change touches got no subsidy in the simulated sample on either side, so its money was not seen: not auto-approved.",
  },
  simulation_missing: {
    highRisk: false,
    description: "No simulation was run, so the money cannot be judged: not auto-approved.",
  },
} as const satisfies Record<string, { highRisk: boolean; description: string }>;

export type RiskReasonCode = keyof typeof RISK_REASONS;

export interface RiskReason {
  readonly code: RiskReasonCode;
  readonly message: string;
}

export interface RiskAssessment {
  readonly level: "low" | "high";
  readonly reasons: readonly RiskReason[];
  /** Distinct reviewers needed (four eyes; six for high risk). */
  readonly approvalsRequired: 1 | 2;
  /** Whether the auto-approval policy may approve it: low risk and no blocking reason. */
  readonly autoApprovable: boolean;
}

/** What the simulation projected, in minor units per hour of the sample's traffic. */
export interface SimulatedMoney {
  readonly currentSubsidyPerHourMinor: number;
  readonly proposedSubsidyPerHourMinor: number;
  /** Campaigns that granted anything in the sample, on either side; absent when not known. */
  readonly campaignsSubsidised?: readonly string[];
}

/** The documented auto-approval policy (docs/reference/changes.md). */
export interface RiskPolicy {
  /** Growth of simulated subsidy per hour, in bps of the current, that makes a change high-risk. */
  readonly spendGrowthHighRiskBps: number;
  /** Largest simulated change in subsidy per hour, up or down, the policy approves alone. */
  readonly autoApprovalMoneyDeltaPerHourMaxMinor: number;
}

export const DEFAULT_RISK_POLICY: RiskPolicy = {
  spendGrowthHighRiskBps: 2_000,
  autoApprovalMoneyDeltaPerHourMaxMinor: 50_000,
};

export function assessRisk(
  diff: ChangeDiff,
  current: readonly EffectiveCampaign[],
  proposed: readonly EffectiveCampaign[],
  money: SimulatedMoney | undefined,
  policy: RiskPolicy,
): RiskAssessment {
  const reasons: RiskReason[] = [];
  const add = (code: RiskReasonCode, message: string) => {
    if (!reasons.some((reason) => reason.code === code && reason.message === message)) {
      reasons.push({ code, message });
    }
  };
  for (const document of diff.documents) {
    if (document.key.startsWith("envelope/")) add("envelope_changed", `${document.key} changes`);
    if (document.key.startsWith("program/")) add("government_funding", `${document.key} changes`);
    if (document.key.startsWith("template/") && document.operation === "update") {
      const widened = widenedTemplateFields(document.fields);
      if (widened.length > 0)
        add("template_widened", `${document.key} widens ${widened.join(", ")}`);
    }
  }
  assessCampaignEffects(diff, current, add);
  assessOffers(diff, current, proposed, add);
  assessCampaignDocuments(current, proposed, add);
  assessMoney(money, policy, add);
  assessSample(diff, money, add);
  const level = reasons.some((reason) => RISK_REASONS[reason.code].highRisk) ? "high" : "low";
  return {
    level,
    reasons,
    approvalsRequired: level === "high" ? 2 : 1,
    autoApprovable: reasons.length === 0,
  };
}

type AddReason = (code: RiskReasonCode, message: string) => void;

function assessCampaignEffects(
  diff: ChangeDiff,
  current: readonly EffectiveCampaign[],
  add: AddReason,
): void {
  // A campaign that starts is judged against what the platform subsidises today.
  const platformScenarios = new Set(current.flatMap((effective) => effective.scenarios));
  const platformRegions = new Set(current.flatMap((effective) => effective.campaign.scope.regions));
  const platformFunding = new Set(current.map((effective) => effective.funding.source));
  for (const effect of diff.campaigns) {
    if (effect.operation === "stop") continue;
    const subject = `campaign ${effect.campaignId}`;
    // Turning money on needs four eyes (DESIGN §3.8), however little the sample shows it spend.
    if (effect.operation === "start") add("campaign_added", `${subject} starts granting`);
    for (const change of effect.fields) {
      const before = effect.operation === "start" ? undefined : change.before;
      if (change.field === "scenarios") {
        const known = before === undefined ? platformScenarios : new Set(before as string[]);
        const added = (change.after as string[]).filter((scenario) => !known.has(scenario));
        if (added.length > 0) add("new_scenario", `${subject} adds ${added.join(", ")}`);
      }
      if (change.field === "regions") {
        const known = before === undefined ? platformRegions : new Set(before as string[]);
        const added = (change.after as string[]).filter((region) => !known.has(region));
        if (added.length > 0) add("new_region", `${subject} adds ${added.join(", ")}`);
      }
      if (change.field === "funding") {
        const source = (change.after as { source: string }).source;
        const beforeSource = (before as { source: string } | undefined)?.source;
        if (source === "government" || beforeSource === "government") {
          add("government_funding", `${subject} is funded by ${source}`);
        }
        if (before !== undefined || !platformFunding.has(source as never)) {
          add("new_funding", `${subject} is funded by ${source}`);
        }
      }
      if (change.inherited && ["offer", "funding", "label"].includes(change.field)) {
        add("template_fan_out", `${subject}'s ${change.field} changes through its template`);
      }
    }
  }
}

/**
 * Raising a subsidy needs a reviewer (DESIGN §3, principle 8), whatever the simulation shows: a
 * per-payment cap can hold a doubled offer at the old amount on every sampled payment, so the
 * money does not move and only the document says the discount doubled. The cap is then all that
 * stands between the payers and the new offer.
 */
function assessOffers(
  diff: ChangeDiff,
  current: readonly EffectiveCampaign[],
  proposed: readonly EffectiveCampaign[],
  add: AddReason,
): void {
  const capsOf = (campaigns: readonly EffectiveCampaign[]) =>
    new Map(
      campaigns.map((effective) => [
        effective.campaign.id,
        effective.campaign.limits.perPaymentCapMinor,
      ]),
    );
  const capsBefore = capsOf(current);
  const capsAfter = capsOf(proposed);
  for (const effect of diff.campaigns) {
    if (effect.operation !== "change") continue;
    const change = effect.fields.find((field) => field.field === "offer");
    if (change === undefined) continue;
    const before = change.before as Offer;
    const after = change.after as Offer;
    const raise = offerRaise(before, after);
    if (raise === undefined) continue;
    const capBeforeMinor = capsBefore.get(effect.campaignId);
    const capAfterMinor = capsAfter.get(effect.campaignId);
    const held =
      capAfterMinor !== undefined &&
      offerRaise(before, after, { beforeMinor: capBeforeMinor, afterMinor: capAfterMinor }) ===
        undefined;
    add(
      "offer_raised",
      `campaign ${effect.campaignId}'s offer gives up to ${raise.afterMinor} instead of ${raise.beforeMinor} minor units on a payment of ${raise.amountMinor}` +
        (held
          ? `; its per-payment cap of ${capAfterMinor} minor units holds it where it was, so the simulated money does not move`
          : ""),
    );
  }
}

/** Where an offer gives more than before: the payment amount and the most it gives there. */
export interface OfferRaise {
  readonly amountMinor: number;
  readonly beforeMinor: number;
  readonly afterMinor: number;
}

/** Per-payment caps applied on top of the offers, as the evaluator applies the campaign's. */
export interface PerPaymentCapsMinor {
  readonly beforeMinor?: number | undefined;
  readonly afterMinor?: number | undefined;
}

/**
 * The payment on which `after` gives the most more than `before` (its largest or its smallest
 * draw), or undefined when it never gives more. Kinds declare their own subsidy functions (STYLE
 * rule 6), so this compares them rather than their parameters: a higher threshold is a lowering,
 * a new kind may be either. Every kind's subsidy is a non-decreasing function of the amount whose
 * shape changes only at the amounts its lint facts name (amounts off and the payments that get
 * them, caps, where a rate reaches its cap). Probing both sides of each, plus powers of two up to
 * the largest amount, finds every raise but one hidden in a rate's rounding between two probes
 * (a fraction of a minor unit on a few small payments).
 */
export function offerRaise(
  before: Offer,
  after: Offer,
  capsMinor: PerPaymentCapsMinor = {},
): OfferRaise | undefined {
  let largest: { raise: OfferRaise; raisedMinor: number } | undefined;
  for (const amountMinor of probeAmountsMinor([before, after], capsMinor)) {
    const was = drawsMinor(before, amountMinor, capsMinor.beforeMinor);
    const now = drawsMinor(after, amountMinor, capsMinor.afterMinor);
    // The smallest draw counts too: a random offer whose minimum rose gives more on average.
    const raisedMinor = Math.max(now.mostMinor - was.mostMinor, now.leastMinor - was.leastMinor);
    if (raisedMinor <= 0 || (largest !== undefined && raisedMinor <= largest.raisedMinor)) continue;
    const most = now.mostMinor > was.mostMinor;
    largest = {
      raisedMinor,
      raise: {
        amountMinor,
        beforeMinor: most ? was.mostMinor : was.leastMinor,
        afterMinor: most ? now.mostMinor : now.leastMinor,
      },
    };
  }
  return largest?.raise;
}

/** The least and the most an offer gives on a payment, under a per-payment cap if any. */
function drawsMinor(offer: Offer, amountMinor: number, capMinor: number | undefined) {
  const kind = offerKindOf(offer);
  const capped = (value: number) => (capMinor === undefined ? value : Math.min(value, capMinor));
  return {
    leastMinor: capped(kind.subsidyMinor(offer, amountMinor, 0)),
    mostMinor: capped(kind.maxSubsidyMinor(offer, amountMinor)),
  };
}

/** Powers of two from 1 to the largest amount: 50 probes between the named breakpoints. */
const PROBE_LADDER_MINOR: readonly number[] = (() => {
  const ladder: number[] = [];
  for (let amount = 1; amount < AMOUNT_MINOR_MAX; amount *= 2) ladder.push(amount);
  ladder.push(AMOUNT_MINOR_MAX);
  return ladder;
})();

function probeAmountsMinor(offers: readonly Offer[], capsMinor: PerPaymentCapsMinor): number[] {
  const breakpoints: number[] = [];
  for (const offer of offers) {
    const facts = offerKindOf(offer).lintFacts(offer);
    for (const off of facts.amountsOff) breakpoints.push(off.valueMinor, off.fromPaymentMinor);
    if (facts.capMinor !== undefined) {
      breakpoints.push(facts.capMinor);
      if (facts.rateBps !== undefined && facts.rateBps > 0) {
        // Where the rate reaches its cap; floating point is close enough with the ±1 probes.
        breakpoints.push(Math.ceil((facts.capMinor / facts.rateBps) * 10_000));
      }
    }
  }
  for (const capMinor of [capsMinor.beforeMinor, capsMinor.afterMinor]) {
    if (capMinor !== undefined) breakpoints.push(capMinor);
  }
  const probes = new Set(PROBE_LADDER_MINOR);
  for (const breakpoint of breakpoints) {
    for (const amount of [breakpoint - 1, breakpoint, breakpoint + 1]) {
      if (amount >= 1 && amount <= AMOUNT_MINOR_MAX) probes.add(amount);
    }
  }
  return [...probes].sort((a, b) => a - b);
}

/** Scope and limits: compared document to document for campaigns that exist on both sides. */
function assessCampaignDocuments(
  current: readonly EffectiveCampaign[],
  proposed: readonly EffectiveCampaign[],
  add: AddReason,
): void {
  const currentById = new Map(current.map((effective) => [effective.campaign.id, effective]));
  for (const after of proposed) {
    const before = currentById.get(after.campaign.id);
    if (before === undefined) continue;
    const edited = canonicalJson(before.campaign) !== canonicalJson(after.campaign);
    if (edited && after.funding.source === "government") {
      add("government_funding", `government-funded campaign ${after.campaign.id} changes`);
    }
    if (before.campaign.paused === true && after.campaign.paused !== true) {
      add("campaign_resumed", `campaign ${after.campaign.id} is resumed`);
    }
    const widened = widenedScopeFields(before.campaign.scope, after.campaign.scope);
    if (widened.length > 0) {
      add("scope_widened", `campaign ${after.campaign.id} widens ${widened.join(", ")}`);
    }
    if (scheduleWidened(before.campaign.schedule, after.campaign.schedule)) {
      add("schedule_widened", `campaign ${after.campaign.id} runs longer or at more times`);
    }
    const raised = raisedLimits(before.campaign.limits, after.campaign.limits);
    if (raised.length > 0) {
      add("limit_raised", `campaign ${after.campaign.id} raises ${raised.join(", ")}`);
    }
  }
}

function assessMoney(money: SimulatedMoney | undefined, policy: RiskPolicy, add: AddReason): void {
  if (money === undefined) {
    add("simulation_missing", "the change has no simulation");
    return;
  }
  const { currentSubsidyPerHourMinor: before, proposedSubsidyPerHourMinor: after } = money;
  const growthLimit = before + Math.floor((before * policy.spendGrowthHighRiskBps) / 10_000);
  if (after > growthLimit) {
    add("spend_growth", `simulated subsidy per hour grows from ${before} to ${after} minor units`);
  }
  if (Math.abs(after - before) > policy.autoApprovalMoneyDeltaPerHourMaxMinor) {
    add(
      "money_delta_over_threshold",
      `subsidy per hour changes by ${after - before} minor units (policy allows ${policy.autoApprovalMoneyDeltaPerHourMaxMinor})`,
    );
  }
}

/**
 * A sample in which a touched campaign never granted anything says nothing of that campaign's
 * money (a breakfast campaign simulated on afternoon traffic): the policy does not approve on it.
 */
function assessSample(diff: ChangeDiff, money: SimulatedMoney | undefined, add: AddReason): void {
  if (money?.campaignsSubsidised === undefined) return;
  const seen = new Set(money.campaignsSubsidised);
  const unseen = diff.campaigns
    .filter((effect) => effect.operation !== "stop" && !seen.has(effect.campaignId))
    .map((effect) => effect.campaignId);
  if (unseen.length > 0) {
    add(
      "simulation_uninformative",
      `no subsidy from ${unseen.slice(0, 5).join(", ")}${unseen.length > 5 ? ` and ${unseen.length - 5} more` : ""} in the sample`,
    );
  }
}

/** Scope lists that gained values or stopped narrowing, other than scenarios and regions. */
export function widenedScopeFields(before: Scope, after: Scope): string[] {
  const widened: string[] = SCOPE_LIST_FIELDS.filter((field) => {
    if (field === "scenarios" || field === "regions") return false;
    const listBefore = before[field] as readonly string[] | undefined;
    const listAfter = after[field] as readonly string[] | undefined;
    if (listBefore === undefined) return false;
    return listAfter === undefined || listAfter.some((value) => !listBefore.includes(value));
  });
  const rangeBefore = before.amountRange;
  const rangeAfter = after.amountRange;
  const lower = (range: Scope["amountRange"]) => range?.minMinor ?? 0;
  const upper = (range: Scope["amountRange"]) => range?.maxMinor ?? Number.POSITIVE_INFINITY;
  if (lower(rangeAfter) < lower(rangeBefore) || upper(rangeAfter) > upper(rangeBefore)) {
    widened.push("amountRange");
  }
  return widened;
}

/** Limits raised, or removed (no limit is the highest limit). */
export function raisedLimits(before: Campaign["limits"], after: Campaign["limits"]): string[] {
  const pairs: [string, number | undefined, number | undefined][] = [
    ["totalBudgetMinor", before.totalBudgetMinor, after.totalBudgetMinor],
    ["dailyBudgetMinor", before.dailyBudgetMinor, after.dailyBudgetMinor],
    ["perPaymentCapMinor", before.perPaymentCapMinor, after.perPaymentCapMinor],
    ["spendPerMinuteMaxMinor", before.spendPerMinuteMaxMinor, after.spendPerMinuteMaxMinor],
  ];
  for (const field of [
    "countPerDay",
    "amountPerDayMinor",
    "countPerCampaign",
    "amountPerCampaignMinor",
  ] as const) {
    pairs.push([`perUser.${field}`, before.perUser?.[field], after.perUser?.[field]]);
  }
  return pairs
    .filter(([, valueBefore, valueAfter]) => {
      if (valueBefore === undefined) return false;
      return valueAfter === undefined || valueAfter > valueBefore;
    })
    .map(([field]) => field);
}

/**
 * A template's fields that now allow more than before: a band whose minimum fell, maximum rose
 * or that is gone; more allowed scenarios or regions; a longer campaign maximum; a segment
 * restriction lifted or widened. Campaigns stay inside bands, so a wider band is a wider limit.
 */
export function widenedTemplateFields(fields: readonly FieldChange[]): string[] {
  const widened = new Set<string>();
  const grew = (before: unknown, after: unknown) =>
    Array.isArray(before) &&
    (!Array.isArray(after) || after.some((value) => !before.includes(value)));
  for (const { path, before, after } of fields) {
    const [head, , bound] = path.split(".");
    if (head === "bands") {
      const looser =
        after === undefined ||
        (bound === "min" && (after as number) < (before as number)) ||
        (bound === "max" && (after as number) > (before as number)) ||
        (bound === undefined && before !== undefined);
      if (looser) widened.add(path);
    } else if (
      head === "allowedScenarios" ||
      head === "allowedRegions" ||
      head === "restrictedToSegments"
    ) {
      if (grew(before, after)) widened.add(path);
    } else if (head === "campaignDaysMax") {
      if (before !== undefined && (after === undefined || (after as number) > (before as number)))
        widened.add(path);
    }
  }
  return [...widened];
}

/** Whether a schedule now covers instants it did not: earlier start, later end, more hours or days. */
export function scheduleWidened(before: Schedule, after: Schedule): boolean {
  if (before.timeZone !== after.timeZone) return true;
  // Local date-times of one zone, written YYYY-MM-DDTHH:mm[:ss], compare as text.
  if (after.start < before.start || after.end > before.end) return true;
  if (
    before.weekdays !== undefined &&
    (after.weekdays === undefined || after.weekdays.some((day) => !before.weekdays!.includes(day)))
  ) {
    return true;
  }
  if (before.daily !== undefined) {
    if (after.daily === undefined) return true;
    // Each new window must lie inside one old window.
    return after.daily.some(
      (window) => !before.daily!.some((old) => old.from <= window.from && window.to <= old.to),
    );
  }
  return false;
}
