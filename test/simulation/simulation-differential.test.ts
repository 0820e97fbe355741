/**
 * The report's totals equal sums of the reference evaluator's decisions (the oracle) over the
 * same payments: `simulateChange` runs the fast evaluator and the accumulator, the oracle below
 * sums `quoteReference` decisions with plain bigint arithmetic, group by group.
 *
 * Replay a failure with FC_SEED=<seed> npx vitest run test/simulation/simulation-differential.test.ts
 */
import { fc, test } from "@fast-check/vitest";
import { afterAll, describe, expect } from "vitest";
import { simulateChange } from "../../src/control/simulate-change.ts";
import type { Decision } from "../../src/core/evaluator/decision.ts";
import { quoteReference } from "../../src/core/evaluator/reference-evaluator.ts";
import type { Snapshot } from "../../src/core/evaluator/snapshot.ts";
import type { Payment } from "../../src/core/model/payment.ts";
import type { SimulationGroupRow } from "../../src/core/simulation/simulation-report.ts";
import { paymentsArbitrary, snapshotArbitrary } from "../support/evaluator-arbitraries.ts";

const seed = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
fc.configureGlobal({ seed });
console.log(
  `simulation-differential.test.ts: fast-check seed ${seed} (replay with FC_SEED=${seed})`,
);

const ordinary = { wild: false } as const;

const pairWithPayments = fc
  .tuple(snapshotArbitrary(ordinary, 12), snapshotArbitrary(ordinary, 12))
  .chain(([current, proposed]) =>
    fc.record({
      current: fc.constant(current),
      proposed: fc.constant(proposed),
      payments: fc
        .tuple(
          paymentsArbitrary(current, { mix: "both", paymentsMax: 12 }),
          paymentsArbitrary(proposed, { mix: "valid", paymentsMax: 12 }),
        )
        .map(([left, right]) => [...left, ...right]),
    }),
  );

interface Sums {
  subsidised: number;
  subsidyMinor: bigint;
}

/** What the oracle's decisions add up to, per side and group. */
function oracle(current: Snapshot, proposed: Snapshot, payments: readonly unknown[]) {
  const sides = [current, proposed].map(() => ({
    total: { subsidised: 0, subsidyMinor: 0n } as Sums,
    groups: new Map<string, Sums>(),
    users: new Map<string, bigint>(),
  }));
  let valid = 0;
  let invalid = 0;
  for (const input of payments) {
    const decisions: Decision[] = [quoteReference(current, input), quoteReference(proposed, input)];
    if (decisions[0]!.reason === "payment.invalid") {
      invalid += 1;
      continue;
    }
    const payment = input as Payment;
    if (payment.currency !== "CNY") continue;
    valid += 1;
    decisions.forEach((decision, side) => {
      const sums = sides[side]!;
      if (decision.totalSubsidyMinor === 0) return;
      const amount = BigInt(decision.totalSubsidyMinor);
      sums.total.subsidised += 1;
      sums.total.subsidyMinor += amount;
      const add = (key: string, value: bigint) => {
        const group = sums.groups.get(key) ?? { subsidised: 0, subsidyMinor: 0n };
        group.subsidised += 1;
        group.subsidyMinor += value;
        sums.groups.set(key, group);
      };
      add(`scenario:${payment.scenario}`, amount);
      add(`region:${payment.region}`, amount);
      const byFunding = new Map<string, bigint>();
      for (const subsidy of decision.subsidies) {
        add(`campaign:${subsidy.campaignId}`, BigInt(subsidy.amountMinor));
        byFunding.set(
          subsidy.funding,
          (byFunding.get(subsidy.funding) ?? 0n) + BigInt(subsidy.amountMinor),
        );
      }
      for (const [funding, value] of byFunding) add(`funding:${funding}`, value);
      sums.users.set(payment.userId, (sums.users.get(payment.userId) ?? 0n) + amount);
    });
  }
  return { sides, valid, invalid };
}

function reportGroups(
  kind: string,
  rows: readonly SimulationGroupRow[],
  side: "current" | "proposed",
) {
  return rows
    .filter((row) => row[side].subsidisedPayments > 0)
    .map(
      (row) =>
        [
          `${kind}:${row.key}`,
          { subsidised: row[side].subsidisedPayments, subsidyMinor: row[side].subsidyMinor },
        ] as const,
    );
}

