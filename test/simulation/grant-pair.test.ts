/**
 * `createFastGrantPair`, one pass over one index for both snapshots of a change, grants exactly
 * what two `grantChecked` calls (one evaluator per snapshot) grant: the same campaigns in the same
 * order, the same amounts and totals, on both sides. The proposed snapshot is the current one
 * edited campaign by campaign — priorities moved, exclusive groups joined or left, offers
 * swapped, campaigns paused (dropped), replaced or added — under the current envelope, whose
 * total bound cuts grants; some unchanged campaigns are also declared touched, which must only
 * cost work.
 *
 * Replay a failure with FC_SEED=<seed> npx vitest run test/simulation/grant-pair.test.ts
 */
import { fc, test } from "@fast-check/vitest";
import { afterAll, describe, expect } from "vitest";
import {
  createFastEvaluator,
  createFastGrantPair,
  type FastGrants,
} from "../../src/core/evaluator/fast-evaluator.ts";
import { CheckedPayment, fastPaymentCheck } from "../../src/core/evaluator/fast-payment-check.ts";
import type { Snapshot, SnapshotCampaign } from "../../src/core/evaluator/snapshot.ts";
import { paymentsArbitrary, snapshotArbitrary } from "../support/evaluator-arbitraries.ts";

const seed = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
fc.configureGlobal({ seed });
console.log(`grant-pair.test.ts: fast-check seed ${seed} (replay with FC_SEED=${seed})`);

type Edit = "keep" | "pause" | "priority" | "group" | "offer" | "replace";

const editArbitrary = fc.constantFrom<Edit>(
  "keep",
  "keep",
  "keep",
  "pause",
  "priority",
  "group",
  "offer",
  "replace",
);

function edited(
  effective: SnapshotCampaign,
  edit: Edit,
  other: SnapshotCampaign | undefined,
): SnapshotCampaign | undefined {
  const { campaign } = effective;
  switch (edit) {
    case "keep":
      return effective;
    case "pause":
      return undefined;
    case "priority":
      return {
        ...effective,
        campaign: {
          ...campaign,
          stacking: { ...campaign.stacking, priority: campaign.stacking.priority + 5 },
        },
      };
    case "group": {
      const { exclusiveGroup, ...stacking } = campaign.stacking;
      return {
        ...effective,
        campaign: {
          ...campaign,
          stacking: exclusiveGroup === "g-1" ? stacking : { ...stacking, exclusiveGroup: "g-1" },
        },
      };
    }
    case "offer":
      return other === undefined ? undefined : { ...effective, offer: other.offer };
    case "replace":
      return other === undefined
        ? undefined
        : { ...other, campaign: { ...other.campaign, id: campaign.id } };
  }
}

const pairWithPayments = fc
  .tuple(
    snapshotArbitrary({ wild: false }, 12),
    snapshotArbitrary({ wild: false }, 6),
    fc.array(editArbitrary, { minLength: 12, maxLength: 12 }),
    fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  )
  .chain(([current, other, edits, declaredTouched]) => {
    const byId = new Map<string, SnapshotCampaign>();
    current.campaigns.forEach((effective, index) => {
      const after = edited(effective, edits[index]!, other.campaigns[index]);
      if (after !== undefined) byId.set(effective.campaign.id, after);
    });
    // Added campaigns (or, with an existing id, replacements).
    for (const effective of other.campaigns.slice(6 - Math.min(6, edits.length % 4))) {
      byId.set(effective.campaign.id, effective);
    }
    const proposed: Snapshot = {
      ...current,
      version: current.version + 1,
      campaigns: [...byId.values()].sort((left, right) =>
        left.campaign.id < right.campaign.id ? -1 : 1,
      ),
    };
    return fc.record({
      current: fc.constant(current),
      proposed: fc.constant(proposed),
      declaredTouched: fc.constant(declaredTouched),
      payments: fc
        .tuple(
          paymentsArbitrary(current, { mix: "valid", paymentsMax: 16 }),
          paymentsArbitrary(proposed, { mix: "valid", paymentsMax: 16 }),
        )
        .map(([left, right]) => [...left, ...right]),
    });
  });

