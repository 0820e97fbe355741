/**
 * A snapshot: the immutable set of active campaigns, the envelope and the programs an evaluator
 * reads, with a version number. Evaluators swap whole snapshots, never edit one.
 */

import type { ConfigSet, EffectiveCampaign } from "../model/config-set.ts";
import type { Envelope, EnvelopeCurrency } from "../model/envelope.ts";
import type { ExternalCampaignDocument } from "../model/external-campaign.ts";
import type { Program } from "../model/program.ts";
import { offerKindOf, offerSchema } from "../offers/registry.ts";

/** Limits checked when a snapshot is built (STYLE: limits on everything). */
export const SNAPSHOT_LIMITS = {
  campaignsMax: 100_000,
} as const;

export interface SnapshotCampaign extends EffectiveCampaign {
  /**
   * The effective campaign's version: what the ledger and the guard name a grant by. Files carry
   * none, so a snapshot built from files numbers every campaign 1; the change pipeline passes
   * `effectiveCampaignVersion` of the stored versions.
   */
  readonly version: number;
}

export interface Snapshot {
  readonly version: number;
  /** Seeds the draws of `random` offers, so a snapshot's decisions are reproducible. */
  readonly randomSeed: number;
  /** Sorted by campaign id: the order rejections and explanations are listed in. */
  readonly campaigns: readonly SnapshotCampaign[];
  readonly envelope: Envelope;
  readonly programs: ReadonlyMap<string, Program>;
  /**
   * External campaigns registered with guard mode, by `campaignRef`: served with the
   * configuration so a registration takes effect, and is rolled back, as a campaign does. The
   * evaluator never reads them. Absent: none registered.
   */
  readonly externalCampaigns?: ReadonlyMap<string, ExternalCampaignDocument>;
}

export type SnapshotResult =
  | { readonly ok: true; readonly snapshot: Snapshot }
  | {
      readonly ok: false;
      readonly code:
        | "snapshot.envelope_missing"
        | "snapshot.too_many_campaigns"
        | "snapshot.invalid_offer";
      readonly message: string;
    };

export interface SnapshotOptions {
  readonly version: number;
  readonly randomSeed: number;
  /** Each campaign's effective version by campaign id; a campaign not listed is version 1. */
  readonly campaignVersions?: ReadonlyMap<string, number>;
}

export function buildSnapshot(config: ConfigSet, options: SnapshotOptions): SnapshotResult {
  if (config.envelope === undefined) {
    // There is no switch that turns the envelope off: without one, nothing may be evaluated.
    return {
      ok: false,
      code: "snapshot.envelope_missing",
      message: "a snapshot needs the envelope; none was given",
    };
  }
  if (config.campaigns.length > SNAPSHOT_LIMITS.campaignsMax) {
    return {
      ok: false,
      code: "snapshot.too_many_campaigns",
      message: `${config.campaigns.length} campaigns exceed the snapshot limit of ${SNAPSHOT_LIMITS.campaignsMax}`,
    };
  }
  // A paused campaign is not in force: no evaluator considers it, and the ledger funds nothing
  // for it (nor does its offer, checked below, stop a snapshot being built).
  const running = config.campaigns.filter((effective) => effective.campaign.paused !== true);
  // The hot path trusts offers to compute without throwing; a snapshot is where that is checked,
  // whatever produced the configuration.
  for (const effective of running) {
    const parsed = offerSchema.safeParse(effective.offer);
    const problems = parsed.success ? offerKindOf(parsed.data).check(parsed.data) : [];
    if (!parsed.success || problems.length > 0) {
      return {
        ok: false,
        code: "snapshot.invalid_offer",
        message: `campaign ${effective.campaign.id} has an invalid ${String(effective.offer.kind)} offer`,
      };
    }
  }
  const campaigns = running
    .map((campaign) => ({
      ...campaign,
      version: options.campaignVersions?.get(campaign.campaign.id) ?? 1,
    }))
    .sort((left, right) =>
      left.campaign.id < right.campaign.id ? -1 : left.campaign.id > right.campaign.id ? 1 : 0,
    );
  return {
    ok: true,
    snapshot: {
      version: options.version,
      randomSeed: options.randomSeed >>> 0,
      campaigns,
      envelope: config.envelope,
      programs: config.programs,
      ...(config.externalCampaigns === undefined || config.externalCampaigns.size === 0
        ? {}
        : { externalCampaigns: config.externalCampaigns }),
    },
  };
}

export function envelopeBoundsFor(
  envelope: Envelope,
  currency: string,
): EnvelopeCurrency | undefined {
  return envelope.currencies.find((bounds) => bounds.currency === currency);
}
