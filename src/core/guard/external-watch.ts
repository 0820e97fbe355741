/**
 * How the runtime guard watches an external engine's campaigns (guard mode,
 * docs/reference/guard-mode.md). Each is a campaign version `ext:<campaignRef>@1` under the one
 * template `ext:*`:
 * - a **registered** campaign with its declared scope (scenarios, regions; payees merchants only,
 *   as for a native campaign) and its declared spend ceiling per minute, and — once it has one —
 *   its own baseline over the last ten minutes (mean subsidy per subsidised payment, share of
 *   all payments subsidised), judged as a native version forced past approval is judged against
 *   its previous version's: an external engine's edits pass no approval here, so every edit is a
 *   forced one;
 * - an **unregistered** campaign with nothing declared: its scope is every scenario and region
 *   (the check already refuses protected scenarios and individual payees), and no ceiling; once
 *   it has one, its own baseline mean, judged as a registered one's. It is watched from its first
 *   grant so that a trip of the `ext:*` template, a funder or the platform can name it.
 */

import { REGIONS } from "../region.ts";
import { SCENARIOS } from "../scenario.ts";
import type { WatchedCampaign } from "./guard-monitors.ts";
import {
  EXTERNAL_CAMPAIGN_PREFIX,
  EXTERNAL_CAMPAIGN_VERSION,
  EXTERNAL_TEMPLATE_ID,
  type ExternalCampaign,
} from "./proposal-input.ts";

/** True for the ids guard mode gives external campaigns (`ext:<campaignRef>`); never a native id. */
export function isExternalCampaignId(campaignId: string): boolean {
  return campaignId.startsWith(EXTERNAL_CAMPAIGN_PREFIX);
}

/**
 * What an external campaign did over the baseline window, when it has a baseline: its mean
 * subsidy per subsidised payment and the share of all payments it subsidised. It stands where a
 * forced native version's previous version stands.
 */
export type ExternalBaseline = NonNullable<WatchedCampaign["previous"]>;

/** A registered external campaign as a watched version, with its baseline when it has one. */
export function watchedExternalCampaign(
  campaign: ExternalCampaign,
  baseline: ExternalBaseline | undefined,
): WatchedCampaign {
  const ceiling = campaign.spendPerMinuteMaxMinor;
  return {
    campaignId: EXTERNAL_CAMPAIGN_PREFIX + campaign.campaignRef,
    campaignVersion: EXTERNAL_CAMPAIGN_VERSION,
    templateId: EXTERNAL_TEMPLATE_ID,
    scope: { scenarios: campaign.scope.scenarios, regions: campaign.scope.regions },
    ...(ceiling === undefined ? {} : { ceilingPerMinuteMinor: ceiling }),
    ...(baseline === undefined ? {} : { previous: baseline }),
  };
}

/**
 * An unregistered external campaign as a watched version: declared nothing, so limited only by
 * its own baseline once it has one.
 */
export function watchedUnregisteredExternal(
  campaignId: string,
  baseline: ExternalBaseline | undefined,
): WatchedCampaign {
  return {
    campaignId,
    campaignVersion: EXTERNAL_CAMPAIGN_VERSION,
    templateId: EXTERNAL_TEMPLATE_ID,
    scope: { scenarios: SCENARIOS, regions: REGIONS },
    ...(baseline === undefined ? {} : { previous: baseline }),
  };
}