/** Runs where both sides granted something: the property must not pass on empty reports only. */
/** Runs per property, and those where both sides granted something. */
const pairRuns = { runs: 0, withSubsidies: 0 };
const editedRuns = { runs: 0, withSubsidies: 0 };

/** Simulates the payments and checks every total, group and worst user against the oracle. */
async function expectOracleSums(
  current: Snapshot,
  proposed: Snapshot,
  payments: readonly unknown[],
  counted: { runs: number; withSubsidies: number },
): Promise<void> {
  const report = await simulateChange({
    current,
    proposed,
    payments,
    options: { currency: "CNY" },
  });
  const expected = oracle(current, proposed, payments);
  counted.runs += 1;
  if (report.current.subsidisedPayments > 0 && report.proposed.subsidisedPayments > 0) {
    counted.withSubsidies += 1;
  }
  expect(report.payments).toBe(expected.valid);
  expect(report.paymentsInvalid).toBe(expected.invalid);
  (["current", "proposed"] as const).forEach((side, index) => {
    const sums = expected.sides[index]!;
    expect(report[side].subsidisedPayments).toBe(sums.total.subsidised);
    expect(report[side].subsidyMinor).toBe(sums.total.subsidyMinor);
    const groups = new Map([
      ...reportGroups("scenario", report.byScenario, side),
      ...reportGroups("region", report.byRegion, side),
      ...reportGroups("campaign", report.byCampaign, side),
      ...reportGroups("funding", report.byFunding, side),
    ]);
    expect(groups).toEqual(sums.groups);
    const most = [...sums.users.values()].reduce((max, value) => (value > max ? value : max), 0n);
    expect(report.worstIdentity.user[side]?.subsidyMinor ?? 0n).toBe(most);
  });
}

describe("simulation totals against the reference evaluator", () => {
  test.prop([pairWithPayments], { numRuns: 250 })(
    "every total, group and worst user equals the oracle's sums",
    ({ current, proposed, payments }) => expectOracleSums(current, proposed, payments, pairRuns),
  );

  test.prop([editedPairWithPayments], { numRuns: 200 })(
    "a change of a few campaigns under one envelope (both snapshots granted in one pass) equals the oracle too",
    ({ current, proposed, payments }) => expectOracleSums(current, proposed, payments, editedRuns),
  );

  // The properties must not pass on empty reports only. Checked after the file's tests, and
  // only for the properties that ran (a filtered run may skip them).
  afterAll(() => {
    // About 35 of 250 runs across seeds (measured 28–38); 10 leaves room for any seed.
    if (pairRuns.runs > 0) expect(pairRuns.withSubsidies).toBeGreaterThan(10);
    if (editedRuns.runs > 0) expect(editedRuns.withSubsidies).toBeGreaterThan(10);
  });
});

/**
 * The proposed snapshot is the current one with some campaigns dropped and some replaced or
 * added from another generated snapshot (a campaign taking an existing id is an edit of it);
 * the envelope, programs and seed stay, as in a change of campaigns only.
 */
const editedPairWithPayments = fc
  .tuple(
    snapshotArbitrary(ordinary, 12),
    snapshotArbitrary(ordinary, 6),
    fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  )
  .chain(([current, other, kept]) => {
    const byId = new Map(
      current.campaigns
        .filter((_, index) => kept[index] !== false)
        .map((effective) => [effective.campaign.id, effective]),
    );
    for (const effective of other.campaigns) byId.set(effective.campaign.id, effective);
    const proposed: Snapshot = {
      ...current,
      campaigns: [...byId.values()].sort((left, right) =>
        left.campaign.id < right.campaign.id ? -1 : 1,
      ),
    };
    return fc.record({
      current: fc.constant(current),
      proposed: fc.constant(proposed),
      payments: fc
        .tuple(
          paymentsArbitrary(current, { mix: "valid", paymentsMax: 12 }),
          paymentsArbitrary(proposed, { mix: "valid", paymentsMax: 12 }),
        )
        .map(([left, right]) => [...left, ...right]),
    });
  });
