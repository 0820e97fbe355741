/**
 * Rule families on configurations built in memory from examples/: each rule's trigger and its
 * absence, properties where one fits, the finding identity, and lint's speed at 1,000 campaigns.
 */

import { join } from "node:path";
import { fc, test as propertyTest } from "@fast-check/vitest";
import { beforeAll, describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config/load-config.ts";
import { readDisplayPromise } from "../../src/core/lint/display-promise.ts";
import { lintConfigSet } from "../../src/core/lint/lint-config-set.ts";
import { lintFindingKey, lintFindingsBlock } from "../../src/core/lint/lint-finding.ts";
import { looksLikeId } from "../../src/core/lint/rules/offer-unit-rules.ts";
import type { Campaign } from "../../src/core/model/campaign.ts";
import type { ConfigSet, EffectiveCampaign } from "../../src/core/model/config-set.ts";
import type { Offer } from "../../src/core/offers/registry.ts";
import { typicalAmountsFromTrafficModel } from "../../src/traffic/typical-amounts.ts";

let examples: ConfigSet;

beforeAll(async () => {
  const loaded = await loadConfig([join(import.meta.dirname, "..", "..", "examples")]);
  expect(loaded.findings).toEqual([]);
  examples = loaded.config;
});

function find(id: string): EffectiveCampaign {
  const found = examples.campaigns.find((effective) => effective.campaign.id === id);
  if (found === undefined) throw new Error(`no example campaign ${id}`);
  return found;
}

/** An effective campaign with parts of its campaign document and offer replaced. */
function variant(
  base: EffectiveCampaign,
  campaign: Partial<Campaign>,
  offer?: Offer,
): EffectiveCampaign {
  return {
    ...base,
    campaign: { ...base.campaign, ...campaign },
    ...(offer === undefined ? {} : { offer }),
  };
}

function withCampaigns(campaigns: readonly EffectiveCampaign[]): ConfigSet {
  return { ...examples, campaigns };
}

function codesOf(config: ConfigSet, context = {}): string[] {
  return lintConfigSet(config, {
    typicalAmountsMinor: typicalAmountsFromTrafficModel(),
    ...context,
  }).map((finding) => finding.code);
}

describe("offer bounds", () => {
  propertyTest.prop(
    [
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 1, max: 200_000 }),
      fc.integer({ min: 1, max: 200_000 }),
    ],
    { numRuns: 200 },
  )(
    "a percent offer is reported as reaching the payment exactly when the smallest payment in scope gets all of it",
    (rateBps, capMinor, minMinor) => {
      const base = find("pct-gd-electronics-online");
      const effective = variant(
        base,
        {
          scope: { ...base.campaign.scope, amountRange: { minMinor } },
          limits: { ...base.campaign.limits, perPaymentCapMinor: undefined } as Campaign["limits"],
        },
        { kind: "percent", rateBps, capMinor },
      );
      const reported = codesOf(withCampaigns([effective])).includes("lint.subsidy_reaches_payment");
      const givesAll = Math.min(Math.floor((minMinor * rateBps) / 10_000), capMinor) >= minMinor;
      expect(reported).toBe(givesAll);
    },
  );

  test("a cap above the envelope's maximum caps nothing; at the maximum it is fine", () => {
    const base = find("gov-sh-electronics-subsidy");
    const at = variant(
      base,
      { offer: { rateBps: 2000, capMinor: 20_000 } },
      { kind: "percent", rateBps: 2000, capMinor: 20_000 },
    );
    const above = variant(
      base,
      { offer: { rateBps: 2000, capMinor: 20_001 } },
      { kind: "percent", rateBps: 2000, capMinor: 20_001 },
    );
    expect(codesOf(withCampaigns([at]))).not.toContain("lint.percent_without_cap");
    expect(codesOf(withCampaigns([above]))).toContain("lint.percent_without_cap");
  });
});

