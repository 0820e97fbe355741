/**
 * The contract of the ledger's impact port (src/ledger/ledger-impact-reader.ts) and of
 * remediation, run against every store: a small ledger whose report was worked out by hand, and
 * a property comparing the store with the memory store on generated ledgers.
 */
import { fc } from "@fast-check/vitest";
import { afterEach, describe, expect, test } from "vitest";
import type { FundingSource } from "../../src/core/funding.ts";
import type { ImpactCounts, ImpactQuery } from "../../src/core/ledger/impact-report.ts";
import type { PlannedSubsidy, ReservationRequest } from "../../src/core/ledger/reservation.ts";
import { releaseUncommitted } from "../../src/ledger/impact-remediation.ts";
import type { LedgerImpactReader } from "../../src/ledger/ledger-impact-reader.ts";
import type { LedgerStore } from "../../src/ledger/ledger-store.ts";
import { MemoryLedgerStore } from "../../src/ledger/memory-ledger-store.ts";
import { budgetDebit, REQUEST_T0_MS, REQUEST_TTL_MS } from "../support/ledger-requests.ts";

export type ImpactStore = LedgerStore & LedgerImpactReader;

const T0 = REQUEST_T0_MS; // 2025-01-16T06:40:00Z, a minute's start
const SECOND = 1_000;

function granted(
  campaignId: string,
  version: number,
  amountMinor: number,
  funding: FundingSource,
): PlannedSubsidy {
  return {
    campaignId,
    campaignVersion: version,
    amountMinor,
    funding,
    label: funding === "government" ? "government_subsidy" : "instant_discount",
    refundRestores: "budgets_and_caps",
    templateId: `t-${campaignId}`,
    debits: [budgetDebit(campaignId, amountMinor)],
  };
}

function paid(
  paymentId: string,
  facts: { userId: string; scenario: string; region: string; atMs: number },
  subsidies: PlannedSubsidy[],
): ReservationRequest {
  return {
    paymentId,
    contentKey: `content-of-${paymentId}`,
    paymentAmountMinor: 100_000,
    atMs: facts.atMs,
    expiresAtMs: facts.atMs + REQUEST_TTL_MS,
    snapshotVersion: 1,
    userId: facts.userId,
    scenario: facts.scenario,
    region: facts.region,
    subsidies,
  };
}

/**
 * The hand-computed ledger: instant@2 is the bad version (government-funded), instant@1 and
 * coffee@1 are not.
 * p1 u1 merchant_qr shanghai +5 s: instant@2 300 + coffee@1 100, committed in full
 * p2 u2 utility_bill beijing +30 s: instant@2 500, left reserved
 * p3 u1 merchant_qr beijing +65 s: instant@2 200, released
 * p4 u3 online_checkout shanghai +70 s: instant@2 400, committed at 250 (150 returned), then
 *    half the payment refunded: 125 reversed
 * p5 u4 merchant_qr shanghai +10 s: instant@1 700 (another version)
 * p6 u5 p2p_transfer shanghai +20 s: coffee@1 900, left reserved
 * p7 u6 merchant_qr shanghai +130 s: instant@2 refused (a cap of 0): no subsidy, not affected
 */
async function seed(store: ImpactStore): Promise<void> {
  await store.fund("campaign/instant", 10_000, "test budget", T0);
  await store.fund("campaign/coffee", 10_000, "test budget", T0);
  const refusedByCap = granted("instant", 2, 50, "government");
  await store.reserve([
    paid(
      "p1",
      { userId: "u1", scenario: "merchant_qr", region: "shanghai", atMs: T0 + 5 * SECOND },
      [granted("instant", 2, 300, "government"), granted("coffee", 1, 100, "platform")],
    ),
    paid(
      "p2",
      { userId: "u2", scenario: "utility_bill", region: "beijing", atMs: T0 + 30 * SECOND },
      [granted("instant", 2, 500, "government")],
    ),
    paid(
      "p3",
      { userId: "u1", scenario: "merchant_qr", region: "beijing", atMs: T0 + 65 * SECOND },
      [granted("instant", 2, 200, "government")],
    ),
    paid(
      "p4",
      { userId: "u3", scenario: "online_checkout", region: "shanghai", atMs: T0 + 70 * SECOND },
      [granted("instant", 2, 400, "government")],
    ),
    paid(
      "p5",
      { userId: "u4", scenario: "merchant_qr", region: "shanghai", atMs: T0 + 10 * SECOND },
      [granted("instant", 1, 700, "platform")],
    ),
    paid(
      "p6",
      { userId: "u5", scenario: "p2p_transfer", region: "shanghai", atMs: T0 + 20 * SECOND },
      [granted("coffee", 1, 900, "platform")],
    ),
    paid(
      "p7",
      { userId: "u6", scenario: "merchant_qr", region: "shanghai", atMs: T0 + 130 * SECOND },
      [
        {
          ...refusedByCap,
          debits: [
            ...refusedByCap.debits,
            {
              account: "identity/user:u6/campaign/instant",
              amountMinor: 50,
              count: 1,
              funded: false,
              capacityMinor: 0,
              countCapacity: null,
              refusal: "identity_cap_reached",
            },
          ],
        },
      ],
    ),
  ]);
  const at = T0 + 200 * SECOND;
  await store.settle([
    { kind: "commit", paymentId: "p1", atMs: at },
    { kind: "release", paymentId: "p3", atMs: at },
    { kind: "commit", paymentId: "p4", atMs: at, totalMinor: 250 },
  ]);
  await store.refund([{ paymentId: "p4", refundId: "r1", amountMinor: 50_000, atMs: at }]);
}

