/**
 * The crash test's workload: which budgets exist, what each payment id asks for, and the capacity
 * of every account it can touch. A payment's content is a pure function of its id (and of which
 * of two contents was sent), so the verifier can rebuild any acknowledged request exactly and ask
 * the store to replay it, and knows every limit without trusting the store's own records.
 *
 * The budgets and caps are small on purpose: payments compete for them, so the store spends most
 * of its time at the edge where an overspend or a double count would show.
 */
import type {
  Debit,
  PlannedSubsidy,
  ReservationRequest,
} from "../../src/core/ledger/reservation.ts";
import { SeededRandom } from "../../src/traffic/seeded-random.ts";
import { boundedDebit, subsidy } from "../support/ledger-requests.ts";

export interface CrashCampaign {
  /** The campaign of day N is `ID-dN`. */
  readonly id: string;
  readonly budgetMinor: number;
  /** A bounded per-"day" budget (`campaign-day/ID/DAY`), or null for none. */
  readonly dayBudgetMinor: number | null;
}

/**
 * The tiny one is exhausted by outstanding reservations alone, all the time; the others run out
 * as reservations pile up between releases and expiries. The wide one's bounded daily budget is
 * below its funding, so that limit is reached first.
 */
export const CRASH_CAMPAIGNS: readonly CrashCampaign[] = [
  { id: "crash-wide", budgetMinor: 80_000, dayBudgetMinor: 40_000 },
  { id: "crash-narrow", budgetMinor: 30_000, dayBudgetMinor: null },
  { id: "crash-tiny", budgetMinor: 2_000, dayBudgetMinor: null },
];

export const CRASH_IDENTITY_DAY_COUNT_MAX = 3;
export const CRASH_IDENTITY_DAY_AMOUNT_MAX_MINOR = 250;
export const CRASH_PLATFORM_DAY_AMOUNT_MAX_MINOR = 400;

/**
 * Generator runs per simulated day. Committed money and uses stay counted forever, so every day
 * has its own campaigns (funded by the crash loop as the day begins) and its own caps: a long
 * on-demand run keeps finding fresh budgets to exhaust instead of being refused everywhere after
 * its first minutes. Retries still reach back into earlier days.
 */
export const CRASH_RUNS_PER_DAY = 25;

export function crashDayOfRun(run: number): number {
  return Math.floor(run / CRASH_RUNS_PER_DAY);
}

export function crashCampaignId(campaign: CrashCampaign, day: number): string {
  return `${campaign.id}-d${day}`;
}

const USERS = 300;
const HOT_USERS = 6;
/** Share of payments from the few hot users, who hit their count caps while others are in flight. */
const HOT_SHARE = 0.3;
const SUBSIDY_MINOR_MIN = 10;
const SUBSIDY_MINOR_MAX = 120;
const TTL_MS_MIN = 200;
const TTL_MS_MAX = 2_000;

/** The two contents one payment id can be sent with; the second exists to provoke conflicts. */
export type CrashVariant = "n" | "x";

/** `r<run>-<sequence>`: the run that first issued the id and its number within that run. */
export function crashPaymentId(run: number, sequence: number): string {
  return `r${run}-${sequence}`;
}

const PAYMENT_ID = /^r(\d+)-\d+$/;

export function isCrashPaymentId(paymentId: string): boolean {
  return PAYMENT_ID.test(paymentId);
}

function runOf(paymentId: string): number {
  const match = PAYMENT_ID.exec(paymentId);
  if (match === null) throw new Error(`not a crash-test payment id: ${paymentId}`);
  return Number(match[1]);
}

/** FNV-1a: a stable 32-bit seed from the id, so content never depends on call order. */
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function between(random: SeededRandom, min: number, max: number): number {
  return min + Math.floor(random.nextFloat() * (max - min + 1));
}

