/**
 * From a quote to a reservation request: which limits each granted subsidy draws on. Pure: the
 * payment's own time decides the local days, so a replay plans exactly what production did.
 *
 * For a subsidy of campaign C on a payment by identity keys K (the user, and the device and card
 * when the payment carries them — one person with several accounts shares a device or a card):
 * 1. `campaign/C` — C's total budget (funded);
 * 2. `campaign-day/C/DATE` — C's daily budget, DATE in C's schedule time zone;
 * 3. `program/P` — the subsidy program's budget (funded), and `identity/K/program/P` for its
 *    per-user maximum;
 * 4. `identity/K/day/C/DATE` and `identity/K/campaign/C` — C's per-identity caps (counts and
 *    amounts per day and per campaign), for each K;
 * 5. `identity/K/platform-day/CURRENCY/DATE` — the envelope's per-user daily ceiling across
 *    campaigns, DATE in the envelope's time zone, for each K.
 * Limits a campaign does not set are not debited. The store checks them in this order.
 * Every per-identity account is named identity first, so that one identity's accounts sit
 * together in a store's index: a payment's limits are then a few neighbouring rows to write
 * rather than a dozen scattered ones (measured on SQLite: half again the throughput).
 */
import type { Decision } from "../evaluator/decision.ts";
import { envelopeBoundsFor, type Snapshot, type SnapshotCampaign } from "../evaluator/snapshot.ts";
import type { Payment } from "../model/payment.ts";
import { localToInstantMs, nextDayAtMidnight, zonedParts } from "../time-zone.ts";
import { REFUND_RESTORES_DEFAULT } from "./refund.ts";
import {
  type Debit,
  IDENTITY_ACCOUNT_PREFIX,
  type PlannedSubsidy,
  type ReservationRequest,
} from "./reservation.ts";

export interface PlanOptions {
  /** How long an unsettled reservation holds its money before it returns to the budgets. */
  readonly reservationTtlMs: number;
  /** The principal the payment is applied for (`ReservationRequest.owner`); absent in process. */
  readonly owner?: string;
}

/** Identity keys of a payment, each as `kind:value`. */
export function identityKeys(payment: Payment): string[] {
  const keys = [`user:${payment.userId}`];
  if (payment.deviceId !== undefined) keys.push(`device:${payment.deviceId}`);
  if (payment.cardFingerprint !== undefined) keys.push(`card:${payment.cardFingerprint}`);
  return keys;
}

/**
 * The canonical content of a payment for idempotency: every field but `atMs`, in a fixed order,
 * optional fields as null and segments sorted, so that equal content gives an equal key.
 */
export function paymentContentKey(payment: Payment): string {
  return JSON.stringify([
    payment.paymentId,
    payment.userId,
    payment.amountMinor,
    payment.currency,
    payment.scenario,
    payment.payeeKind,
    payment.merchantId,
    payment.merchantCategory ?? null,
    payment.region,
    payment.channel,
    payment.paymentMethod,
    payment.deviceId ?? null,
    payment.cardFingerprint ?? null,
    payment.segments === undefined ? null : [...payment.segments].sort(),
  ]);
}

/**
 * The local day last asked for in each zone, as the instants it spans: payments arrive in time
 * order, so nearly every lookup is a hit and skips `Intl` (about 5 µs a call).
 */
const lastDayByZone = new Map<
  string,
  { readonly startMs: number; readonly endMs: number; readonly date: string }
>();

/** `YYYY-MM-DD` of an instant in a time zone. */
export function localDate(atMs: number, timeZone: string): string {
  const cached = lastDayByZone.get(timeZone);
  if (cached !== undefined && atMs >= cached.startMs && atMs < cached.endMs) return cached.date;
  const local = zonedParts(atMs, timeZone);
  const date = `${local.year}-${String(local.month).padStart(2, "0")}-${String(local.day).padStart(2, "0")}`;
  const midnight = { hour: 0, minute: 0, second: 0 };
  const startMs = localToInstantMs(
    { year: local.year, month: local.month, day: local.day, ...midnight },
    timeZone,
  );
  const endMs = localToInstantMs(nextDayAtMidnight(local), timeZone);
  if (startMs <= atMs && atMs < endMs) lastDayByZone.set(timeZone, { startMs, endMs, date });
  return date;
}

