/**
 * Seeded synthetic payment traffic (DESIGN §5): deterministic, pure and on a virtual clock. The
 * same options give byte-identical payments on every machine; nothing reads the clock or
 * Math.random. The model's parameters are in traffic-model.ts and docs/reference/traffic.md.
 *
 * The hot loop draws from precomputed tables (alias tables, amount quantiles, typed arrays for
 * the population) and allocates only the payment object and its strings.
 */
import type { Payment, PaymentMethod } from "../core/model/payment.ts";
import { SCENARIOS } from "../core/scenario.ts";
import { offsetMsAt } from "../core/time-zone.ts";
import { AliasTable } from "./alias-table.ts";
import { AmountQuantiles } from "./amount-quantiles.ts";
import { ArrivalClock } from "./arrival-clock.ts";
import { SeededRandom } from "./seeded-random.ts";
import {
  CHANNEL_MIXES,
  METHOD_MIXES,
  POPULATION_MODEL,
  SCENARIO_PROFILES,
  TRAFFIC_AMOUNT_MINOR_MIN,
  TRAFFIC_CURRENCY,
  TRAFFIC_TIME_ZONE,
} from "./traffic-model.ts";
import {
  resolveTrafficOptions,
  type TrafficCurveError,
  type TrafficOptionError,
  type TrafficOptions,
  type TrafficOptionsInput,
  type TrafficRunInput,
} from "./traffic-options.ts";
import { SEGMENT_SETS, TRAFFIC_REGIONS, TrafficPopulation } from "./traffic-population.ts";

const BPS_PER_UNIT = 10_000;
/** The payments have their own stream, apart from the population's. */
const PAYMENT_STREAM = 2;

/** Per-scenario tables, indexed like SCENARIOS. */
interface ScenarioTables {
  readonly amounts: AmountQuantiles;
  readonly channels: AliasTable;
  readonly channelValues: readonly Payment["channel"][];
  readonly methods: AliasTable;
  readonly methodValues: readonly PaymentMethod[];
  /** Share of payments to individuals as a fraction. */
  readonly individualFraction: number;
  readonly national: boolean;
  /** First merchant group of the scenario (index into TrafficPopulation.groupStart). */
  readonly firstGroup: number;
}

// The amount tables depend only on the model, not on the seed: built once per process.
let amountTablesCache: readonly AmountQuantiles[] | undefined;

function amountTables(): readonly AmountQuantiles[] {
  amountTablesCache ??= SCENARIO_PROFILES.map(
    (profile) =>
      new AmountQuantiles({
        medianMinor: profile.amountMedianMinor,
        sigma: profile.amountSigma,
        amountMinorMin: TRAFFIC_AMOUNT_MINOR_MIN,
        amountMinorMax: profile.amountMinorMax,
      }),
  );
  return amountTablesCache;
}

function entriesOf<K extends string>(mix: Readonly<Partial<Record<K, number>>>): [K[], number[]] {
  const entries = Object.entries(mix) as [K, number][];
  return [entries.map(([key]) => key), entries.map(([, weight]) => weight)];
}

/**
 * Which of a user's `count` devices or cards a payment uses: the first with probability
 * `primaryFraction`, otherwise one of the others evenly. `draw` is uniform in [0, 1).
 */
function pickOwnItem(draw: number, primaryFraction: number, count: number): number {
  if (count === 1 || draw < primaryFraction) return 0;
  return 1 + Math.floor(((draw - primaryFraction) / (1 - primaryFraction)) * (count - 1));
}

function isCardMethod(method: PaymentMethod): boolean {
  return method === "debit_card" || method === "credit_card";
}

export type TrafficGeneratorResult<Error = TrafficOptionError> =
  | { readonly ok: true; readonly generator: TrafficGenerator }
  | { readonly ok: false; readonly errors: readonly Error[] };

export class TrafficGenerator implements Iterable<Payment> {
  readonly options: TrafficOptions;
  readonly population: TrafficPopulation;
  private readonly random: SeededRandom;
  private readonly clock: ArrivalClock;
  private readonly scenarioTable: AliasTable;
  private readonly scenarioTables: readonly ScenarioTables[];
  private readonly paymentIdPrefix: string;
  private readonly travelFraction: number;
  private readonly primaryDeviceFraction: number;
  private readonly primaryCardFraction: number;
  private index = 0;

  /** Validates the options first: out-of-range options are errors, not exceptions. */
  static create(
    input: TrafficOptionsInput & { readonly hourlyWeights?: undefined },
  ): TrafficGeneratorResult;
  /** With a daily curve of the caller's, which may be refused as well. */
  static create(
    input: TrafficRunInput,
  ): TrafficGeneratorResult<TrafficOptionError | TrafficCurveError>;
  static create(
    input: TrafficRunInput,
  ): TrafficGeneratorResult<TrafficOptionError | TrafficCurveError> {
    const resolved = resolveTrafficOptions(input);
    if (!resolved.ok) return resolved;
    return { ok: true, generator: new TrafficGenerator(resolved.options) };
  }

