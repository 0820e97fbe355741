/**
 * A template edit is an edit of every campaign that inherits from it (DESIGN §1, the
 * 2025-01-16 incident: fixed 0.50 yuan became 20 %, platform funding became government).
 * Runs only when the configuration active now is given; each finding names the campaigns.
 */
import { canonicalJson } from "../../change/canonical-json.ts";
import type { ConfigSet, EffectiveCampaign } from "../../model/config-set.ts";
import type { Template } from "../../model/template.ts";
import { type LintInput, type LintRule, listIds } from "../lint-rule.ts";

function sameJson(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

function isActive(effective: EffectiveCampaign, input: LintInput): boolean {
  const atMs = input.context.atMs;
  if (atMs === undefined) return true;
  return input.instantsOf(effective.campaign.schedule).endMs > atMs;
}

/** Campaigns using the template now, active (running or still to run) at the lint instant. */
function activeUsers(
  previous: ConfigSet,
  templateId: string,
  input: LintInput,
): EffectiveCampaign[] {
  return previous.campaigns.filter(
    (effective) => effective.template.id === templateId && isActive(effective, input),
  );
}

export const templateEditRule: LintRule = {
  name: "template edits",
  codes: [
    "lint.template_edit_changes_offer_kind",
    "lint.template_edit_changes_amount",
    "lint.template_edit_changes_funding",
  ],
  check: (input, report) => {
    const previous = input.context.previous;
    if (previous === undefined) return;
    const proposedById = new Map(
      input.proposed.campaigns.map((effective) => [effective.campaign.id, effective]),
    );
    for (const template of input.proposed.templates.values()) {
      const before = previous.templates.get(template.id);
      if (before === undefined || sameJson(before, template)) continue;
      const kindChanged: string[] = [];
      const amountChanged: string[] = [];
      const fundingChanged: string[] = [];
      for (const was of activeUsers(previous, template.id, input)) {
        const now = proposedById.get(was.campaign.id);
        const id = was.campaign.id;
        if (now === undefined) {
          // The campaign is not among the linted documents (a change of the template alone), or
          // no longer resolves against it: what it would inherit is judged from its document.
          const { kind, ...defaults } = template.offer;
          const offer = { kind, ...defaults, ...(was.campaign.offer ?? {}) };
          if (was.offer.kind !== kind) kindChanged.push(id);
          // Canonical: the constructed offer's keys need not come in the resolved offer's order.
          else if (canonicalJson(offer) !== canonicalJson(was.offer)) amountChanged.push(id);
          const funding = was.campaign.funding ?? template.funding;
          if (!sameJson(funding, was.funding) || template.label !== was.label)
            fundingChanged.push(id);
          continue;
        }
        if (now.template.id !== template.id) continue;
        if (now.offer.kind !== was.offer.kind) kindChanged.push(id);
        else if (!sameJson(now.offer, was.offer)) amountChanged.push(id);
        if (!sameJson(now.funding, was.funding) || now.label !== was.label) fundingChanged.push(id);
      }
      const target = { kind: "template" as const, id: template.id };
      if (kindChanged.length > 0) {
        report({
          code: "lint.template_edit_changes_offer_kind",
          target,
          path: ["offer", "kind"],
          message: `changes the offer from ${before.offer.kind} to ${template.offer.kind} for ${kindChanged.length} active campaigns: ${listIds(kindChanged)}`,
          campaignIds: kindChanged,
        });
      }
      if (amountChanged.length > 0) {
        report({
          code: "lint.template_edit_changes_amount",
          target,
          path: ["offer"],
          message: `changes the offer amounts (${describeOffer(before)} → ${describeOffer(template)}) for ${amountChanged.length} active campaigns: ${listIds(amountChanged)}`,
          campaignIds: amountChanged,
        });
      }
      if (fundingChanged.length > 0) {
        report({
          code: "lint.template_edit_changes_funding",
          target,
          path: ["funding"],
          message: `changes funding from ${before.funding.source} (${before.label}) to ${template.funding.source} (${template.label}) for ${fundingChanged.length} active campaigns: ${listIds(fundingChanged)}`,
          campaignIds: fundingChanged,
        });
      }
    }
  },
};

function describeOffer(template: Template): string {
  const { kind, ...params } = template.offer;
  return `${kind} ${JSON.stringify(params)}`;
}
