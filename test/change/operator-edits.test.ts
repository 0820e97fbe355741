import { beforeAll, describe, expect, test } from "vitest";
import { loweredLimits, pausedCampaign } from "../../src/core/change/operator-edits.ts";
import type { Campaign } from "../../src/core/model/campaign.ts";
import type { Program } from "../../src/core/model/program.ts";
import { exampleDocuments } from "./change-fixtures.ts";

let coffee: Campaign;
let program: Program;

beforeAll(async () => {
  const documents = await exampleDocuments();
  coffee = documents.find((document) => document.id === "idc-coffee-afternoon-tea") as Campaign;
  program = documents.find((document) => document.kind === "program") as Program;
});

describe("what counts as lowering limits", () => {
  test("lower budgets, and a limit that did not exist, are a lowering", () => {
    const lowered: Campaign = {
      ...coffee,
      limits: {
        ...coffee.limits,
        totalBudgetMinor: coffee.limits.totalBudgetMinor - 1,
        perUser: { ...coffee.limits.perUser, countPerDay: 1 },
      },
    };
    const result = loweredLimits(coffee, lowered);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.lowered.map((limit) => limit.field)).toContain("limits.totalBudgetMinor");
      expect(result.lowered.find((limit) => limit.field === "limits.totalBudgetMinor")).toEqual({
        field: "limits.totalBudgetMinor",
        beforeMinor: coffee.limits.totalBudgetMinor,
        afterMinor: coffee.limits.totalBudgetMinor - 1,
      });
    }
    expect(loweredLimits(program, { ...program, budgetMinor: program.budgetMinor - 100 }).ok).toBe(
      true,
    );
  });

  test.each<[string, (campaign: Campaign) => Campaign]>([
    [
      "a raised budget",
      (c) => ({ ...c, limits: { ...c.limits, totalBudgetMinor: c.limits.totalBudgetMinor + 1 } }),
    ],
    [
      "a removed daily budget",
      (c) => ({ ...c, limits: { ...c.limits, dailyBudgetMinor: undefined } }),
    ],
    [
      "a lowered budget with a new offer",
      (c) => ({ ...c, offer: { amountMinor: 200 }, limits: { ...c.limits, totalBudgetMinor: 1 } }),
    ],
    [
      "a lowered budget with a wider scope",
      (c) => ({
        ...c,
        scope: { ...c.scope, regions: [...c.scope.regions, "CN-XZ"] },
        limits: { ...c.limits, totalBudgetMinor: 1 },
      }),
    ],
    [
      "a changed refund policy",
      (c) => ({ ...c, limits: { ...c.limits, totalBudgetMinor: 1, refundRestores: "nothing" } }),
    ],
    ["nothing lowered", (c) => ({ ...c })],
  ])("%s is not a lowering", (_name, edit) => {
    const before: Campaign = { ...coffee, limits: { ...coffee.limits, dailyBudgetMinor: 1_000 } };
    expect(loweredLimits(before, edit(before))).toMatchObject({
      ok: false,
      code: "not_a_lowering",
    });
  });

  test("a template or the envelope is never lowered by an operator", async () => {
    const documents = await exampleDocuments();
    const template = documents.find((document) => document.kind === "template")!;
    expect(loweredLimits(template, template)).toMatchObject({ code: "not_a_lowering" });
  });
});

describe("what counts as a pause", () => {
  test("paused on, nothing else: a pause; anything more, or a campaign paused already, is not", () => {
    expect(pausedCampaign(coffee, { ...coffee, paused: true })).toEqual({ ok: true });
    expect(pausedCampaign(coffee, { ...coffee, paused: true, name: "renamed" })).toMatchObject({
      code: "not_a_pause",
    });
    expect(pausedCampaign({ ...coffee, paused: true }, { ...coffee, paused: true })).toMatchObject({
      code: "not_a_pause",
    });
    expect(pausedCampaign(coffee, coffee)).toMatchObject({ code: "not_a_pause" });
    expect(pausedCampaign(program, program)).toMatchObject({ code: "not_a_pause" });
  });
});
