/**
 * Everything the fast evaluator checks and computes per campaign after the index, compiled
 * once per snapshot into flat typed arrays indexed by campaign position: amount ranges,
 * schedule instants, daily windows in minutes, weekday masks, the program check, the offer,
 * the random-draw salt, stacking, and the immutable rejection and subsidy parts a decision
 * reuses.
 *
 * Values are derived with the reference's own helpers (`periodInstants`, `minutesOfDay`,
 * `hashString32`, `offerKindOf`) so that they are equal by construction. A schedule or program
 * period the helpers cannot read is not an error here: the reference throws only when a
 * payment reaches that check, so the table marks it and the evaluator re-runs the helper then.
 */

import type { LabelKind } from "../funding.ts";
import { minutesOfDay } from "../model/fields.ts";
import type { Program } from "../model/program.ts";
import { periodInstants } from "../model/schedule.ts";
import type { OfferKind } from "../offers/offer-kind.ts";
import { offerKindOf } from "../offers/registry.ts";
import { REGIONS } from "../region.ts";
import type { Rejection } from "./decision.ts";
import { CAMPAIGN_CHECK_ORDER, type ReasonCode } from "./reason-codes.ts";
import type { Snapshot, SnapshotCampaign } from "./snapshot.ts";
import { hashString32 } from "./stable-hash.ts";

/** A campaign outcome as a small integer: its position in `CAMPAIGN_CHECK_ORDER`, or one of these. */
export const OUTCOME_APPLIED = CAMPAIGN_CHECK_ORDER.length;
/** Passed every check and has an offer; not yet through stacking and the envelope. */
export const OUTCOME_ELIGIBLE = CAMPAIGN_CHECK_ORDER.length + 1;

export function outcomeCode(reason: ReasonCode): number {
  const code = (CAMPAIGN_CHECK_ORDER as readonly ReasonCode[]).indexOf(reason);
  if (code < 0) throw new Error(`${reason} is not a campaign check`);
  return code;
}

/** The first listed (non-indexed) check: rejections are cached for this code and the ones after. */
export const FIRST_LISTED_OUTCOME = outcomeCode("scope.amount_range");
const LISTED_OUTCOMES = CAMPAIGN_CHECK_ORDER.length - FIRST_LISTED_OUTCOME;

export const BOUNDS_STRIDE = 4;
export const AMOUNT_MIN_MINOR = 0;
export const AMOUNT_MAX_MINOR = 1;
export const START_MS = 2;
export const END_MS = 3;

export const PROGRAM_NOT_NEEDED = 0;
export const PROGRAM_MISSING = 1;
export const PROGRAM_CHECKED = 2;

/** A registered program, compiled for `envelope.program_mismatch`. */
export interface FastProgram {
  readonly program: Program;
  readonly currency: string;
  readonly startMs: number;
  readonly endMs: number;
  /** False when `periodInstants` cannot read the validity; the check then re-runs it to throw. */
  readonly readable: boolean;
  /** By region id: whether the program lists the region. */
  readonly regions: Uint8Array;
  readonly merchantCategories: ReadonlySet<unknown>;
}

export class FastCampaignTable {
  readonly size: number;
  readonly campaigns: readonly SnapshotCampaign[];
  /**
   * The first checks after the index, side by side so that one cache line serves a campaign:
   * `[p * BOUNDS_STRIDE + AMOUNT_MIN_MINOR | AMOUNT_MAX_MINOR | START_MS | END_MS]`. Amount
   * bounds are ±Infinity when the campaign has no range; the period is NaN when unreadable.
   */
  readonly bounds: Float64Array;
  readonly scheduleReadable: Uint8Array;
  /** Zone number for campaigns with daily windows or weekdays, else -1 (no local time needed). */
  readonly zoneIds: Int32Array;
  readonly zones: readonly string[];
  /** Daily windows as [from, to) minute pairs, `dailyCounts[p]` of them from `dailyStarts[p]`; -1: none. */
  readonly dailyStarts: Int32Array;
  readonly dailyCounts: Int32Array;
  readonly dailyMinutes: Float64Array;
  /** Bit w set for each ISO weekday w the campaign runs on; -1 when it has no weekday list. */
  readonly weekdayMasks: Int32Array;
  readonly programModes: Uint8Array;
  readonly programRefs: Int32Array;
  readonly programs: readonly FastProgram[];
  readonly offerKinds: readonly OfferKind<never, unknown>[];
  /**
   * 1 when the offer's `subsidyMinor` declares its third parameter, the random draw; a function
   * that does not declare it cannot read it, so its campaigns skip hashing the payment id.
   */
  readonly drawsRandom: Uint8Array;
  readonly offers: readonly unknown[];
  /** `limits.perPaymentCapMinor`, Infinity when absent (`Math.min(x, Infinity)` is `x`). */
  readonly capMinor: Float64Array;
  /** `hashString32(campaign id, 0)`: the campaign's half of every random draw. */
  readonly salts: Float64Array;
  readonly priorities: Float64Array;
  /** Exclusive group number, or -1. */
  readonly groupIds: Int32Array;
  readonly groupCount: number;
  /** Position of the campaign's id in id order: the tie-breaks compare ids through it. */
  readonly idRanks: Int32Array;
  /**
   * Position of the campaign in the order winners take from the envelope — priority
   * descending, then id — so that ordering winners compares one integer.
   */
  readonly grantRanks: Int32Array;
  /**
   * Rejection objects, shared by every decision: `[code - FIRST_LISTED_OUTCOME][position]`.
   * One array per code keeps the few common codes' arrays hot in cache.
   */
  private readonly rejections: readonly (readonly Rejection[])[];
  readonly subsidyParts: readonly SubsidyParts[];

