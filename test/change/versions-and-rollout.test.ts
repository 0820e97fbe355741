import { createHash } from "node:crypto";
import { fc, test as propertyTest } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { canonicalJson } from "../../src/core/change/canonical-json.ts";
import {
  baseVersionsOf,
  type ChangeEdit,
  type DocumentKey,
  type DocumentVersion,
  effectiveCampaignVersions,
  versionsUndoing,
  versionsWrittenBy,
} from "../../src/core/change/document-versions.ts";
import {
  checkRolloutPlan,
  defaultRolloutPlan,
  isInRollout,
  judgeStage,
  type RolloutPlan,
  rolloutBucketOf,
  rolloutPlanWithShares,
} from "../../src/core/change/rollout.ts";
import type { Campaign } from "../../src/core/model/campaign.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import { exampleDocuments } from "./change-fixtures.ts";

const hashOf = (document: ConfigDocument | null) =>
  createHash("sha256").update(canonicalJson(document)).digest("hex");

/** A version history in memory: every version of every document, in order. */
class History {
  readonly versions = new Map<DocumentKey, DocumentVersion[]>();
  latest = (key: DocumentKey) => this.versions.get(key)?.at(-1);
  version = (key: DocumentKey, version: number) => this.versions.get(key)?.[version - 1];
  write(versions: readonly DocumentVersion[]) {
    for (const version of versions) {
      const list = this.versions.get(version.key) ?? [];
      expect(version.version).toBe(list.length + 1);
      this.versions.set(version.key, [...list, version]);
    }
  }
  apply(id: string, edits: ChangeEdit[]) {
    const base = baseVersionsOf(edits, this.latest);
    if (!base.ok) return base;
    const written = versionsWrittenBy(
      { id, edits, baseVersions: base.baseVersions },
      this.latest,
      hashOf,
    );
    if (written.ok) this.write(written.versions);
    return written;
  }
}

describe("versions", () => {
  test("rolling back one change restores the prior content and keeps other changes", async () => {
    const documents = await exampleDocuments();
    const history = new History();
    history.apply(
      "seed",
      documents.map((document) => ({ op: "put", document })),
    );
    const coffee = documents.find((d) => d.id === "idc-coffee-afternoon-tea") as Campaign;
    const lunch = documents.find((d) => d.id === "idc-gd-lunch-qr") as Campaign;

    const first = history.apply("change-1", [
      {
        op: "put",
        document: {
          ...coffee,
          name: "Coffee, bigger budget",
          limits: { ...coffee.limits, totalBudgetMinor: 9_000_000 },
        },
      },
      {
        op: "put",
        document: { ...coffee, id: "idc-coffee-evening", name: "Coffee in the evening" },
      },
    ]);
    const second = history.apply("change-2", [
      { op: "put", document: { ...lunch, name: "Lunch, renamed" } },
    ]);
    if (!first.ok || !second.ok) throw new Error("setup failed");

    const undo = versionsUndoing(
      { id: "change-1", written: first.versions },
      "rollback-1",
      history.latest,
      history.version,
      hashOf,
    );
    if (!undo.ok) throw new Error(undo.message);
    history.write(undo.versions);

    expect(history.latest("campaign/idc-coffee-afternoon-tea")).toMatchObject({
      version: 3,
      document: coffee,
      contentHash: hashOf(coffee),
      changeId: "rollback-1",
    });
    // The campaign the change created is retired, and its identifier is never reused.
    expect(history.latest("campaign/idc-coffee-evening")?.document).toBeNull();
    expect(
      history.apply("change-3", [{ op: "put", document: { ...coffee, id: "idc-coffee-evening" } }]),
    ).toMatchObject({
      code: "id_reused",
    });
    // The other change stays.
    expect((history.latest("campaign/idc-gd-lunch-qr")!.document as Campaign).name).toBe(
      "Lunch, renamed",
    );
  });

  test("a rollback refuses to undo a later change to the same document", async () => {
    const [document] = await exampleDocuments();
    const history = new History();
    const created = history.apply("change-1", [{ op: "put", document: document! }]);
    history.apply("change-2", [
      { op: "put", document: { ...document!, name: "edited later" } as ConfigDocument },
    ]);
    if (!created.ok) throw new Error(created.message);
    expect(
      versionsUndoing(
        { id: "change-1", written: created.versions },
        "rollback",
        history.latest,
        history.version,
        hashOf,
      ),
    ).toMatchObject({ ok: false, code: "superseded" });
  });

  test("a change made against an older version is refused when it would take effect", async () => {
    const [document] = await exampleDocuments();
    const history = new History();
    history.apply("change-1", [{ op: "put", document: document! }]);
    const edits: ChangeEdit[] = [
      { op: "put", document: { ...document!, name: "mine" } as ConfigDocument },
    ];
    const base = baseVersionsOf(edits, history.latest);
    if (!base.ok) throw new Error(base.message);
    history.apply("change-2", [
      { op: "put", document: { ...document!, name: "theirs" } as ConfigDocument },
    ]);
    expect(
      versionsWrittenBy(
        { id: "change-3", edits, baseVersions: base.baseVersions },
        history.latest,
        hashOf,
      ),
    ).toMatchObject({
      code: "base_outdated",
    });
  });

  test("edits are checked: none, twice the same document, retiring what does not exist", async () => {
    const [document] = await exampleDocuments();
    const history = new History();
    expect(baseVersionsOf([], history.latest)).toMatchObject({ code: "empty_change" });
    expect(
      baseVersionsOf(
        [
          { op: "put", document: document! },
          { op: "put", document: document! },
        ],
        history.latest,
      ),
    ).toMatchObject({ code: "duplicate_edit" });
    expect(baseVersionsOf([{ op: "retire", key: "campaign/nope" }], history.latest)).toMatchObject({
      code: "document_not_found",
    });
  });
});

