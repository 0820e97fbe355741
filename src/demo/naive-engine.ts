/**
 * The unguarded engine of the replay — it exists only here, for the "without Bursar" columns;
 * production code has no switch that turns the envelope off. It models the incident platform's
 * promotion engine as its owner described it: a campaign takes its template's scope (every
 * scenario the template allows, in the campaign's regions), the offer is computed as configured,
 * and nothing else bounds it — no protected scenarios, no payee check, no envelope, no budgets,
 * no per-user caps. One subsidy per payment: the matching campaign of highest priority.
 *
 * Guard mode's replay (guard-mode-replay.ts) puts Bursar in front of this same engine: what it
 * grants becomes a proposal, with the template's funding and label as the engine shows them.
 */
import type { Campaign } from "../core/model/campaign.ts";
import type { ConfigDocument } from "../core/model/document.ts";
import type { Payment } from "../core/model/payment.ts";
import type { Template } from "../core/model/template.ts";
import { applyRateBpsFloor } from "../core/money.ts";
import { REGIONS } from "../core/region.ts";

export interface NaiveGrant {
  readonly campaignId: string;
  readonly amountMinor: number;
}

interface NaiveCampaign {
  readonly id: string;
  readonly priority: number;
  readonly regions: ReadonlySet<string>;
}

export class NaiveEngine {
  private readonly campaigns: readonly NaiveCampaign[];
  private readonly scenarios: ReadonlySet<string>;
  private readonly offer: Template["offer"];
  /** Who pays for what it grants, and how it is labelled: the template's. */
  readonly funding: Template["funding"];
  readonly label: Template["label"];

  /** The campaigns of `templateId` in `documents`, as the naive engine reads them. */
  constructor(documents: readonly ConfigDocument[], templateId: string) {
    const template = documents.find(
      (document): document is Template =>
        document.kind === "template" && document.id === templateId,
    );
    if (template === undefined) throw new Error(`no template ${templateId}`);
    this.offer = template.offer;
    this.funding = template.funding;
    this.label = template.label;
    this.scenarios = new Set(template.allowedScenarios);
    this.campaigns = documents
      .filter(
        (document): document is Campaign =>
          document.kind === "campaign" && document.template === templateId,
      )
      .map((campaign) => ({
        id: campaign.id,
        priority: campaign.stacking.priority,
        regions: new Set(campaign.scope.regions),
      }))
      .sort((left, right) => right.priority - left.priority || (left.id < right.id ? -1 : 1));
  }

  /**
   * The campaigns it can grant for: in each region, the first of highest priority (a campaign
   * outranked in every one of its regions never grants).
   */
  reachableCampaignIds(): string[] {
    const reachable = new Set<string>();
    for (const region of REGIONS) {
      const campaign = this.campaigns.find((candidate) => candidate.regions.has(region));
      if (campaign !== undefined) reachable.add(campaign.id);
    }
    return [...reachable].sort();
  }

  grant(payment: Payment): NaiveGrant | undefined {
    if (!this.scenarios.has(payment.scenario)) return undefined;
    const campaign = this.campaigns.find((candidate) => candidate.regions.has(payment.region));
    if (campaign === undefined) return undefined;
    const amountMinor = this.amountOf(payment.amountMinor);
    return amountMinor > 0 ? { campaignId: campaign.id, amountMinor } : undefined;
  }

  private amountOf(paymentMinor: number): number {
    const offer = this.offer;
    // Only what the replay's template can be: a fixed amount or a capped percentage.
    if (offer.kind === "fixed") return Math.min(offer.amountMinor, paymentMinor);
    if (offer.kind === "percent") {
      return Math.min(applyRateBpsFloor(paymentMinor, offer.rateBps), offer.capMinor, paymentMinor);
    }
    throw new Error(`the naive engine does not compute ${offer.kind} offers`);
  }
}