describe("units", () => {
  test("a rate equal to the displayed percentage is a percentage written as basis points", () => {
    const base = find("pct-bj-restaurant-lunch");
    const effective = variant(
      base,
      { display: { title: "午餐8%优惠 最高减15元" } },
      { kind: "percent", rateBps: 8, capMinor: 1500 },
    );
    expect(codesOf(withCampaigns([effective]))).toContain("lint.rate_percent_as_bps");
  });

  propertyTest.prop([fc.integer({ min: 1, max: 2_000 })])(
    "fixed amounts inside the band are never fen-yuan confusions",
    (amountMinor) => {
      const base = find("idc-sd-fuel-station");
      const effective = variant(base, {}, { kind: "fixed", amountMinor });
      const codes = codesOf(withCampaigns([effective]));
      const inBand = amountMinor >= 10 && amountMinor <= 200;
      if (inBand) expect(codes).not.toContain("lint.amount_fen_yuan_confused");
      if (amountMinor < 10 && amountMinor * 100 <= 200)
        expect(codes).toContain("lint.amount_fen_yuan_confused");
    },
  );

  test("id-like numbers: phone and card shapes, not round budgets", () => {
    expect(looksLikeId(13_812_345_678)).toBe(true);
    expect(looksLikeId(6_222_021_234_567)).toBe(true);
    expect(looksLikeId(123_456_789)).toBe(true);
    expect(looksLikeId(300_000_000)).toBe(false);
    expect(looksLikeId(12_345_678)).toBe(false);
    expect(looksLikeId(100_000_000_000_000)).toBe(false);
  });

  test("display promises are read from Chinese and English phrasings", () => {
    expect(readDisplayPromise("上海餐饮消费补贴 85折最高减30元", "CNY")).toEqual({
      amountOffMinorMax: 3000,
      rateOffBpsMax: 1500,
      upTo: true,
      mentionsGovernment: true,
    });
    expect(readDisplayPromise("满50享8折", "CNY").rateOffBpsMax).toBe(2000);
    expect(readDisplayPromise("满100减10 满200减25", "CNY").amountOffMinorMax).toBe(2500);
    expect(readDisplayPromise("20% off, up to 5 yuan off", "CNY")).toMatchObject({
      rateOffBpsMax: 2000,
      amountOffMinorMax: 500,
      upTo: true,
    });
  });
});

describe("stacking", () => {
  test("two percentages meeting on one payment compound unless they share an exclusive group", () => {
    const base = find("pct-sh-dept-store-anniversary");
    const twin = variant(base, { id: "pct-sh-dept-store-twin", stacking: { priority: 1 } });
    expect(codesOf(withCampaigns([base, twin]))).toContain("lint.stacking_compounds");
    const grouped = variant(twin, { stacking: { ...base.campaign.stacking } });
    expect(codesOf(withCampaigns([base, grouped]))).not.toContain("lint.stacking_compounds");
    const elsewhere = variant(twin, { scope: { ...base.campaign.scope, regions: ["CN-BJ"] } });
    expect(codesOf(withCampaigns([base, elsewhere]))).not.toContain("lint.stacking_compounds");
  });
});

describe("template edits", () => {
  test("run only with the previous configuration, and name the campaigns that inherit", () => {
    const template = examples.templates.get("instant-discount")!;
    const edited = { ...template, offer: { kind: "fixed" as const, amountMinor: 150 } };
    const proposed: ConfigSet = {
      ...examples,
      templates: new Map([...examples.templates, ["instant-discount", edited]]),
      campaigns: examples.campaigns.map((effective) =>
        effective.template.id === "instant-discount" && effective.campaign.offer === undefined
          ? { ...effective, template: edited, offer: edited.offer }
          : effective,
      ),
    };
    expect(codesOf(proposed)).not.toContain("lint.template_edit_changes_amount");
    const findings = lintConfigSet(proposed, { previous: examples });
    const amount = findings.find((finding) => finding.code === "lint.template_edit_changes_amount");
    expect(amount?.campaignIds).toContain("idc-national-qr-everyday");
    expect(amount?.campaignIds).not.toContain("idc-bj-breakfast-qr"); // it overrides amountMinor
    // Campaigns that ended before the lint instant are not active any more.
    const later = lintConfigSet(proposed, { previous: examples, atMs: Date.UTC(2026, 5, 1) });
    expect(later.map((finding) => finding.code)).not.toContain("lint.template_edit_changes_amount");
  });
});

describe("findings", () => {
  test("identity is code, source and path; any error blocks, warnings alone do not", () => {
    const findings = lintConfigSet(examples, {});
    expect(lintFindingsBlock(findings)).toBe(false);
    expect(findings.length).toBeGreaterThan(0);
    const keys = findings.map(lintFindingKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys[0]).toBe(`${findings[0]!.code}|${findings[0]!.source}|${findings[0]!.path}`);
    expect(lintFindingsBlock([{ severity: "warning" }, { severity: "error" }])).toBe(true);
  });

  test("over the size limit, lint reports that alone", () => {
    const campaigns = new Array<EffectiveCampaign>(100_001).fill(examples.campaigns[0]!);
    expect(codesOf(withCampaigns(campaigns))).toEqual(["lint.config_too_large"]);
  });

  test("1,000 campaigns lint well under a second", () => {
    const campaigns = Array.from({ length: 1_000 }, (_, index) => {
      const base = examples.campaigns[index % examples.campaigns.length]!;
      return variant(base, { id: `${base.campaign.id}-${index}` });
    });
    const started = performance.now();
    lintConfigSet(withCampaigns(campaigns), {
      typicalAmountsMinor: typicalAmountsFromTrafficModel(),
      previous: examples,
    });
    const elapsedMs = performance.now() - started;
    expect(elapsedMs).toBeLessThan(1_000);
  });
});