  /** `options` must come from resolveTrafficOptions; anything else is a bug. */
  constructor(options: TrafficOptions) {
    const check = resolveTrafficOptions(options);
    if (!check.ok) throw new RangeError(check.errors.map((error) => error.message).join("; "));
    this.options = check.options;
    this.population = new TrafficPopulation(options);
    this.random = new SeededRandom(options.seed, PAYMENT_STREAM);
    this.clock = new ArrivalClock({
      startMs: options.startMs,
      seconds: options.seconds,
      total: this.options.total,
      localOffsetMs: offsetMsAt(options.startMs, TRAFFIC_TIME_ZONE),
      hourlyWeights: this.options.hourlyWeights,
    });
    this.scenarioTable = new AliasTable(SCENARIO_PROFILES.map((profile) => profile.sharePercent));
    const amounts = amountTables();
    this.scenarioTables = SCENARIO_PROFILES.map((profile, scenarioIndex) => {
      const [channelValues, channelWeights] = entriesOf(CHANNEL_MIXES[profile.channelMix]);
      const [methodValues, methodWeights] = entriesOf(METHOD_MIXES[profile.methodMix]);
      return {
        amounts: amounts[scenarioIndex]!,
        channels: new AliasTable(channelWeights),
        channelValues,
        methods: new AliasTable(methodWeights),
        methodValues,
        individualFraction: profile.individualPayeeBps / BPS_PER_UNIT,
        national: profile.merchantLocation === "national",
        firstGroup: scenarioIndex * TRAFFIC_REGIONS.length,
      };
    });
    this.paymentIdPrefix = `p${options.seed}-`;
    this.travelFraction = POPULATION_MODEL.travelBps / BPS_PER_UNIT;
    this.primaryDeviceFraction = POPULATION_MODEL.primaryDeviceBps / BPS_PER_UNIT;
    this.primaryCardFraction = POPULATION_MODEL.primaryCardBps / BPS_PER_UNIT;
  }

  /** How many payments this generator produces in all: tps × seconds. */
  get total(): number {
    return this.options.total;
  }

  /** How many payments have been produced so far. */
  get generated(): number {
    return this.index;
  }

  /**
   * The next payment, or undefined after the last. Returning the payment itself (rather than an
   * iterator result) keeps the loop to one allocation per payment.
   */
  nextPayment(): Payment | undefined {
    const index = this.index;
    if (index >= this.options.total) return undefined;
    this.index = index + 1;
    const random = this.random;
    const population = this.population;
    const users = population.users;

    const atMs = this.clock.next(random);
    const scenarioIndex = this.scenarioTable.sample(random.nextFloat());
    const tables = this.scenarioTables[scenarioIndex]!;
    const skew = random.nextFloat();
    const user = Math.floor(users * skew * skew * skew);

    // Mostly at home; a travelling payment happens in a region drawn from the national weights.
    // One draw decides both: below the threshold, its rescaled fraction picks the region.
    const travel = random.nextFloat();
    const here =
      travel < this.travelFraction
        ? population.regionTable.sample(travel / this.travelFraction)
        : population.homeRegion[user]!;

    const amountMinor = tables.amounts.sample(random.nextUint32());

    let payeeKind: Payment["payeeKind"];
    let merchantId: string;
    let merchantCategory: string | undefined;
    let regionIndex = here;
    const payee = random.nextFloat();
    if (payee < tables.individualFraction) {
      // The payee is another user, drawn uniformly; the payment happens where the payer is.
      payeeKind = "individual";
      let payeeUser = Math.floor((payee / tables.individualFraction) * users);
      if (payeeUser === user) payeeUser = (payeeUser + 1) % users;
      merchantId = `u${payeeUser}`;
      merchantCategory = undefined;
    } else {
      payeeKind = "merchant";
      if (tables.national) regionIndex = population.regionTable.sample(random.nextFloat());
      const group = tables.firstGroup + regionIndex;
      const first = population.groupStart[group]!;
      const size = population.groupStart[group + 1]! - first;
      const pick = random.nextFloat();
      const merchant = first + Math.floor(size * pick * pick);
      merchantId = `m${merchant}`;
      merchantCategory = population.categoryCodes[population.merchantCategory[merchant]!];
    }

    const channel = tables.channelValues[tables.channels.sample(random.nextFloat())]!;
    let paymentMethod = tables.methodValues[tables.methods.sample(random.nextFloat())]!;
    const cards = population.cardCount[user]!;
    let cardFingerprint: string | undefined;
    if (isCardMethod(paymentMethod)) {
      if (cards === 0) {
        paymentMethod = "balance";
      } else {
        const cardIndex = pickOwnItem(random.nextFloat(), this.primaryCardFraction, cards);
        cardFingerprint = `c${user}-${cardIndex}`;
      }
    }
    const devices = population.deviceCount[user]!;
    const deviceIndex =
      devices === 1 ? 0 : pickOwnItem(random.nextFloat(), this.primaryDeviceFraction, devices);

    // One shape for every payment (same keys, same order) keeps property access monomorphic
    // downstream; absent optional fields are undefined and JSON leaves them out.
    return {
      paymentId: this.paymentIdPrefix + index,
      userId: `u${user}`,
      amountMinor,
      currency: TRAFFIC_CURRENCY,
      scenario: SCENARIOS[scenarioIndex]!,
      payeeKind,
      merchantId,
      merchantCategory,
      region: TRAFFIC_REGIONS[regionIndex]!,
      channel,
      paymentMethod,
      atMs,
      deviceId: `d${user}-${deviceIndex}`,
      cardFingerprint,
      segments: SEGMENT_SETS[population.segmentMask[user]!] as Payment["segments"],
    };
  }

  *[Symbol.iterator](): Iterator<Payment> {
    for (let payment = this.nextPayment(); payment !== undefined; payment = this.nextPayment()) {
      yield payment;
    }
  }
}