/**
 * Names of a campaign's accounts that do not depend on the payer, for the local day last planned:
 * built once per campaign and day rather than once per payment, so that a store hashing account
 * names hashes these once (a string caches its hash). A per-identity account is the identity's
 * prefix (`identity/K/`) followed by one of these.
 */
interface CampaignNames {
  /** `campaign/C`: the budget, and the suffix of `identity/K/campaign/C`. */
  readonly budget: string;
  date: string;
  /** `campaign-day/C/DATE`. */
  day: string;
  /** `day/C/DATE`: the suffix of `identity/K/day/C/DATE`. */
  identityDay: string;
}

const namesByCampaign = new WeakMap<SnapshotCampaign["campaign"], CampaignNames>();

function campaignNames(campaign: SnapshotCampaign["campaign"], date: string): CampaignNames {
  let names = namesByCampaign.get(campaign);
  if (names === undefined) {
    names = { budget: `campaign/${campaign.id}`, date: "", day: "", identityDay: "" };
    namesByCampaign.set(campaign, names);
  }
  if (names.date !== date) {
    names.date = date;
    names.day = `campaign-day/${campaign.id}/${date}`;
    names.identityDay = `day/${campaign.id}/${date}`;
  }
  return names;
}

/** `program/P`, once per program: the budget, and the suffix of `identity/K/program/P`. */
const programNames = new Map<string, string>();

function programName(programId: string): string {
  let name = programNames.get(programId);
  if (name === undefined) {
    name = `program/${programId}`;
    programNames.set(programId, name);
  }
  return name;
}

/** `platform-day/CURRENCY/DATE`, the suffix of the platform ceiling's accounts, for the last day. */
let lastPlatformDay = { currency: "", date: "", suffix: "" };

export function platformDaySuffix(currency: string, date: string): string {
  if (lastPlatformDay.currency !== currency || lastPlatformDay.date !== date) {
    lastPlatformDay = { currency, date, suffix: `platform-day/${currency}/${date}` };
  }
  return lastPlatformDay.suffix;
}

export function planReservation(
  snapshot: Snapshot,
  campaignsById: ReadonlyMap<string, SnapshotCampaign>,
  payment: Payment,
  decision: Decision,
  options: PlanOptions,
): ReservationRequest {
  const prefixes: string[] = [];
  for (const identity of identityKeys(payment)) {
    prefixes.push(`${IDENTITY_ACCOUNT_PREFIX}${identity}/`);
  }
  const ceiling = envelopeBoundsFor(snapshot.envelope, payment.currency)?.perUserDailyMaxMinor;
  const platformDay = platformDaySuffix(
    payment.currency,
    localDate(payment.atMs, snapshot.envelope.timeZone),
  );
  const subsidies: PlannedSubsidy[] = [];
  for (const subsidy of decision.subsidies) {
    const effective = campaignsById.get(subsidy.campaignId);
    if (effective === undefined)
      throw new Error(`decision names campaign ${subsidy.campaignId}, absent from its snapshot`);
    const amountMinor = subsidy.amountMinor;
    const debits: Debit[] = campaignDebits(effective, payment, prefixes, amountMinor);
    const { campaignId, campaignVersion, templateId, funding, programId, label } = subsidy;
    if (programId !== undefined) {
      programDebits(debits, snapshot.programs, programId, prefixes, amountMinor);
    }
    if (ceiling !== undefined) {
      for (const prefix of prefixes) {
        debits.push(
          perIdentity(prefix, platformDay, amountMinor, ceiling, null, "platform_ceiling_reached"),
        );
      }
    }
    const refundRestores = effective.campaign.limits.refundRestores ?? REFUND_RESTORES_DEFAULT;
    // Two literals rather than a spread of the optional field: every planned subsidy then has
    // one of two shapes, which keeps property reads on it fast further down.
    subsidies.push(
      programId === undefined
        ? {
            campaignId,
            campaignVersion,
            amountMinor,
            funding,
            label,
            refundRestores,
            templateId,
            debits,
          }
        : {
            campaignId,
            campaignVersion,
            amountMinor,
            funding,
            programId,
            label,
            refundRestores,
            templateId,
            debits,
          },
    );
  }
  return {
    paymentId: payment.paymentId,
    contentKey: paymentContentKey(payment),
    paymentAmountMinor: payment.amountMinor,
    atMs: payment.atMs,
    expiresAtMs: payment.atMs + options.reservationTtlMs,
    snapshotVersion: snapshot.version,
    userId: payment.userId,
    scenario: payment.scenario,
    region: payment.region,
    // Always the field, undefined in process: one shape of request either way.
    owner: options.owner,
    subsidies,
  };
}