describe("rollout buckets", () => {
  propertyTest.prop([
    fc.string(),
    fc.integer({ min: 0, max: 10_000 }),
    fc.integer({ min: 0, max: 10_000 }),
  ])(
    "are sticky and nested: inside a smaller share means inside every larger one",
    (identity, shareA, shareB) => {
      const [small, large] = shareA <= shareB ? [shareA, shareB] : [shareB, shareA];
      expect(rolloutBucketOf(identity)).toBe(rolloutBucketOf(identity));
      if (isInRollout(identity, small)) expect(isInRollout(identity, large)).toBe(true);
    },
  );

  test("reach about their share of identities", () => {
    const identities = Array.from({ length: 50_000 }, (_, index) => `user-${index}`);
    const inside = identities.filter((identity) => isInRollout(identity, 1_000)).length;
    expect(inside / identities.length).toBeGreaterThan(0.09);
    expect(inside / identities.length).toBeLessThan(0.11);
  });
});

describe("judging a stage", () => {
  const plan: RolloutPlan = {
    stages: [
      { shareBps: 100, moneyAtRiskMaxMinor: 10_000, dwellMinMs: 60_000 },
      { shareBps: 10_000, moneyAtRiskMaxMinor: 1_000_000, dwellMinMs: 0 },
    ],
    toleranceBps: 2_500,
    paymentsMin: 1_000,
  };
  // Forecast: 2 fen per payment on average, 40 % of payments subsidised.
  const forecast = { subsidyPerPaymentMilliMinor: 2_000, subsidisedShareBps: 4_000 };
  const seen = (payments: number, subsidisedPayments: number, subsidyMinor: number) => ({
    payments,
    subsidisedPayments,
    subsidyMinor,
  });

  test("holds until the sample and the dwell are complete, then advances, then completes", () => {
    expect(judgeStage(plan, 0, 120_000, seen(999, 400, 200), forecast).verdict).toBe("hold");
    expect(judgeStage(plan, 0, 30_000, seen(1_000, 400, 2_000), forecast).verdict).toBe("hold");
    expect(judgeStage(plan, 0, 60_000, seen(1_000, 400, 2_000), forecast).verdict).toBe("advance");
    expect(judgeStage(plan, 1, 0, seen(5_000, 2_100, 11_000), forecast).verdict).toBe("complete");
  });

  test("aborts on a forecast mismatch beyond the tolerance, either way", () => {
    // The 2025-01-16 shape: far more per payment than forecast.
    expect(judgeStage(plan, 0, 0, seen(1_000, 400, 9_000), forecast).verdict).toBe(
      "abort_subsidy_mismatch",
    );
    expect(judgeStage(plan, 0, 0, seen(1_000, 400, 1_400), forecast).verdict).toBe(
      "abort_subsidy_mismatch",
    );
    expect(judgeStage(plan, 0, 0, seen(1_000, 990, 2_000), forecast).verdict).toBe(
      "abort_coverage_mismatch",
    );
    expect(judgeStage(plan, 0, 0, seen(1_000, 460, 2_400), forecast).verdict).not.toMatch(/^abort/);
  });

  test("judges each touched campaign on its own forecast once it has enough payments", () => {
    // The last stage (a ceiling that leaves room): the whole matches its forecast, and one small
    // campaign inside it grants ten times its own.
    const withCampaign = {
      ...forecast,
      byCampaign: [
        { campaignId: "small", subsidyPerPaymentMilliMinor: 20, subsidisedShareBps: 40 },
      ],
    };
    const tenTimes = {
      ...seen(100_000, 40_000, 200_000),
      byCampaign: { small: { subsidisedPayments: 400, subsidyMinor: 20_000 } },
    };
    expect(judgeStage(plan, 1, 0, tenTimes, withCampaign)).toMatchObject({
      verdict: "abort_campaign_mismatch",
      message: expect.stringContaining("campaign small"),
    });
    const asForecast = {
      ...tenTimes,
      byCampaign: { small: { subsidisedPayments: 400, subsidyMinor: 2_000 } },
    };
    expect(judgeStage(plan, 1, 0, asForecast, withCampaign).verdict).toBe("complete");
    // Too few of its payments, seen or expected, to tell: the campaign is not judged yet.
    const early = {
      ...seen(1_000, 400, 2_000),
      byCampaign: { small: { subsidisedPayments: 4, subsidyMinor: 200 } },
    };
    expect(judgeStage(plan, 1, 0, early, withCampaign).verdict).toBe("complete");
    // A campaign forecast to grant nothing that grants on enough payments is a mismatch.
    const none = {
      ...forecast,
      byCampaign: [{ campaignId: "small", subsidyPerPaymentMilliMinor: 0, subsidisedShareBps: 0 }],
    };
    expect(judgeStage(plan, 1, 0, asForecast, none).verdict).toBe("abort_campaign_mismatch");
  });

  test("aborts at once when the stage spends past its money at risk, whatever the sample", () => {
    expect(judgeStage(plan, 0, 0, seen(10, 10, 10_001), forecast).verdict).toBe(
      "abort_money_at_risk",
    );
  });

  test("a forecast of nothing tolerates nothing", () => {
    const nothing = { subsidyPerPaymentMilliMinor: 0, subsidisedShareBps: 0 };
    expect(judgeStage(plan, 0, 60_000, seen(1_000, 0, 0), nothing).verdict).toBe("advance");
    expect(judgeStage(plan, 0, 60_000, seen(1_000, 1, 1), nothing).verdict).toBe(
      "abort_subsidy_mismatch",
    );
  });

  test("no plan skips the staged rollout: one stage, a big first stage, a loose tolerance or a tiny sample are refused", () => {
    const defaults = defaultRolloutPlan(120_000);
    const refusedPlans: RolloutPlan[] = [
      { ...defaults, stages: [{ shareBps: 10_000, moneyAtRiskMaxMinor: 1_000, dwellMinMs: 0 }] },
      rolloutPlanWithShares([5_000, 10_000], 120_000),
      { ...defaults, toleranceBps: 5_001 },
      { ...defaults, paymentsMin: 99 },
      { ...defaults, stages: defaults.stages.map((stage) => ({ ...stage, dwellMinMs: 59_999 })) },
    ];
    for (const plan of refusedPlans) expect(checkRolloutPlan(plan)).not.toEqual([]);
    expect(checkRolloutPlan(rolloutPlanWithShares([100, 10_000], 120_000))).toEqual([]);
  });

  test("the default plan is 1 % → 10 % → 50 % → 100 % and passes its own checks", () => {
    const defaults = defaultRolloutPlan(120_000);
    expect(defaults.stages.map((stage) => stage.shareBps)).toEqual([100, 1_000, 5_000, 10_000]);
    expect(checkRolloutPlan(defaults)).toEqual([]);
    expect(
      checkRolloutPlan({ ...defaults, stages: [...defaults.stages].reverse() }).length,
    ).toBeGreaterThan(0);
  });
});