function counts(
  payments: number,
  users: number,
  subsidies: number,
  money: [reserved: number, held: number, committed: number, returned: number, refunded: number],
): ImpactCounts {
  const [reservedMinor, heldMinor, committedMinor, returnedMinor, refundedMinor] = money;
  return {
    payments,
    users,
    subsidies,
    reservedMinor,
    heldMinor,
    committedMinor,
    returnedMinor,
    refundedMinor,
    netMinor: heldMinor + committedMinor - refundedMinor,
  };
}

const BAD: ImpactQuery = { versions: [{ campaignId: "instant", version: 2 }] };

export function describeLedgerImpactContract(
  name: string,
  createStore: () => Promise<ImpactStore>,
  propertyRuns: number,
): void {
  describe(`ledger impact contract: ${name}`, () => {
    const opened: ImpactStore[] = [];
    const open = async () => {
      const store = await createStore();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    test("the report of the bad version equals the hand-computed one", async () => {
      const store = await open();
      await seed(store);
      const report = await store.impactReport(BAD);
      const totals = counts(4, 3, 4, [1400, 500, 550, 350, 125]);
      expect(report.window).toEqual({ firstAtMs: T0 + 5 * SECOND, lastAtMs: T0 + 70 * SECOND });
      expect(report.totals).toEqual(totals);
      expect(report.totals.netMinor).toBe(925);
      expect(report.splits.scenario).toEqual({
        rows: [
          { key: "utility_bill", ...counts(1, 1, 1, [500, 500, 0, 0, 0]) },
          { key: "merchant_qr", ...counts(2, 1, 2, [500, 0, 300, 200, 0]) },
          { key: "online_checkout", ...counts(1, 1, 1, [400, 0, 250, 150, 125]) },
        ],
        omitted: 0,
      });
      expect(report.splits.region.rows).toEqual([
        { key: "beijing", ...counts(2, 2, 2, [700, 500, 0, 200, 0]) },
        { key: "shanghai", ...counts(2, 2, 2, [700, 0, 550, 150, 125]) },
      ]);
      expect(report.splits.funder.rows).toEqual([{ key: "government", ...totals }]);
      expect(report.splits.campaign_version.rows).toEqual([{ key: "instant@2", ...totals }]);
      expect(report.splits.minute.rows).toEqual([
        { key: String(T0), ...counts(2, 2, 2, [800, 500, 300, 0, 0]) },
        { key: String(T0 + 60_000), ...counts(2, 2, 2, [600, 0, 250, 350, 125]) },
      ]);
      expect(report.query).toEqual(BAD);
    });

    test("a time range and two versions", async () => {
      const store = await open();
      await seed(store);
      const ranged = await store.impactReport({
        ...BAD,
        fromMs: T0 + 60 * SECOND,
        toMs: T0 + 120 * SECOND,
      });
      expect(ranged.window).toEqual({ firstAtMs: T0 + 65 * SECOND, lastAtMs: T0 + 70 * SECOND });
      expect(ranged.totals).toEqual(counts(2, 2, 2, [600, 0, 250, 350, 125]));
      const both = await store.impactReport({
        versions: [
          { campaignId: "coffee", version: 1 },
          { campaignId: "instant", version: 2 },
        ],
      });
      expect(both.totals).toEqual(counts(5, 4, 6, [2400, 1400, 650, 350, 125]));
      expect(both.splits.funder.rows).toEqual([
        { key: "platform", ...counts(2, 2, 2, [1000, 900, 100, 0, 0]) },
        { key: "government", ...counts(4, 3, 4, [1400, 500, 550, 350, 125]) },
      ]);
      // Net descending: coffee@1 holds 900 and spent 100 (1,000), instant@2 nets 925.
      expect(both.splits.campaign_version.rows.map((row) => [row.key, row.netMinor])).toEqual([
        ["coffee@1", 1000],
        ["instant@2", 925],
      ]);
    });

    test("payers alone, payers of several subsidies and unrecorded payers count once each", async () => {
      // The SQL stores count a subsidy whose payer has no other affected subsidy apart from the
      // others (ledger-impact-sql.ts); every kind is here, and the memory store is the reference.
      const store = await open();
      const reference = new MemoryLedgerStore();
      const facts = (userId: string, seconds: number) => ({
        userId,
        scenario: seconds < 60 ? "merchant_qr" : "rent",
        region: "shanghai",
        atMs: T0 + seconds * SECOND,
      });
      const { userId: _unrecorded, ...withoutPayer } = paid("q5", facts("", 40), [
        granted("instant", 2, 70, "government"),
      ]);
      const requests: ReservationRequest[] = [
        paid("q1", facts("alone", 5), [granted("instant", 2, 100, "government")]),
        // Two subsidies of the queried versions on one payment, one payer.
        paid("q2", facts("twice", 10), [
          granted("instant", 2, 200, "government"),
          granted("coffee", 1, 30, "platform"),
        ]),
        paid("q3", facts("twice", 70), [granted("instant", 2, 300, "government")]),
        paid("q4", facts("other", 20), [granted("instant", 2, 400, "government")]),
        withoutPayer,
        { ...withoutPayer, paymentId: "q6", contentKey: "content-of-q6" },
      ];
      const query: ImpactQuery = {
        versions: [
          { campaignId: "instant", version: 2 },
          { campaignId: "coffee", version: 1 },
        ],
      };
      for (const target of [store, reference] as ImpactStore[]) {
        await target.fund("campaign/instant", 10_000, "test", T0);
        await target.fund("campaign/coffee", 10_000, "test", T0);
        await target.reserve(requests);
      }
      const report = await store.impactReport(query);
      expect(report).toEqual(await reference.impactReport(query));
      expect(report.totals).toEqual(counts(6, 3, 7, [1170, 1170, 0, 0, 0]));
      expect(report.splits.funder.rows).toEqual([
        { key: "government", ...counts(6, 3, 6, [1140, 1140, 0, 0, 0]) },
        { key: "platform", ...counts(1, 1, 1, [30, 30, 0, 0, 0]) },
      ]);
    });

    test("a heavy repeat payer, payments of several subsidies and unrecorded payers equal the memory store", async () => {
      // The SQL stores number repeat payers and count distinct payments only over payments of
      // several affected subsidies (ledger-impact-sql.ts): one payer with many payments over
      // minutes, scenarios and regions, payments with two and three subsidies (two of one
      // funder), and payers without a record, some of them with two subsidies.
      const store = await open();
      const reference = new MemoryLedgerStore();
      const scenarios = ["merchant_qr", "rent", "utility_bill"];
      const requests: ReservationRequest[] = [];
      for (let index = 0; index < 24; index += 1) {
        const userId = index % 3 === 0 ? "heavy" : index % 3 === 1 ? `once-${index}` : "twice";
        const subsidies = [granted("instant", 2, 100 + index, "government")];
        if (index % 4 === 0) subsidies.push(granted("coffee", 1, 10 + index, "government"));
        if (index % 8 === 0) subsidies.push(granted("tea", 3, 5, "platform"));
        const request = paid(
          `h${String(index).padStart(2, "0")}`,
          {
            userId,
            scenario: scenarios[index % 3]!,
            region: index % 2 === 0 ? "shanghai" : "beijing",
            atMs: T0 + index * 25 * SECOND,
          },
          subsidies,
        );
        const { userId: _dropped, ...withoutPayer } = request;
        requests.push(index % 5 === 4 ? withoutPayer : request);
      }
      const query: ImpactQuery = {
        versions: [
          { campaignId: "instant", version: 2 },
          { campaignId: "coffee", version: 1 },
          { campaignId: "tea", version: 3 },
        ],
      };
      for (const target of [store, reference] as ImpactStore[]) {
        for (const campaign of ["instant", "coffee", "tea"]) {
          await target.fund(`campaign/${campaign}`, 100_000, "test", T0);
        }
        await target.reserve(requests);
        await target.settle([{ kind: "commit", paymentId: "h03", atMs: T0 + 20 * 60_000 }]);
      }
      const report = await store.impactReport(query);
      expect(report).toEqual(await reference.impactReport(query));
      expect(report.totals.payments).toBe(24);
      expect(report.totals.subsidies).toBe(24 + 6 + 3);
      // heavy, twice and the once-payers whose payments kept their payer (index % 5 !== 4).
      const onceWithPayer = [1, 4, 7, 10, 13, 16, 19, 22].filter((index) => index % 5 !== 4);
      expect(report.totals.users).toBe(2 + onceWithPayer.length);
      const within = (from: number, to: number) =>
        store.impactReport({ ...query, fromMs: T0 + from * SECOND, toMs: T0 + to * SECOND });
      expect(await within(100, 400)).toEqual(
        await reference.impactReport({
          ...query,
          fromMs: T0 + 100 * SECOND,
          toMs: T0 + 400 * SECOND,
        }),
      );
    });

    test("versions nobody used give an empty report; a malformed query is refused", async () => {
      const store = await open();
      await seed(store);
      const report = await store.impactReport({
        versions: [{ campaignId: "instant", version: 9 }],
      });
      expect(report.totals.payments).toBe(0);
      expect(report.window).toEqual({ firstAtMs: null, lastAtMs: null });
      expect(report.splits.minute).toEqual({ rows: [], omitted: 0 });
      await expect(store.impactReport({ versions: [] })).rejects.toThrow(/campaign version/);
      await expect(store.impactReport({ ...BAD, fromMs: T0 + 1, toMs: T0 })).rejects.toThrow(
        /before/,
      );
    });

    test("remediation releases the bad versions' uncommitted reservations, once", async () => {
      const store = await open();
      await seed(store);
      await store.reserve([
        paid(
          "p8",
          { userId: "u2", scenario: "merchant_qr", region: "shanghai", atMs: T0 + 15 * SECOND },
          [granted("instant", 2, 50, "government"), granted("coffee", 1, 20, "platform")],
        ),
      ]);
      expect(await store.uncommittedOf(BAD, "", 100)).toEqual([
        { paymentId: "p2", affectedMinor: 500 },
        { paymentId: "p8", affectedMinor: 50 },
      ]);
      expect(await store.uncommittedOf(BAD, "p2", 1)).toEqual([
        { paymentId: "p8", affectedMinor: 50 },
      ]);
      const atMs = T0 + 300 * SECOND;
      const first = await releaseUncommitted(store, store, BAD.versions, atMs);
      expect(first).toEqual({
        decision: "release_uncommitted",
        versions: BAD.versions,
        atMs,
        paymentsReleased: 2,
        releasedMinor: 550,
        releasedTotalMinor: 570,
        paymentsExpired: 0,
        paymentsSettledMeanwhile: 0,
      });
      const again = await releaseUncommitted(store, store, BAD.versions, atMs + 1);
      expect(again.paymentsReleased).toBe(0);
      expect(again.releasedMinor).toBe(0);
      // p6 (coffee@1 alone) still holds its money; the rest of coffee's was p8's.
      expect((await store.balance("campaign/coffee"))?.reservedMinor).toBe(900);
      // p5 (instant@1, another version) still holds its 700.
      expect((await store.balance("campaign/instant"))?.reservedMinor).toBe(700);
      const after = await store.impactReport(BAD);
      expect(after.totals).toEqual(counts(5, 3, 5, [1450, 0, 550, 900, 125]));
      expect((await store.verify()).ok).toBe(true);
    });

    if (propertyRuns > 0) {
      test("equals the memory store on generated ledgers", async () => {
        await fc.assert(
          fc.asyncProperty(generatedLedger(), queryArbitrary(), async (operations, query) => {
            const store = await open();
            const reference = new MemoryLedgerStore();
            for (const target of [store, reference] as ImpactStore[]) {
              await target.fund("campaign/a", 1_000_000, "test", T0);
              await target.fund("campaign/b", 1_000_000, "test", T0);
              await target.fund("campaign/c", 3_000, "test", T0);
              for (const operation of operations) await apply(target, operation);
            }
            expect(await store.impactReport(query)).toEqual(await reference.impactReport(query));
            expect(await store.uncommittedOf(query, "", 1_000)).toEqual(
              await reference.uncommittedOf(query, "", 1_000),
            );
            await store.close();
          }),
          { numRuns: propertyRuns, seed: 20250116 },
        );
      });
    }
  });
}

type Operation =
  | { readonly kind: "reserve"; readonly request: ReservationRequest }
  | { readonly kind: "commit"; readonly paymentId: string; readonly totalMinor?: number }
  | { readonly kind: "release"; readonly paymentId: string }
  | { readonly kind: "refund"; readonly paymentId: string; readonly amountMinor: number };

function generatedLedger(): fc.Arbitrary<Operation[]> {
  const subsidyArbitrary = fc.record({
    campaignId: fc.constantFrom("a", "b", "c"),
    version: fc.integer({ min: 1, max: 3 }),
    amountMinor: fc.integer({ min: 1, max: 900 }),
    funding: fc.constantFrom<FundingSource>("platform", "merchant", "government"),
  });
  const reserve = fc
    .record({
      id: fc.integer({ min: 1, max: 40 }),
      // Repeat payers, payers alone in the ledger and payments without a recorded payer: the
      // stores count a payer with one subsidy apart from the others (ledger-impact-sql.ts).
      user: fc.constantFrom("u1", "u2", "u3", "u4", "alone", "unrecorded"),
      scenario: fc.constantFrom("merchant_qr", "rent", "utility_bill"),
      region: fc.constantFrom("shanghai", "beijing", "chengdu"),
      offsetMs: fc.integer({ min: 0, max: 10 * 60_000 }),
      subsidies: fc.uniqueArray(subsidyArbitrary, {
        minLength: 1,
        maxLength: 3,
        selector: (subsidy) => subsidy.campaignId,
      }),
    })
    .map((drawn): Operation => {
      const paymentId = `p${String(drawn.id).padStart(3, "0")}`;
      const { userId, ...request } = paid(
        paymentId,
        {
          userId: drawn.user === "alone" ? `u-${paymentId}` : drawn.user,
          scenario: drawn.scenario,
          region: drawn.region,
          atMs: T0 + drawn.offsetMs,
        },
        drawn.subsidies.map((subsidy) =>
          granted(subsidy.campaignId, subsidy.version, subsidy.amountMinor, subsidy.funding),
        ),
      );
      return {
        kind: "reserve",
        request: drawn.user === "unrecorded" ? request : { ...request, userId },
      };
    });
  const paymentId = fc.integer({ min: 1, max: 40 }).map((id) => `p${String(id).padStart(3, "0")}`);
  const settle = fc.oneof(
    fc
      .record({
        paymentId,
        totalMinor: fc.option(fc.integer({ min: 0, max: 1_500 }), { nil: undefined }),
      })
      .map((drawn): Operation => ({ kind: "commit", ...drawn })),
    paymentId.map((id): Operation => ({ kind: "release", paymentId: id })),
    fc
      .record({ paymentId, amountMinor: fc.integer({ min: 1, max: 60_000 }) })
      .map((drawn): Operation => ({ kind: "refund", ...drawn })),
  );
  return fc.array(fc.oneof({ weight: 3, arbitrary: reserve }, { weight: 2, arbitrary: settle }), {
    maxLength: 30,
  });
}

function queryArbitrary(): fc.Arbitrary<ImpactQuery> {
  return fc.record(
    {
      versions: fc.uniqueArray(
        fc.record({
          campaignId: fc.constantFrom("a", "b", "c"),
          version: fc.integer({ min: 1, max: 3 }),
        }),
        { minLength: 1, maxLength: 4, selector: (ref) => `${ref.campaignId}@${ref.version}` },
      ),
      fromMs: fc.integer({ min: 0, max: 5 * 60_000 }).map((offset) => T0 + offset),
      toMs: fc.integer({ min: 5 * 60_000 + 1, max: 11 * 60_000 }).map((offset) => T0 + offset),
    },
    { requiredKeys: ["versions"] },
  );
}

async function apply(store: ImpactStore, operation: Operation): Promise<void> {
  const atMs = T0 + 20 * 60_000;
  switch (operation.kind) {
    case "reserve":
      await store.reserve([operation.request]);
      return;
    case "commit":
      await store.settle([
        operation.totalMinor === undefined
          ? { kind: "commit", paymentId: operation.paymentId, atMs }
          : {
              kind: "commit",
              paymentId: operation.paymentId,
              atMs,
              totalMinor: operation.totalMinor,
            },
      ]);
      return;
    case "release":
      await store.settle([{ kind: "release", paymentId: operation.paymentId, atMs }]);
      return;
    case "refund":
      await store.refund([
        {
          paymentId: operation.paymentId,
          refundId: `r${atMs}-${operation.amountMinor}`,
          amountMinor: operation.amountMinor,
          atMs,
        },
      ]);
      return;
  }
}