/** The request for a payment id, sent at `atMs`; equal ids and variants give equal content. */
export function crashRequest(
  paymentId: string,
  variant: CrashVariant,
  atMs: number,
): ReservationRequest {
  const random = new SeededRandom(hash32(`${variant}:${paymentId}`));
  const day = crashDayOfRun(runOf(paymentId));
  const user =
    random.nextFloat() < HOT_SHARE
      ? `user:hot${between(random, 0, HOT_USERS - 1)}`
      : `user:u${between(random, 0, USERS - 1)}`;
  const first = between(random, 0, CRASH_CAMPAIGNS.length - 1);
  const campaigns = [CRASH_CAMPAIGNS[first]!];
  if (random.nextFloat() < 0.3) {
    campaigns.push(CRASH_CAMPAIGNS[(first + 1) % CRASH_CAMPAIGNS.length]!);
  }
  const subsidies = campaigns.map((campaign) =>
    crashSubsidy(campaign, between(random, SUBSIDY_MINOR_MIN, SUBSIDY_MINOR_MAX), user, day),
  );
  return {
    paymentId,
    contentKey: `crash-${variant}:${paymentId}`,
    paymentAmountMinor: 10_000,
    atMs,
    expiresAtMs: atMs + between(random, TTL_MS_MIN, TTL_MS_MAX),
    snapshotVersion: 1,
    subsidies,
  };
}

function crashSubsidy(
  campaign: CrashCampaign,
  amountMinor: number,
  user: string,
  day: number,
): PlannedSubsidy {
  const campaignId = crashCampaignId(campaign, day);
  // Beside the campaign's budget, which `subsidy` draws on first.
  const debits: Debit[] = [];
  if (campaign.dayBudgetMinor !== null) {
    debits.push(
      boundedDebit(
        `campaign-day/${campaignId}/d${day}`,
        amountMinor,
        campaign.dayBudgetMinor,
        null,
        "daily_budget_exhausted",
      ),
    );
  }
  debits.push(
    boundedDebit(
      `identity-day/${campaignId}/${user}/d${day}`,
      amountMinor,
      CRASH_IDENTITY_DAY_AMOUNT_MAX_MINOR,
      CRASH_IDENTITY_DAY_COUNT_MAX,
      "identity_cap_reached",
    ),
    boundedDebit(
      `platform-day/CNY/${user}/d${day}`,
      amountMinor,
      CRASH_PLATFORM_DAY_AMOUNT_MAX_MINOR,
      null,
      "platform_ceiling_reached",
    ),
  );
  return subsidy(campaignId, amountMinor, debits);
}

export interface AccountCapacity {
  /** For a funded account, what the test funded into it. */
  readonly fundedMinor: number | null;
  readonly capacityMinor: number | null;
  readonly countCapacity: number | null;
}

/** Every account the workload can touch, by its name; undefined for a name it never uses. */
export function crashAccountCapacity(account: string): AccountCapacity | undefined {
  const [kind, campaignId] = account.split("/");
  const campaign = CRASH_CAMPAIGNS.find((each) =>
    new RegExp(`^${each.id}-d\\d+$`).test(campaignId ?? ""),
  );
  switch (kind) {
    case "campaign":
      return campaign === undefined || account.split("/").length !== 2
        ? undefined
        : { fundedMinor: campaign.budgetMinor, capacityMinor: null, countCapacity: null };
    case "campaign-day":
      return campaign?.dayBudgetMinor == null
        ? undefined
        : { fundedMinor: null, capacityMinor: campaign.dayBudgetMinor, countCapacity: null };
    case "identity-day":
      return campaign === undefined
        ? undefined
        : {
            fundedMinor: null,
            capacityMinor: CRASH_IDENTITY_DAY_AMOUNT_MAX_MINOR,
            countCapacity: CRASH_IDENTITY_DAY_COUNT_MAX,
          };
    case "platform-day":
      return {
        fundedMinor: null,
        capacityMinor: CRASH_PLATFORM_DAY_AMOUNT_MAX_MINOR,
        countCapacity: null,
      };
    default:
      return undefined;
  }
}
