/**
 * The real assessment (validation, resolution, lint, simulation) on the examples, through the
 * change service: a template edit shows its lint warning and its money, and the 2025-01-16 edit
 * is blocked.
 */
import { beforeEach, describe, expect, test } from "vitest";
import { lintAndSimulate } from "../../src/control/assess-proposal.ts";
import { ChangeService } from "../../src/control/change-service.ts";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../../src/control/memory-change-store.ts";
import type { Principal } from "../../src/core/change/change-request.ts";
import type { Campaign } from "../../src/core/model/campaign.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import type { Template } from "../../src/core/model/template.ts";
import { TrafficGenerator } from "../../src/traffic/traffic-generator.ts";
import { typicalAmountsFromTrafficModel } from "../../src/traffic/typical-amounts.ts";
import { exampleDocuments } from "../change/change-fixtures.ts";
import { TWO_STAGES } from "./rollout-helpers.ts";

const ana: Principal = { id: "ana", roles: ["author"] };
const rui: Principal = { id: "rui", roles: ["reviewer"] };
const mei: Principal = { id: "mei", roles: ["reviewer"] };
const ops: Principal = { id: "ops", roles: ["operator"] };

// 14:40 Beijing time on a weekday, when the 2025-01-16 template edit shipped.
const START_MS = Date.parse("2025-01-16T06:40:00.000Z");

function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

let service: ChangeService;
let documents: ConfigDocument[];

beforeEach(async () => {
  const audit = new MemoryAuditLogStore();
  service = new ChangeService({
    store: new MemoryChangeStore(audit),
    assess: lintAndSimulate({
      payments: () => {
        const created = TrafficGenerator.create({
          seed: 7,
          tps: 200,
          seconds: 60,
          startMs: START_MS,
        });
        if (!created.ok) throw new Error("traffic options");
        return created.generator;
      },
      currency: "CNY",
      sample: "synthetic traffic for the test",
      typicalAmountsMinor: typicalAmountsFromTrafficModel(),
      randomSeed: 1,
      nowMs: () => START_MS,
    }),
    now: () => new Date(START_MS).toISOString(),
  });
  documents = await exampleDocuments();
  const seed = ok(
    await service.create(
      ana,
      "import the examples",
      documents.map((document) => ({ op: "put", document })),
    ),
  );
  // The examples lint clean of errors; their warnings are acknowledged once, at import.
  const refused = await service.submit(ana, seed.change.id, []);
  expect(refused).toMatchObject({ ok: false, code: "warnings_unacknowledged" });
  const warnings = [...(refused.ok ? "" : refused.message).matchAll(/lint\.[a-z_]+\|[^,\s]+/g)];
  expect(warnings.length).toBeGreaterThan(0);
  ok(
    await service.submit(
      ana,
      seed.change.id,
      warnings.map(([key]) => ({
        findingKey: key,
        reason: "national campaigns, reviewed at import",
        byId: "ana",
      })),
    ),
  );
  ok(await service.approve(rui, seed.change.id, seed.change.contentHash));
  ok(await service.approve(mei, seed.change.id, seed.change.contentHash));
  ok(await service.startRollout(ops, seed.change.id, TWO_STAGES));
});