  constructor(snapshot: Snapshot) {
    const campaigns = snapshot.campaigns;
    const size = campaigns.length;
    this.size = size;
    this.campaigns = campaigns;
    this.bounds = new Float64Array(size * BOUNDS_STRIDE);
    this.scheduleReadable = new Uint8Array(size);
    this.zoneIds = new Int32Array(size);
    this.dailyStarts = new Int32Array(size);
    this.dailyCounts = new Int32Array(size);
    this.weekdayMasks = new Int32Array(size);
    this.programModes = new Uint8Array(size);
    this.programRefs = new Int32Array(size).fill(-1);
    this.capMinor = new Float64Array(size);
    this.salts = new Float64Array(size);
    this.priorities = new Float64Array(size);
    this.groupIds = new Int32Array(size);
    this.drawsRandom = new Uint8Array(size);

    const periods = new PeriodReader();
    const zoneNumbers = new Map<string, number>();
    const groupNumbers = new Map<unknown, number>();
    const programNumbers = new Map<string, number>();
    const programs: FastProgram[] = [];
    const dailyMinutes: number[] = [];
    const offerKinds: OfferKind<never, unknown>[] = [];
    const offers: unknown[] = [];
    const rejections: Rejection[][] = Array.from({ length: LISTED_OUTCOMES }, () => []);
    const subsidyParts: SubsidyParts[] = [];

    campaigns.forEach((effective, position) => {
      const { campaign } = effective;
      const range = campaign.scope.amountRange;
      const base = position * BOUNDS_STRIDE;
      this.bounds[base + AMOUNT_MIN_MINOR] =
        range === undefined ? -Infinity : (range.minMinor ?? 0);
      this.bounds[base + AMOUNT_MAX_MINOR] =
        range === undefined ? Infinity : (range.maxMinor ?? Number.MAX_SAFE_INTEGER);

      const schedule = campaign.schedule;
      const period = periods.read(schedule);
      this.scheduleReadable[position] = period === undefined ? 0 : 1;
      this.bounds[base + START_MS] = period?.startMs ?? Number.NaN;
      this.bounds[base + END_MS] = period?.endMs ?? Number.NaN;
      const needsLocalTime = schedule.daily !== undefined || schedule.weekdays !== undefined;
      this.zoneIds[position] = needsLocalTime ? numberOf(zoneNumbers, schedule.timeZone) : -1;
      this.dailyStarts[position] = dailyMinutes.length / 2;
      this.dailyCounts[position] = schedule.daily?.length ?? -1;
      for (const window of schedule.daily ?? []) {
        dailyMinutes.push(minutesOfDay(window.from), minutesOfDay(window.to));
      }
      let weekdayMask = -1;
      if (schedule.weekdays !== undefined) {
        weekdayMask = 0;
        for (let weekday = 1; weekday <= 7; weekday += 1) {
          if (schedule.weekdays.includes(weekday)) weekdayMask |= 1 << weekday;
        }
      }
      this.weekdayMasks[position] = weekdayMask;

      const needsProgram =
        effective.funding.source === "government" || effective.label === "government_subsidy";
      const programId = effective.funding.programId;
      const program = programId === undefined ? undefined : snapshot.programs.get(programId);
      if (!needsProgram) this.programModes[position] = PROGRAM_NOT_NEEDED;
      else if (program === undefined) this.programModes[position] = PROGRAM_MISSING;
      else {
        this.programModes[position] = PROGRAM_CHECKED;
        let number = programNumbers.get(programId!);
        if (number === undefined) {
          number = programs.length;
          programNumbers.set(programId!, number);
          programs.push(compileProgram(program, periods));
        }
        this.programRefs[position] = number;
      }

      const offerKind = offerKindOf(effective.offer) as unknown as OfferKind<never, unknown>;
      offerKinds.push(offerKind);
      // An unknown kind stays as undefined: the evaluator then throws where the reference does.
      this.drawsRandom[position] = offerKind === undefined || offerKind.drawsRandom ? 1 : 0;
      offers.push(effective.offer);
      this.capMinor[position] = campaign.limits.perPaymentCapMinor ?? Infinity;
      this.salts[position] = hashString32(campaign.id, 0);
      this.priorities[position] = campaign.stacking.priority;
      const group = campaign.stacking.exclusiveGroup;
      this.groupIds[position] = group === undefined ? -1 : numberOf(groupNumbers, group);

      for (let code = FIRST_LISTED_OUTCOME; code < CAMPAIGN_CHECK_ORDER.length; code += 1) {
        rejections[code - FIRST_LISTED_OUTCOME]!.push(
          Object.freeze({ campaignId: campaign.id, reason: CAMPAIGN_CHECK_ORDER[code]! }),
        );
      }
      subsidyParts.push({
        campaignId: campaign.id,
        campaignVersion: effective.version,
        templateId: effective.template.id,
        funding: effective.funding.source,
        programId: effective.funding.programId,
        label: effective.label,
      });
    });

    this.zones = [...zoneNumbers.keys()];
    this.dailyMinutes = Float64Array.from(dailyMinutes);
    this.programs = programs;
    this.offerKinds = offerKinds;
    this.offers = offers;
    this.groupCount = groupNumbers.size;
    this.rejections = rejections;
    this.subsidyParts = subsidyParts;
    this.idRanks = idRanksOf(campaigns);
    this.grantRanks = grantRanksOf(this.priorities, this.idRanks);
  }