/** Unchanged campaigns' positions in `proposed` (-1 for touched ones, or declared so). */
function unchangedPositions(
  current: Snapshot,
  proposed: Snapshot,
  declaredTouched: readonly boolean[],
): Int32Array {
  const key = (effective: SnapshotCampaign) => JSON.stringify({ ...effective, version: 0 });
  return Int32Array.from(current.campaigns, (effective, index) => {
    const position = proposed.campaigns.findIndex(
      (candidate) => candidate.campaign.id === effective.campaign.id,
    );
    if (position < 0 || declaredTouched[index] === true) return -1;
    return key(proposed.campaigns[position]!) === key(effective) ? position : -1;
  });
}

function granted(snapshot: Snapshot, grants: FastGrants) {
  return {
    totalMinor: grants.totalMinor,
    subsidies: Array.from({ length: grants.count }, (_, index) => ({
      campaignId: snapshot.campaigns[grants.positions[index]!]!.campaign.id,
      amountMinor: grants.amountsMinor[index]!,
    })),
  };
}

/** Payments checked, those where the two sides differ, and those with grants stacked. */
const counted = { payments: 0, differing: 0, stacked: 0, bounded: 0 };

describe("createFastGrantPair", () => {
  test.prop([pairWithPayments], { numRuns: 400 })(
    "grants what two separate grantChecked calls grant",
    ({ current, proposed, declaredTouched, payments }) => {
      const before = createFastEvaluator(current);
      const after = createFastEvaluator(proposed);
      const pair = createFastGrantPair(
        current,
        proposed,
        unchangedPositions(current, proposed, declaredTouched),
      );
      expect(pair).toBeDefined();
      if (pair === undefined) return;
      const checked = new CheckedPayment();
      for (const payment of payments) {
        if (!fastPaymentCheck(payment, checked)) continue;
        before.grantChecked!(checked);
        after.grantChecked!(checked);
        const expectedCurrent = granted(current, before.grants!);
        const expectedProposed = granted(proposed, after.grants!);
        const alike = pair.grantBoth(checked);
        expect(granted(current, pair.current)).toEqual(expectedCurrent);
        expect(alike ? granted(current, pair.current) : granted(proposed, pair.proposed)).toEqual(
          expectedProposed,
        );
        counted.payments += 1;
        if (JSON.stringify(expectedCurrent) !== JSON.stringify(expectedProposed))
          counted.differing += 1;
        if (expectedCurrent.subsidies.length > 1 || expectedProposed.subsidies.length > 1)
          counted.stacked += 1;
        const offered = (evaluator: typeof before, payment: unknown) =>
          (evaluator.quote(payment).subsidies ?? []).some(
            (subsidy) => subsidy.amountMinor < subsidy.offerMinor,
          );
        if (offered(before, payment) || offered(after, payment)) counted.bounded += 1;
      }
    },
  );

  test("is undefined when the snapshots differ beyond their campaigns", () => {
    const snapshot = fc.sample(snapshotArbitrary({ wild: false }, 4), { numRuns: 1, seed: 1 })[0]!;
    const positions = Int32Array.from(snapshot.campaigns, (_, position) => position);
    expect(createFastGrantPair(snapshot, snapshot, positions)).toBeDefined();
    const reseeded = { ...snapshot, randomSeed: snapshot.randomSeed + 1 };
    expect(createFastGrantPair(snapshot, reseeded, positions)).toBeUndefined();
    const envelope = { ...snapshot.envelope, protectedScenarios: ["rent" as const] };
    expect(createFastGrantPair(snapshot, { ...snapshot, envelope }, positions)).toBeUndefined();
  });

  // The property must not pass on trivial payments only.
  afterAll(() => {
    if (counted.payments === 0) return;
    expect(counted.differing).toBeGreaterThan(50);
    expect(counted.stacked).toBeGreaterThan(20);
    expect(counted.bounded).toBeGreaterThan(10);
    console.log(`grant-pair.test.ts: ${JSON.stringify(counted)}`);
  });
});
