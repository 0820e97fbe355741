import { beforeAll, describe, expect, test } from "vitest";
import { diffChange } from "../../src/core/change/change-diff.ts";
import {
  assessRisk,
  DEFAULT_RISK_POLICY,
  offerRaise,
  raisedLimits,
  type SimulatedMoney,
  widenedScopeFields,
} from "../../src/core/change/change-risk.ts";
import type { Campaign } from "../../src/core/model/campaign.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import type { Envelope } from "../../src/core/model/envelope.ts";
import type { Template } from "../../src/core/model/template.ts";
import type { Offer } from "../../src/core/offers/registry.ts";
import { exampleDocuments, replaced, resolve } from "./change-fixtures.ts";

let documents: ConfigDocument[];
const flatMoney = { currentSubsidyPerHourMinor: 100_000, proposedSubsidyPerHourMinor: 100_000 };

beforeAll(async () => {
  documents = await exampleDocuments();
});

function find<K extends ConfigDocument["kind"]>(kind: K, id: string) {
  const document = documents.find((each) => each.kind === kind && each.id === id);
  if (document === undefined) throw new Error(`${kind}/${id} is not in the examples`);
  return document as Extract<ConfigDocument, { kind: K }>;
}

/** `null` stands for a change without a simulation. */
function assess(after: ConfigDocument[], money: SimulatedMoney | null = flatMoney) {
  const current = resolve(documents).campaigns;
  const proposed = resolve(after).campaigns;
  const diff = diffChange(documents, after, current, proposed);
  return {
    diff,
    risk: assessRisk(diff, current, proposed, money ?? undefined, DEFAULT_RISK_POLICY),
  };
}

describe("the semantic diff of a template edit", () => {
  test("lists every campaign whose effective offer changes, marked inherited, and no other", () => {
    const template = find("template", "instant-discount") as Template;
    const edited = { ...template, offer: { kind: "fixed", amountMinor: 150 } } as Template;
    const { diff } = assess(replaced(documents, edited));

    expect(diff.documents).toEqual([
      {
        key: "template/instant-discount",
        operation: "update",
        fields: [{ path: "offer.amountMinor", before: 50, after: 150 }],
      },
    ]);
    const inheriting = documents
      .filter((document): document is Campaign => document.kind === "campaign")
      .filter(
        (campaign) => campaign.template === "instant-discount" && campaign.offer === undefined,
      )
      .map((campaign) => campaign.id)
      .sort();
    expect(inheriting.length).toBeGreaterThan(3);
    expect(diff.campaigns.map((effect) => effect.campaignId)).toEqual(inheriting);
    for (const effect of diff.campaigns) {
      expect(effect.fields).toEqual([
        {
          field: "offer",
          before: { kind: "fixed", amountMinor: 50 },
          after: { kind: "fixed", amountMinor: 150 },
          inherited: true,
        },
      ]);
    }
  });

  test("a campaign edited directly shows its own fields as not inherited", () => {
    const campaign = find("campaign", "idc-coffee-afternoon-tea");
    const edited: Campaign = { ...campaign, offer: { amountMinor: 120 } };
    const { diff } = assess(replaced(documents, edited));
    expect(diff.campaigns).toEqual([
      expect.objectContaining({
        campaignId: campaign.id,
        operation: "change",
        fields: [expect.objectContaining({ field: "offer", inherited: false })],
      }),
    ]);
  });
});