  /**
   * The rejections of candidates `0..` (positions in `candidates`, codes in `outcomes`) that
   * were not applied, in candidate order: `count` of them. Sized once, as growing by push would
   * reallocate the backing store as it fills.
   */
  rejectedList(candidates: Int32Array, outcomes: Uint8Array, count: number): Rejection[] {
    const rejections = this.rejections;
    const rejected = new Array<Rejection>(count);
    for (let k = 0, listed = 0; listed < count; k += 1) {
      const outcome = outcomes[k]!;
      if (outcome === OUTCOME_APPLIED) continue;
      rejected[listed] = rejections[outcome - FIRST_LISTED_OUTCOME]![candidates[k]!]!;
      listed += 1;
    }
    return rejected;
  }
}

/** The fixed parts of a campaign's subsidy; the amounts come per payment. */
export interface SubsidyParts {
  readonly campaignId: string;
  readonly campaignVersion: number;
  readonly templateId: string;
  readonly funding: SnapshotCampaign["funding"]["source"];
  readonly programId: string | undefined;
  readonly label: LabelKind;
}

function numberOf<K>(numbers: Map<K, number>, key: K): number {
  let number = numbers.get(key);
  if (number === undefined) {
    number = numbers.size;
    numbers.set(key, number);
  }
  return number;
}

type Period = Parameters<typeof periodInstants>[0];

/**
 * `periodInstants`, remembered by zone, start and end: campaigns share few distinct periods,
 * and each reading costs several `Intl` calls. Undefined when the helper cannot read it.
 */
class PeriodReader {
  private readonly known = new Map<string, { startMs: number; endMs: number } | undefined>();

  read(period: Period): { startMs: number; endMs: number } | undefined {
    const key = `${period.timeZone}\u0000${period.start}\u0000${period.end}`;
    if (this.known.has(key)) return this.known.get(key);
    let instants: { startMs: number; endMs: number } | undefined;
    try {
      instants = periodInstants(period);
    } catch {
      instants = undefined;
    }
    this.known.set(key, instants);
    return instants;
  }
}

function compileProgram(program: Program, periods: PeriodReader): FastProgram {
  const period = periods.read(program.validity);
  return {
    program,
    currency: program.currency,
    startMs: period?.startMs ?? Number.NaN,
    endMs: period?.endMs ?? Number.NaN,
    readable: period !== undefined,
    regions: Uint8Array.from(REGIONS, (region) => (program.regions.includes(region) ? 1 : 0)),
    merchantCategories: new Set<unknown>(program.merchantCategories),
  };
}

/** Rank of each campaign in priority-descending, then id order (a total order on unique ids). */
function grantRanksOf(priorities: Float64Array, idRanks: Int32Array): Int32Array {
  const order = Array.from(priorities, (_, position) => position);
  order.sort(
    (left, right) => priorities[right]! - priorities[left]! || idRanks[left]! - idRanks[right]!,
  );
  const ranks = new Int32Array(order.length);
  order.forEach((position, rank) => {
    ranks[position] = rank;
  });
  return ranks;
}

/** Rank of each campaign's id among all ids, compared with `<` as the reference does. */
function idRanksOf(campaigns: readonly SnapshotCampaign[]): Int32Array {
  const order = campaigns.map((_, position) => position);
  order.sort((left, right) => {
    const leftId = campaigns[left]!.campaign.id;
    const rightId = campaigns[right]!.campaign.id;
    return leftId < rightId ? -1 : leftId > rightId ? 1 : 0;
  });
  const ranks = new Int32Array(campaigns.length);
  order.forEach((position, rank) => {
    ranks[position] = rank;
  });
  return ranks;
}
