/**
 * The users and merchants synthetic payments come from and go to. Built once per generator from
 * the seed's own stream, so a user's home region, segments, devices and cards and a merchant's
 * region and category are stable for the whole run — and the same for every window length.
 * Attributes live in typed arrays (a few bytes per user) so a million users cost megabytes,
 * not a million objects.
 */
import { SEGMENTS, type Segment } from "../core/model/payment.ts";
import { allocateProportionally } from "../core/money.ts";
import { REGIONS, type Region } from "../core/region.ts";
import { AliasTable } from "./alias-table.ts";
import { SeededRandom } from "./seeded-random.ts";
import { POPULATION_MODEL, REGION_WEIGHTS_BPS, SCENARIO_PROFILES } from "./traffic-model.ts";

const BPS_PER_UNIT = 10_000;
/** The population has its own stream, apart from the payments' stream. */
const POPULATION_STREAM = 1;

/** Regions synthetic traffic uses, in REGIONS order: those with a weight. */
export const TRAFFIC_REGIONS: readonly Region[] = REGIONS.filter(
  (region) => (REGION_WEIGHTS_BPS[region] ?? 0) > 0,
);

/**
 * Every subset of SEGMENTS, indexed by bit mask (bit i = SEGMENTS[i]), frozen and shared by all
 * payments: a payment's `segments` costs no allocation. Mask 0 is undefined: the field is left out.
 */
export const SEGMENT_SETS: readonly (readonly Segment[] | undefined)[] = Array.from(
  { length: 1 << SEGMENTS.length },
  (_, mask) =>
    mask === 0
      ? undefined
      : Object.freeze(SEGMENTS.filter((_segment, bit) => (mask & (1 << bit)) !== 0)),
);

export interface PopulationOptions {
  readonly seed: number;
  readonly users: number;
  readonly merchants: number;
}

export class TrafficPopulation {
  readonly users: number;
  readonly merchants: number;
  /** Draws a region index (into TRAFFIC_REGIONS) by REGION_WEIGHTS_BPS. */
  readonly regionTable: AliasTable;
  /** Per user: home region index, segment mask, device count (1–3), card count (0–4). */
  readonly homeRegion: Uint8Array;
  readonly segmentMask: Uint8Array;
  readonly deviceCount: Uint8Array;
  readonly cardCount: Uint8Array;
  /**
   * Merchants are numbered group by group, a group being one (scenario, region) pair: group g
   * holds merchants groupStart[g] … groupStart[g + 1] - 1, g = scenarioIndex · regions + regionIndex.
   * Every scenario that has merchants has at least one in every region.
   */
  readonly groupStart: Int32Array;
  /** Per merchant: index into `categoryCodes`. */
  readonly merchantCategory: Uint8Array;
  readonly categoryCodes: readonly string[];

  constructor(options: PopulationOptions) {
    const { seed, users, merchants } = options;
    const random = new SeededRandom(seed, POPULATION_STREAM);
    const regionCount = TRAFFIC_REGIONS.length;
    this.users = users;
    this.merchants = merchants;
    this.regionTable = new AliasTable(TRAFFIC_REGIONS.map((region) => REGION_WEIGHTS_BPS[region]!));

    this.homeRegion = new Uint8Array(users);
    this.segmentMask = new Uint8Array(users);
    this.deviceCount = new Uint8Array(users);
    this.cardCount = new Uint8Array(users);
    const devicesTable = new AliasTable(POPULATION_MODEL.devicesPercent);
    const cardsTable = new AliasTable(POPULATION_MODEL.cardsPercent);
    const { new_user, student, senior, vip } = POPULATION_MODEL.segmentBps;
    const bit = (segment: Segment): number => 1 << SEGMENTS.indexOf(segment);
    for (let user = 0; user < users; user += 1) {
      this.homeRegion[user] = this.regionTable.sample(random.nextFloat());
      let mask = 0;
      if (random.nextFloat() * BPS_PER_UNIT < new_user) mask |= bit("new_user");
      const age = random.nextFloat() * BPS_PER_UNIT;
      if (age < student) mask |= bit("student");
      else if (age < student + senior) mask |= bit("senior");
      if (random.nextFloat() * BPS_PER_UNIT < vip) mask |= bit("vip");
      this.segmentMask[user] = mask;
      this.deviceCount[user] = 1 + devicesTable.sample(random.nextFloat());
      this.cardCount[user] = cardsTable.sample(random.nextFloat());
    }

    const categoryCodes: string[] = [];
    const groupWeights: number[] = [];
    for (const profile of SCENARIO_PROFILES) {
      for (const region of TRAFFIC_REGIONS) {
        groupWeights.push(profile.merchantSharePercent * REGION_WEIGHTS_BPS[region]!);
      }
      for (const [code] of profile.merchantCategories) {
        if (!categoryCodes.includes(code)) categoryCodes.push(code);
      }
    }
    const nonEmptyGroups = groupWeights.filter((weight) => weight > 0).length;
    if (merchants < nonEmptyGroups) {
      throw new RangeError(
        `${merchants} merchants cannot fill ${nonEmptyGroups} (scenario, region) groups`,
      );
    }
    // One merchant per group first, the rest in proportion (largest remainder, deterministic).
    const extra = allocateProportionally(merchants - nonEmptyGroups, groupWeights);
    this.groupStart = new Int32Array(groupWeights.length + 1);
    for (let group = 0; group < groupWeights.length; group += 1) {
      const size = groupWeights[group]! > 0 ? 1 + extra[group]! : 0;
      this.groupStart[group + 1] = this.groupStart[group]! + size;
    }
    this.categoryCodes = categoryCodes;
    this.merchantCategory = new Uint8Array(merchants);
    SCENARIO_PROFILES.forEach((profile, scenarioIndex) => {
      if (profile.merchantCategories.length === 0) return;
      const categoryTable = new AliasTable(profile.merchantCategories.map(([, weight]) => weight));
      const codeIndexes = profile.merchantCategories.map(([code]) => categoryCodes.indexOf(code));
      const first = this.groupStart[scenarioIndex * regionCount]!;
      const end = this.groupStart[(scenarioIndex + 1) * regionCount]!;
      for (let merchant = first; merchant < end; merchant += 1) {
        this.merchantCategory[merchant] = codeIndexes[categoryTable.sample(random.nextFloat())]!;
      }
    });
  }
}