describe("risk", () => {
  test("a template edit that fans out to campaigns is high-risk and needs two reviewers", () => {
    const template = find("template", "instant-discount") as Template;
    const edited = { ...template, funding: { source: "bank" } } as Template;
    const { risk } = assess(replaced(documents, edited));
    expect(risk.level).toBe("high");
    expect(risk.approvalsRequired).toBe(2);
    expect(risk.autoApprovable).toBe(false);
    expect(risk.reasons.map((reason) => reason.code)).toContain("template_fan_out");
    expect(risk.reasons.map((reason) => reason.code)).toContain("new_funding");
  });

  test("an envelope edit is high-risk even when it changes no money", () => {
    const envelope = find("envelope", documents.find((d) => d.kind === "envelope")!.id) as Envelope;
    const edited: Envelope = {
      ...envelope,
      currencies: envelope.currencies.map((bounds) => ({
        ...bounds,
        perPaymentMaxMinor: bounds.perPaymentMaxMinor + 100,
      })),
    };
    const { risk } = assess(replaced(documents, edited));
    expect(risk.level).toBe("high");
    expect(risk.reasons.map((reason) => reason.code)).toEqual(["envelope_changed"]);
  });

  test("a campaign reaching a new region is high-risk", () => {
    const campaign = find("campaign", "idc-coffee-afternoon-tea");
    const region = campaign.scope.regions.includes("CN-XZ") ? "CN-QH" : "CN-XZ";
    const edited: Campaign = {
      ...campaign,
      scope: { ...campaign.scope, regions: [...campaign.scope.regions, region] },
    };
    const { risk } = assess(replaced(documents, edited));
    expect(risk.level).toBe("high");
    expect(risk.reasons).toContainEqual({
      code: "new_region",
      message: `campaign ${campaign.id} adds ${region}`,
    });
  });

  test("spend growth past the threshold is high-risk; a small delta under it is auto-approvable", () => {
    const campaign = find("campaign", "idc-coffee-afternoon-tea");
    const narrowed: Campaign = {
      ...campaign,
      limits: { ...campaign.limits, totalBudgetMinor: campaign.limits.totalBudgetMinor - 1 },
    };
    const after = replaced(documents, narrowed);
    const growth = assess(after, {
      currentSubsidyPerHourMinor: 100_000,
      proposedSubsidyPerHourMinor: 120_001,
    }).risk;
    expect(growth.level).toBe("high");
    expect(growth.reasons.map((reason) => reason.code)).toContain("spend_growth");

    const small = assess(after, {
      currentSubsidyPerHourMinor: 100_000,
      proposedSubsidyPerHourMinor: 100_500,
    }).risk;
    expect(small).toEqual({
      level: "low",
      reasons: [],
      approvalsRequired: 1,
      autoApprovable: true,
    });
    expect(assess(after, null).risk.reasons).toEqual([
      { code: "simulation_missing", message: "the change has no simulation" },
    ]);
  });

  test("raising a budget or widening a scope is low-risk but never auto-approved", () => {
    const campaign = find("campaign", "idc-coffee-afternoon-tea");
    const raised: Campaign = {
      ...campaign,
      limits: { ...campaign.limits, totalBudgetMinor: campaign.limits.totalBudgetMinor * 2 },
    };
    const { risk } = assess(replaced(documents, raised));
    expect(risk.level).toBe("low");
    expect(risk.autoApprovable).toBe(false);
    expect(risk.reasons.map((reason) => reason.code)).toEqual(["limit_raised"]);
  });

  test("a new campaign is low-risk but never auto-approved, however little money it moves", () => {
    // A copy of an existing campaign under a new id: no new scenario, region or funding, and the
    // money (flat here) far below the policy's threshold. Turning money on still needs a reviewer.
    const copy: Campaign = {
      ...find("campaign", "idc-coffee-afternoon-tea"),
      id: "idc-coffee-copy",
    };
    const { risk } = assess([...documents, copy]);
    expect(risk).toEqual({
      level: "low",
      reasons: [{ code: "campaign_added", message: "campaign idc-coffee-copy starts granting" }],
      approvalsRequired: 1,
      autoApprovable: false,
    });
  });

  test("raising a campaign's offer is low-risk but never auto-approved, even with no money moving", () => {
    const campaign = find("campaign", "idc-coffee-afternoon-tea");
    const raised: Campaign = { ...campaign, offer: { amountMinor: 120 } };
    const { risk } = assess(replaced(documents, raised));
    expect(risk).toMatchObject({ level: "low", autoApprovable: false });
    expect(risk.reasons).toEqual([
      {
        code: "offer_raised",
        message: `campaign ${campaign.id}'s offer gives up to 120 instead of 50 minor units on a payment of 120`,
      },
    ]);
    // Lowering it is the easy direction: nothing holds it back.
    const lowered: Campaign = { ...campaign, offer: { amountMinor: 30 } };
    expect(assess(replaced(documents, lowered)).risk.autoApprovable).toBe(true);
  });

  test("a raise a per-payment cap holds today is still a raise, and the reason says the cap holds it", () => {
    const campaign = find("campaign", "idc-national-qr-everyday");
    expect(campaign.limits.perPaymentCapMinor).toBe(50);
    const raised: Campaign = { ...campaign, offer: { amountMinor: 100 } };
    const { risk } = assess(replaced(documents, raised));
    expect(risk.autoApprovable).toBe(false);
    expect(risk.reasons).toEqual([
      {
        code: "offer_raised",
        message:
          "campaign idc-national-qr-everyday's offer gives up to 100 instead of 50 minor units on a payment of 100; its per-payment cap of 50 minor units holds it where it was, so the simulated money does not move",
      },
    ]);
  });

  test("offerRaise compares what offers give, kind by kind and across kinds", () => {
    const fixed = (amountMinor: number): Offer => ({ kind: "fixed", amountMinor });
    const percent = (rateBps: number, capMinor: number): Offer => ({
      kind: "percent",
      rateBps,
      capMinor,
    });
    const random = (minMinor: number, maxMinor: number): Offer => ({
      kind: "random",
      minMinor,
      maxMinor,
    });
    const threshold = (...tiers: [number, number][]): Offer => ({
      kind: "threshold",
      tiers: tiers.map(([minSpendMinor, offMinor]) => ({ minSpendMinor, offMinor })),
    });

    expect(offerRaise(fixed(50), fixed(100))).toEqual({
      amountMinor: 100,
      beforeMinor: 50,
      afterMinor: 100,
    });
    expect(offerRaise(fixed(100), fixed(50))).toBeUndefined();
    expect(offerRaise(fixed(50), fixed(50))).toBeUndefined();
    // A per-payment cap of 50 holds a doubled fixed offer; one of 80 does not.
    expect(offerRaise(fixed(50), fixed(100), { beforeMinor: 50, afterMinor: 50 })).toBeUndefined();
    expect(offerRaise(fixed(50), fixed(100), { beforeMinor: 50, afterMinor: 80 })).toEqual({
      amountMinor: 80,
      beforeMinor: 50,
      afterMinor: 80,
    });

    // A higher rate under the same cap gives more only below the cap, and is found there.
    expect(offerRaise(percent(1_000, 100), percent(2_000, 100))).toEqual({
      amountMinor: 499,
      beforeMinor: 49,
      afterMinor: 99,
    });
    expect(offerRaise(percent(1_000, 100), percent(1_000, 200))).toMatchObject({
      beforeMinor: 100,
      afterMinor: 200,
    });
    expect(offerRaise(percent(2_000, 100), percent(1_000, 100))).toBeUndefined();
    // Tiny caps: 10 % capped at 1 reaches it at 10 minor units, 15 % at 7; 7..9 get more.
    expect(offerRaise(percent(1_000, 1), percent(1_500, 1))).toMatchObject({
      beforeMinor: 0,
      afterMinor: 1,
    });

    // A random offer whose minimum rises gives more on average at the same maximum.
    expect(offerRaise(random(10, 100), random(60, 100))).toMatchObject({
      beforeMinor: 10,
      afterMinor: 60,
    });
    expect(offerRaise(random(10, 100), random(5, 90))).toBeUndefined();

    // A lower threshold is a raise; a higher one is a lowering.
    expect(offerRaise(threshold([10_000, 1_000]), threshold([5_000, 1_000]))).toEqual({
      amountMinor: 5_000,
      beforeMinor: 0,
      afterMinor: 1_000,
    });
    expect(offerRaise(threshold([5_000, 1_000]), threshold([10_000, 1_000]))).toBeUndefined();
    expect(
      offerRaise(threshold([5_000, 500]), threshold([5_000, 500], [20_000, 3_000])),
    ).toMatchObject({ beforeMinor: 500, afterMinor: 3_000 });

    // Across kinds: 0.50 off becoming 20 % off (capped at 1,000 yuan) is a raise on big payments.
    expect(offerRaise(fixed(50), percent(2_000, 100_000))).toEqual({
      amountMinor: 500_000,
      beforeMinor: 50,
      afterMinor: 100_000,
    });
    // 1 % capped at 0.30 never gives more than 0.50 off.
    expect(offerRaise(fixed(50), percent(100, 30))).toBeUndefined();
  });

  test("widenedScopeFields and raisedLimits see additions, removals and looser ranges", () => {
    expect(
      widenedScopeFields(
        { regions: ["CN-SH"], merchantCategories: ["5812"], amountRange: { minMinor: 100 } },
        { regions: ["CN-SH"], amountRange: { minMinor: 50 } },
      ),
    ).toEqual(["merchantCategories", "amountRange"]);
    expect(
      widenedScopeFields(
        { regions: ["CN-SH"], segments: ["student", "senior"] },
        { regions: ["CN-SH"], segments: ["student"] },
      ),
    ).toEqual([]);
    expect(
      raisedLimits(
        { totalBudgetMinor: 100, dailyBudgetMinor: 10, perUser: { countPerDay: 1 } },
        { totalBudgetMinor: 100, perUser: { countPerDay: 2 } },
      ),
    ).toEqual(["dailyBudgetMinor", "perUser.countPerDay"]);
  });

  test("a template that allows more is high-risk; one that allows less is not", () => {
    const template = find("template", "instant-discount") as Template;
    const bands = template.bands!;
    const wider = {
      ...template,
      bands: { ...bands, amountMinor: { min: 10, max: 20_000 } },
    } as Template;
    expect(assess(replaced(documents, wider)).risk.reasons.map((reason) => reason.code)).toEqual([
      "template_widened",
    ]);
    const unbanded = { ...template, bands: undefined } as Template;
    expect(assess(replaced(documents, unbanded)).risk.level).toBe("high");
    const narrower = {
      ...template,
      bands: { ...bands, amountMinor: { min: 10, max: 199 } },
    } as Template;
    // Narrower bands move no money and allow less: nothing to hold them back for.
    expect(assess(replaced(documents, narrower)).risk.reasons).toEqual([]);
  });

  test("a campaign that runs longer or at more hours is never auto-approved; a shorter one is", () => {
    const campaign = find("campaign", "idc-coffee-afternoon-tea");
    const schedule = campaign.schedule;
    const longer: Campaign = { ...campaign, schedule: { ...schedule, end: "2027-01-01T00:00" } };
    expect(assess(replaced(documents, longer)).risk).toMatchObject({
      level: "low",
      autoApprovable: false,
      reasons: [expect.objectContaining({ code: "schedule_widened" })],
    });
    // The afternoon-tea campaign runs 14:00-17:00; without its window it runs all day.
    expect(schedule.daily).toBeDefined();
    const allDay: Campaign = { ...campaign, schedule: { ...schedule, daily: undefined } };
    expect(assess(replaced(documents, allDay)).risk.reasons.map((reason) => reason.code)).toEqual([
      "schedule_widened",
    ]);
    const shorter: Campaign = { ...campaign, schedule: { ...schedule, end: "2025-06-01T00:00" } };
    expect(assess(replaced(documents, shorter)).risk.autoApprovable).toBe(true);
  });
});
