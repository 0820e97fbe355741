/**
 * The quote benchmarks' campaign fixture (bench/campaign-fixture.ts) with the limits a ledger
 * checks: every campaign gets a daily budget and per-user caps, the subsidy program a per-user
 * maximum, and the envelope keeps its per-user daily ceiling. The quote fixture sets only total
 * budgets, which would leave the ledger one debit per subsidy — not what production reserves.
 * Budgets are large so that the benchmark measures reserving, not refusing; the caps still refuse
 * heavy users, as they would in production, and the benchmark counts those refusals.
 */
import { buildSnapshot, type Snapshot } from "../src/core/evaluator/snapshot.ts";
import { resolveConfig, type SourcedDocument } from "../src/core/model/config-set.ts";
import { type ConfigDocument, validateDocument } from "../src/core/model/document.ts";
import { SeededRandom } from "../src/traffic/seeded-random.ts";
import { campaignFixture } from "./campaign-fixture.ts";

/** Ten million yuan per campaign: no campaign runs dry within the benchmark's payments. */
const TOTAL_BUDGET_MINOR = 1_000_000_000;
const DAILY_BUDGET_MINOR = 200_000_000;
const PROGRAM_BUDGET_MINOR = 5_000_000_000;
const PROGRAM_PER_USER_MAX_MINOR = 30_000;

export interface ApplyCampaignFixture {
  readonly snapshot: Snapshot;
  /** Campaigns that cap each user per campaign as well as per day. */
  readonly perCampaignCapped: number;
}

export function applyCampaignFixture(campaignCount: number, seed: number): ApplyCampaignFixture {
  // A stream of its own, so the limits do not shift the quote fixture's scopes.
  const random = new SeededRandom(seed, 11);
  let perCampaignCapped = 0;
  const documents = campaignFixture(campaignCount, seed).documents.map(
    (document): ConfigDocument => {
      if (document.kind === "program")
        return {
          ...document,
          budgetMinor: PROGRAM_BUDGET_MINOR,
          perUserMaxMinor: PROGRAM_PER_USER_MAX_MINOR,
        };
      if (document.kind !== "campaign") return document;
      const perCampaign = random.nextFloat() < 0.5;
      if (perCampaign) perCampaignCapped += 1;
      return {
        ...document,
        limits: {
          ...document.limits,
          totalBudgetMinor: TOTAL_BUDGET_MINOR,
          dailyBudgetMinor: DAILY_BUDGET_MINOR,
          perUser: {
            countPerDay: 3,
            amountPerDayMinor: 10_000,
            ...(perCampaign ? { countPerCampaign: 20 } : {}),
          },
        },
      };
    },
  );
  const sourced: SourcedDocument[] = documents.map((raw, index) => {
    // Validated again: the fixture stays a configuration a user could have written.
    const result = validateDocument(raw);
    if (!result.ok)
      throw new Error(
        `apply fixture document ${index} is invalid: ${JSON.stringify(result.issues)}`,
      );
    return { source: `apply-fixture-${index}`, document: result.document };
  });
  const { config, issues } = resolveConfig(sourced);
  if (issues.length > 0)
    throw new Error(`apply fixture does not resolve: ${JSON.stringify(issues.slice(0, 3))}`);
  const built = buildSnapshot(config, { version: 1, randomSeed: seed });
  if (!built.ok) throw new Error(built.message);
  return { snapshot: built.snapshot, perCampaignCapped };
}