describe("submitting through lint and simulation", () => {
  test("the seed was judged on its money: everything it grants is new", async () => {
    const seed = (await service.show("change-1"))!;
    expect(seed.assessment?.currentSubsidyPerHourMinor).toBe(0);
    expect(seed.assessment?.proposedSubsidyPerHourMinor).toBeGreaterThan(0);
    expect(seed.assessment?.forecast?.subsidisedShareBps).toBeGreaterThan(0);
  });

  test("a template amount edit carries its lint warning, its fan-out and the money it moves", async () => {
    const template = documents.find((document) => document.id === "instant-discount") as Template;
    const edited = { ...template, offer: { kind: "fixed", amountMinor: 150 } } as Template;
    const created = ok(
      await service.create(ana, "routine discount to 1.50", [{ op: "put", document: edited }]),
    );
    const refused = await service.submit(ana, created.change.id, []);
    expect(refused).toMatchObject({ code: "warnings_unacknowledged" });
    const key = "lint.template_edit_changes_amount|template/instant-discount|offer";
    expect(refused.ok ? "" : refused.message).toContain(key);

    const submitted = ok(
      await service.submit(ana, created.change.id, [
        { findingKey: key, reason: "marketing wants a stronger routine discount", byId: "ana" },
      ]),
    );
    const assessment = submitted.change.assessment!;
    expect(assessment.proposedSubsidyPerHourMinor).toBeGreaterThan(
      assessment.currentSubsidyPerHourMinor!,
    );
    expect(assessment.simulation?.byScenario.length).toBeGreaterThan(0);
    expect(assessment.risk.level).toBe("high");
    expect(assessment.risk.reasons.map((reason) => reason.code)).toContain("template_fan_out");
    expect(submitted.change.state).toBe("in_review");
  });

  test("the 2025-01-16 template edit is blocked at lint, with the codes that say why", async () => {
    const template = documents.find((document) => document.id === "instant-discount") as Template;
    const incident = {
      ...template,
      offer: { kind: "percent", rateBps: 2_000, capMinor: 100_000 },
      bands: undefined,
      funding: { source: "government", programId: "sh-consumption-2025" },
      label: "government_subsidy",
    } as Template;
    const created = ok(
      await service.create(ana, "routine template update", [{ op: "put", document: incident }]),
    );
    const refused = await service.submit(ana, created.change.id, []);
    expect(refused).toMatchObject({ ok: false, code: "lint_errors" });
    const message = refused.ok ? "" : refused.message;
    expect(message).toContain("lint.template_edit_changes_offer_kind");
    expect(message).toContain("lint.template_edit_changes_funding");
  });

  test("a finding the active configuration has already is the change's own on a document it edits", async () => {
    const everyday = documents.find(
      (document) => document.id === "idc-national-qr-everyday",
    ) as Campaign;
    const untouched = ok(
      await service.create(ana, "another campaign's name", [
        {
          op: "put",
          document: {
            ...(documents.find((document) => document.id === "idc-gd-lunch-qr") as Campaign),
            name: "Lunch",
          },
        },
      ]),
    );
    // Leaving the national campaign alone: its standing warning is not this change's to answer.
    expect((await service.submit(ana, untouched.change.id, [])).ok).toBe(true);
    const edited = ok(
      await service.create(ana, "rename", [
        { op: "put", document: { ...everyday, name: "Everyday QR" } },
      ]),
    );
    const refused = await service.submit(ana, edited.change.id, []);
    expect(refused).toMatchObject({ code: "warnings_unacknowledged" });
    expect(refused.ok ? "" : refused.message).toContain(
      "lint.scope_everything|campaign/idc-national-qr-everyday|scope",
    );
  });

  test("doubling the everyday QR offer behind its 0.50 cap moves no money and is not approved by policy", async () => {
    const everyday = documents.find(
      (document) => document.id === "idc-national-qr-everyday",
    ) as Campaign;
    // The campaign inherits 0.50 yuan off and caps every payment at 0.50 yuan itself.
    expect(everyday.offer).toBeUndefined();
    expect(everyday.limits.perPaymentCapMinor).toBe(50);
    const acknowledged = [
      {
        findingKey: "lint.scope_everything|campaign/idc-national-qr-everyday|scope",
        reason: "the nationwide scope is the campaign's purpose",
        byId: "ana",
      },
    ];
    const submit = async (title: string, document: Campaign) => {
      const created = ok(await service.create(ana, title, [{ op: "put", document }]));
      return ok(await service.submit(ana, created.change.id, acknowledged)).change;
    };
    const everydayForecast = (change: Awaited<ReturnType<typeof submit>>) =>
      change.assessment?.forecast?.byCampaign?.find((row) => row.campaignId === everyday.id);

    const doubled = await submit("everyday QR 1.00", { ...everyday, offer: { amountMinor: 100 } });
    const money = doubled.assessment!;
    // The cap binds on every payment: the simulated money is truly the same on both sides...
    expect(money.proposedSubsidyPerHourMinor).toBe(money.currentSubsidyPerHourMinor);
    const held = everydayForecast(doubled)!;
    expect(held.subsidisedShareBps).toBeGreaterThan(0);
    // ...0.50 yuan per subsidised payment (milli-minor per payment over the share subsidised).
    expect((held.subsidyPerPaymentMilliMinor * 10) / held.subsidisedShareBps).toBeCloseTo(50, 0);
    // ...but the offer was raised, and raising a subsidy is never approved by the policy alone.
    expect(money.risk).toMatchObject({ level: "low", autoApprovable: false });
    expect(money.risk.reasons).toEqual([
      {
        code: "offer_raised",
        message: expect.stringContaining("per-payment cap of 50 minor units holds it"),
      },
    ]);
    expect(doubled.state).toBe("in_review");
    expect(doubled.approvals).toEqual([]);

    // With the cap raised as well, the evaluator reads the new amount: the money doubles.
    const uncapped = await submit("everyday QR 1.00, cap 1.00", {
      ...everyday,
      offer: { amountMinor: 100 },
      limits: { ...everyday.limits, perPaymentCapMinor: 100 },
    });
    const freed = everydayForecast(uncapped)!;
    expect(freed.subsidisedShareBps).toBe(held.subsidisedShareBps);
    expect(freed.subsidyPerPaymentMilliMinor / held.subsidyPerPaymentMilliMinor).toBeCloseTo(2, 2);
    expect(uncapped.assessment!.proposedSubsidyPerHourMinor).toBeGreaterThan(
      uncapped.assessment!.currentSubsidyPerHourMinor! + 50_000,
    );
    expect(uncapped.assessment!.risk.reasons.map((reason) => reason.code)).toEqual([
      "offer_raised",
      "limit_raised",
      "money_delta_over_threshold",
    ]);
    expect(uncapped.state).toBe("in_review");
  });

  test("a change the sample never exercises is not approved by policy (a breakfast offer on afternoon traffic)", async () => {
    const breakfast = documents.find(
      (document) => document.id === "idc-bj-breakfast-qr",
    ) as Campaign;
    // Inside its template's band (up to 2 yuan), and 06:30-09:30 only; the sample is 14:40.
    const doubled: Campaign = { ...breakfast, offer: { amountMinor: 200 } };
    const created = ok(
      await service.create(ana, "breakfast 2 yuan", [{ op: "put", document: doubled }]),
    );
    const submitted = ok(await service.submit(ana, created.change.id, []));
    expect(submitted.change.assessment?.risk.reasons).toEqual([
      expect.objectContaining({ code: "offer_raised" }),
      expect.objectContaining({ code: "simulation_uninformative" }),
    ]);
    expect(submitted.change.state).toBe("in_review");
  });
});