describe("effective campaign versions", () => {
  const campaigns = [
    { id: "a", template: "t" },
    { id: "b", template: "t" },
    { id: "c", template: "u" },
  ];

  test("a template edit gives every campaign using it a new version; others keep theirs", () => {
    const before = new Map<string, number>([
      ["campaign/a", 1],
      ["campaign/b", 3],
      ["campaign/c", 1],
      ["template/t", 1],
      ["template/u", 2],
    ]);
    const after = new Map(before).set("template/t", 2);
    const versionsBefore = effectiveCampaignVersions(campaigns, (key) => before.get(key as string));
    const versionsAfter = effectiveCampaignVersions(campaigns, (key) => after.get(key as string));
    expect(Object.fromEntries(versionsBefore)).toEqual({ a: 1, b: 3, c: 2 });
    expect(Object.fromEntries(versionsAfter)).toEqual({ a: 2, b: 4, c: 2 });
  });

  propertyTest.prop([fc.array(fc.constantFrom("campaign/a", "template/t"), { maxLength: 30 })])(
    "any sequence of edits to a campaign or its template only raises its version",
    (edits) => {
      const versions = new Map<string, number>([
        ["campaign/a", 1],
        ["template/t", 1],
      ]);
      let previous = 1;
      for (const key of edits) {
        versions.set(key, versions.get(key)! + 1);
        const current = effectiveCampaignVersions(campaigns.slice(0, 1), (name) =>
          versions.get(name as string),
        ).get("a")!;
        expect(current).toBe(previous + 1);
        previous = current;
      }
    },
  );
});