function campaignDebits(
  effective: SnapshotCampaign,
  payment: Payment,
  prefixes: readonly string[],
  amountMinor: number,
): Debit[] {
  const { campaign } = effective;
  const limits = campaign.limits;
  const names = campaignNames(campaign, localDate(payment.atMs, campaign.schedule.timeZone));
  const debits: Debit[] = [
    {
      account: names.budget,
      amountMinor,
      count: 1,
      funded: true,
      capacityMinor: null,
      countCapacity: null,
      refusal: "budget_exhausted",
    },
  ];
  if (limits.dailyBudgetMinor !== undefined) {
    debits.push(
      bounded(names.day, amountMinor, limits.dailyBudgetMinor, null, "daily_budget_exhausted"),
    );
  }
  const perUser = limits.perUser;
  for (const prefix of prefixes) {
    if (perUser?.countPerDay !== undefined || perUser?.amountPerDayMinor !== undefined) {
      debits.push(
        perIdentity(
          prefix,
          names.identityDay,
          amountMinor,
          perUser.amountPerDayMinor ?? null,
          perUser.countPerDay ?? null,
          "identity_cap_reached",
        ),
      );
    }
    if (perUser?.countPerCampaign !== undefined || perUser?.amountPerCampaignMinor !== undefined) {
      debits.push(
        perIdentity(
          prefix,
          names.budget,
          amountMinor,
          perUser.amountPerCampaignMinor ?? null,
          perUser.countPerCampaign ?? null,
          "identity_cap_reached",
        ),
      );
    }
  }
  return debits;
}

/** Appends the program's budget and its per-identity maximum to `debits`. */
export function programDebits(
  debits: Debit[],
  programs: Snapshot["programs"],
  programId: string,
  prefixes: readonly string[],
  amountMinor: number,
): void {
  const name = programName(programId);
  debits.push({
    account: name,
    amountMinor,
    count: 1,
    funded: true,
    capacityMinor: null,
    countCapacity: null,
    refusal: "program_budget_exhausted",
  });
  const perUserMaxMinor = programs.get(programId)?.perUserMaxMinor;
  if (perUserMaxMinor !== undefined) {
    for (const prefix of prefixes) {
      debits.push(
        perIdentity(prefix, name, amountMinor, perUserMaxMinor, null, "identity_cap_reached"),
      );
    }
  }
}

export function bounded(
  account: string,
  amountMinor: number,
  capacityMinor: number | null,
  countCapacity: number | null,
  refusal: Debit["refusal"],
): Debit {
  return { account, amountMinor, count: 1, funded: false, capacityMinor, countCapacity, refusal };
}

/** A per-identity limit: `prefix` (`identity/K/`) followed by `suffix`, with both parts. */
export function perIdentity(
  prefix: string,
  suffix: string,
  amountMinor: number,
  capacityMinor: number | null,
  countCapacity: number | null,
  refusal: Debit["refusal"],
): Debit {
  return {
    account: prefix + suffix,
    amountMinor,
    count: 1,
    funded: false,
    capacityMinor,
    countCapacity,
    refusal,
    identityPrefix: prefix,
    identitySuffix: suffix,
  };
}
