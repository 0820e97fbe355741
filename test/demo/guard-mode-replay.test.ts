/**
 * Guard mode's 2025-01-16 replay (issue 9): the external naive engine proposes its subsidy for
 * every payment and Bursar checks each one. At a small scale (500 payments/s, a minute after the
 * edit), every answer is read as it is given:
 * - protected scenarios and individual payees get nothing, though the engine proposed for them;
 * - the incident's original edit is refused outright (its government funding is outside the
 *   programme or the registration); the variant is clamped to the registered maximum, trips
 *   within the target, is killed as `ext:<campaignRef>` in every guard process and refused
 *   `guard.killed` afterwards; its incident has a severity, a timeline and an impact report that
 *   accounts exactly what was allowed;
 * - an edit beyond the envelope (50 % off) is clamped to the envelope's bounds;
 * - a run stops being checked once nothing more can be allowed, and stopping changes no figure;
 * - the same seed gives the same figures, in worker threads or on one thread.
 * And at the defaults (seed 20250116, 10,000 payments/s, five minutes), the guard issue's targets.
 */
import { beforeAll, describe, expect, test } from "vitest";
import type { ProposalCheck } from "../../src/core/guard/proposal-check.ts";
import type { Proposal } from "../../src/core/guard/proposal-input.ts";
import type { RecordedCheck } from "../../src/core/ledger/checked-subsidies.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import type { Envelope } from "../../src/core/model/envelope.ts";
import type { Payment } from "../../src/core/model/payment.ts";
import type { Template } from "../../src/core/model/template.ts";
import { type GuardModeReplay, runGuardModeReplay } from "../../src/demo/guard-mode-replay.ts";
import { INCIDENT_TEMPLATE_ID } from "../../src/demo/incident-change.ts";
import { REPLAY_DEFAULTS } from "../../src/demo/incident-replay.ts";
import { TRAFFIC_START_MS_DEFAULT } from "../../src/traffic/traffic-options.ts";
import { expectContractShape, expectTargetsMet, replayExamples } from "./replay-fixtures.ts";

const CHANGE_AT_MS = TRAFFIC_START_MS_DEFAULT;
const SMALL = { seed: 3, tps: 500, seconds: 60 } as const;

interface Checked {
  readonly run: 0 | 1;
  readonly payment: Payment;
  readonly proposals: readonly Proposal[];
  readonly check: ProposalCheck | RecordedCheck;
}

/** Runs the replay and keeps every check made after the edit. */
async function replayWithChecks(
  options: Partial<Parameters<typeof runGuardModeReplay>[0]> = {},
): Promise<{ replay: GuardModeReplay; checks: Checked[] }> {
  const checks: Checked[] = [];
  const replay = await runGuardModeReplay({
    ...SMALL,
    examples: await replayExamples(),
    ...options,
    threads: false,
    onChecked: (run, payment, proposals, check) => {
      if (payment.atMs < CHANGE_AT_MS) return;
      checks.push({
        run,
        payment,
        proposals: proposals.map((proposal) => ({ ...proposal })),
        check,
      });
    },
  });
  return { replay, checks };
}

async function protectedScenarios(): Promise<ReadonlySet<string>> {
  const envelope = (await replayExamples()).find(
    (document): document is Envelope => document.kind === "envelope",
  )!;
  return new Set(envelope.protectedScenarios);
}

describe("guard mode's replay at a small scale", () => {
  let replay: GuardModeReplay;
  let checks: Checked[];
  let json: GuardModeReplay["json"];
  let isProtected: ReadonlySet<string>;
  beforeAll(async () => {
    ({ replay, checks } = await replayWithChecks());
    json = replay.json;
    isProtected = await protectedScenarios();
  }, 120_000);

  test("the JSON has the replay's contract shape, with no lint: the edit never reached Bursar", () => {
    expectContractShape(json);
    expect(json).toMatchObject({ seed: 3, tps: 500, simulatedSeconds: 60 });
    expect(json.guarded.blockedAtLint).toBe(false);
    expect(json.guarded.lintCodes).toEqual([]);
  });

  test("protected scenarios and individual payees get nothing, though the engine proposed for them", () => {
    const refusedProtected = checks.filter(
      ({ payment, proposals }) => isProtected.has(payment.scenario) && proposals.length > 0,
    );
    const refusedIndividual = checks.filter(
      ({ payment, proposals }) => payment.payeeKind === "individual" && proposals.length > 0,
    );
    // The original edit's engine proposes on every scenario, so both happen.
    expect(refusedProtected.length).toBeGreaterThan(1_000);
    expect(refusedIndividual.length).toBeGreaterThan(100);
    for (const { check } of [...refusedProtected, ...refusedIndividual]) {
      expect(check.allowedTotalMinor).toBe(0);
      expect(check.answers.every((answer) => answer.outcome === "refused")).toBe(true);
    }
    expect(
      refusedProtected.every(({ check }) => check.reason === "envelope.protected_scenario"),
    ).toBe(true);
    expect(json.unguarded.protectedScenarioPayments).toBeGreaterThan(0);
    expect(json.guarded.forcedAsIs.protectedScenarioPayments).toBe(0);
    expect(json.guarded.forced.protectedScenarioPayments).toBe(0);
  });

  test("the original edit is refused outright: government money outside the programme or the registration", () => {
    const original = checks.filter(({ run }) => run === 0);
    expect(original.some(({ proposals }) => proposals.length > 0)).toBe(true);
    expect(original.every(({ check }) => check.allowedTotalMinor === 0)).toBe(true);
    const reasons = new Set(replay.forcedAsIs.checks.refusedBy.map((entry) => entry.code));
    for (const code of [
      "envelope.program_mismatch",
      "envelope.protected_scenario",
      "registration.funding_mismatch",
    ]) {
      expect(reasons).toContain(code);
    }
    expect(json.guarded.forcedAsIs).toMatchObject({
      payments: 0,
      subsidyMinor: 0,
      detectionMs: null,
    });
    expect(replay.forcedAsIs.tripsBeforeChange).toBe(0);
    // Nothing of it can ever be allowed, so the replay stopped checking it.
    expect(replay.forcedAsIs.settled?.reason).toBe("refused_by_registration");
    expect(replay.forced.settled?.reason).toBe("killed_everywhere");
  });

  test("stopping a settled run changes none of its figures", async () => {
    const { replay: checkedToTheEnd, checks: allChecks } = await replayWithChecks({
      stopWhenSettled: false,
    });
    expect(checkedToTheEnd.json).toEqual(json);
    expect(checkedToTheEnd.forced.incident?.timeline).toEqual(replay.forced.incident?.timeline);
    expect(checkedToTheEnd.forcedAsIs.checks.payments).toBeGreaterThan(
      replay.forcedAsIs.checks.payments,
    );
    const lastCheckedAtMs = Math.max(...allChecks.map(({ payment }) => payment.atMs));
    expect(lastCheckedAtMs).toBeGreaterThanOrEqual(CHANGE_AT_MS + SMALL.seconds * 1_000 - 1_000);
    expect(allChecks.every(({ run, check }) => run === 1 || check.allowedTotalMinor === 0)).toBe(
      true,
    );
  }, 120_000);

  test("the variant is clamped to the registered maximum until its campaign is killed everywhere", () => {
    const registeredMaxMinor = replay.registrations[0]!.perPaymentMaxMinor!;
    expect(registeredMaxMinor).toBe(200);
    const variant = checks.filter(({ run }) => run === 1);
    const clamped = variant.flatMap(({ check }) =>
      check.answers.filter((answer) => answer.outcome === "clamped"),
    );
    expect(clamped.length).toBeGreaterThan(0);
    for (const answer of clamped) {
      expect(answer.clampedBy).toBe("registered_max");
      expect(answer.amountMinor).toBe(registeredMaxMinor);
      expect(answer.proposedMinor).toBeGreaterThan(registeredMaxMinor);
    }
    // Every check after the edit went through the ledger of checked subsidies.
    for (const { check } of variant) {
      expect("ledger" in check && check.ledger).toBe(
        check.allowedTotalMinor > 0 ? "ledger.recorded" : "ledger.nothing_allowed",
      );
    }
    // What the run reports is exactly what the guard allowed.
    const allowedMinor = variant.reduce((sum, { check }) => sum + check.allowedTotalMinor, 0);
    expect(json.guarded.forced.subsidyMinor).toBe(allowedMinor);
    expect(json.guarded.forced.subsidyMinor).toBeLessThan(json.unguardedVariant.subsidyMinor / 100);
  });

  test("the runaway trips within the target, is killed as ext:<campaignRef>, and refused afterwards", () => {
    const { forced } = replay;
    expect(json.guarded.forced.detectionMs).not.toBeNull();
    expect(json.guarded.forced.detectionMs!).toBeLessThanOrEqual(2_000);
    expect(forced.tripsBeforeChange).toBe(0);
    expect(forced.trip?.atMs).toBeGreaterThanOrEqual(CHANGE_AT_MS);
    const killed = forced.response!.killedCampaignIds;
    expect(killed.length).toBeGreaterThan(0);
    for (const campaignId of killed) expect(campaignId).toMatch(/^ext:idc-/);
    expect(forced.response).toMatchObject({ rolledBack: [], paused: [], problems: [] });
    // Every guard process obeyed within the modelled propagation, then refused the campaign.
    expect(forced.killConfirmedAtMs).toHaveLength(REPLAY_DEFAULTS.evaluators);
    const lastObeyedAtMs = Math.max(...forced.killConfirmedAtMs);
    expect(lastObeyedAtMs - forced.trip!.atMs).toBeLessThanOrEqual(REPLAY_DEFAULTS.killDelayMs.max);
    const afterwards = checks.filter(
      ({ run, payment, proposals }) =>
        run === 1 && payment.atMs > lastObeyedAtMs && proposals.length > 0,
    );
    expect(afterwards.length).toBeGreaterThan(0);
    for (const { check, proposals } of afterwards) {
      expect(check.allowedTotalMinor).toBe(0);
      if (killed.includes(`ext:${proposals[0]!.campaignRef}`) && check.reason === null) {
        expect(check.answers[0]!.reason).toBe("guard.killed");
      }
    }
    // Nothing allowed after the last process obeyed: the run's window ends before.
    const allowedTimes = checks
      .filter(({ run, check }) => run === 1 && check.allowedTotalMinor > 0)
      .map(({ payment }) => payment.atMs);
    expect(Math.max(...allowedTimes)).toBeLessThanOrEqual(lastObeyedAtMs);
    expect(json.guarded.forced.leakedUntilLastEvaluatorStopsMinor).toBeGreaterThan(0);
    expect(json.guarded.forced.leakedUntilLastEvaluatorStopsMinor).toBeLessThanOrEqual(
      json.guarded.forced.subsidyMinor,
    );
  });

  test("the incident has a severity, a timeline and the ledger's impact report of exactly what was allowed", () => {
    const incident = replay.forced.incident!;
    expect(incident.severity).toMatch(/^P[0-4]$/);
    expect(json.guarded.forced.severity).toBe(incident.severity);
    const kinds = incident.timeline.map((entry) => entry.kind);
    for (const kind of [
      "first_anomalous_subsidy",
      "trip",
      "opened",
      "kill_published",
      "remediation",
    ]) {
      expect(kinds).toContain(kind);
    }
    expect(kinds.filter((kind) => kind === "kill_confirmed")).toHaveLength(
      REPLAY_DEFAULTS.evaluators,
    );
    expect(incident.blame).toMatchObject({
      changeIds: [],
      templateIds: ["ext:*"],
      funders: ["platform"],
    });

    const impact = replay.forced.impact!;
    const run = json.guarded.forced;
    expect(impact.totals).toMatchObject({
      payments: run.payments,
      users: run.users,
      committedMinor: run.subsidyMinor,
      netMinor: run.subsidyMinor,
    });
    expect(impact.window.lastAtMs! - impact.window.firstAtMs!).toBe(run.windowMs);
    expect(impact.splits.scenario.rows.map((row) => row.key).sort()).toEqual(run.scenarios);
    expect(impact.splits.campaign_version.rows.every((row) => row.key.startsWith("ext:"))).toBe(
      true,
    );
    expect(impact.query.fromMs).toBe(CHANGE_AT_MS);
  });

  test("the unguarded columns are the naive engine's, whatever guards the other two", () => {
    expect(json.unguarded.payments).toBeGreaterThan(json.unguardedVariant.payments);
    expect(json.unguardedVariant.scenarios).toEqual(["merchant_qr", "online_checkout"]);
    expect(json.unguarded.scenarios).toEqual(
      expect.arrayContaining(["p2p_transfer", "credit_card_repayment"]),
    );
  });
});

describe("guard mode's replay, other engines", () => {
  test("an edit beyond the envelope (50 % off, unregistered) is clamped to the envelope's bounds", async () => {
    const examples = await replayExamples();
    const envelope = examples.find(
      (document): document is Envelope => document.kind === "envelope",
    )!;
    const bounds = envelope.currencies.find((entry) => entry.currency === "CNY")!;
    const fiftyPercent = withTemplate(examples, (template) => ({
      ...template,
      offer: { kind: "percent", rateBps: 5_000, capMinor: 100_000 },
    }));
    const { replay, checks } = await replayWithChecks({
      registered: false,
      editedExamples: [fiftyPercent, fiftyPercent],
      seconds: 10,
    });
    expect(replay.registrations).toEqual([]);
    const clamped = checks.flatMap(({ payment, check }) =>
      check.answers
        .filter((answer) => answer.outcome === "clamped")
        .map((answer) => ({ payment, answer })),
    );
    const bySeen = new Set(clamped.map(({ answer }) => answer.clampedBy));
    expect(bySeen).toContain("per_payment_rate");
    for (const { payment, answer } of clamped) {
      const boundMinor = Math.min(
        bounds.perPaymentMaxMinor,
        Math.floor((payment.amountMinor * bounds.perPaymentMaxRateBps) / 10_000),
        payment.amountMinor - bounds.minPayableMinor,
      );
      expect(answer.amountMinor).toBe(boundMinor);
      expect(answer.proposedMinor).toBeGreaterThan(boundMinor);
    }
    for (const { check } of checks) {
      expect(check.allowedTotalMinor).toBeLessThanOrEqual(bounds.perPaymentMaxMinor);
    }
  });

  test("the same seed gives the same figures, in worker threads or on one thread", async () => {
    const examples = await replayExamples();
    const options = { seed: 5, tps: 300, seconds: 20, examples };
    const threaded = await runGuardModeReplay(options);
    const serial = await runGuardModeReplay({ ...options, threads: false });
    expect(serial.json).toEqual(threaded.json);
    expect(serial.forced.incident?.timeline).toEqual(threaded.forced.incident?.timeline);
    expect(serial.forced.checks).toEqual(threaded.forced.checks);
    expect(threaded.json.guarded.forced.payments).toBeGreaterThan(0);
    // Without an observer too (the warm-up's checks once ran only for one), the runaway trips.
    expect(threaded.json.guarded.forced.detectionMs).not.toBeNull();
    expect(threaded.forced.tripsBeforeChange).toBe(0);
  }, 120_000);
});

describe("guard mode's replay at its defaults", () => {
  test("meets the guard issue's targets: detection, loss, no protected scenario", async () => {
    const replay = await runGuardModeReplay({
      seed: REPLAY_DEFAULTS.seed,
      tps: REPLAY_DEFAULTS.tps,
      examples: await replayExamples(),
    });
    expectContractShape(replay.json);
    expectTargetsMet(replay.json);
    expect(replay.forced.response?.killedCampaignIds.length).toBeGreaterThan(0);
    expect(replay.forced.impact?.totals.committedMinor).toBe(
      replay.json.guarded.forced.subsidyMinor,
    );
  }, 300_000);
});

describe("guard mode's replay at its defaults, nothing registered", () => {
  test("the original trips the government's money, the variant its own baseline: both within the targets", async () => {
    const replay = await runGuardModeReplay({
      seed: REPLAY_DEFAULTS.seed,
      tps: REPLAY_DEFAULTS.tps,
      examples: await replayExamples(),
      registered: false,
    });
    expect(replay.registrations).toEqual([]);
    expectTargetsMet(replay.json);
    // The original moves the engine's subsidy to government money, which it never paid before.
    expect(replay.forcedAsIs.trip).toMatchObject({
      code: "velocity.above_forecast",
      subject: { kind: "funder", id: "government" },
    });
    const { forcedAsIs } = replay.json.guarded;
    expect(forcedAsIs.detectionMs!).toBeLessThanOrEqual(2_000);
    expect(forcedAsIs.subsidyMinor * 1_000).toBeLessThanOrEqual(replay.json.unguarded.subsidyMinor);
    // The variant keeps platform money; its mean per payment runs away from its own baseline.
    expect(replay.forced.trip).toMatchObject({
      code: "per_payment.above_previous",
      subject: { kind: "campaign", id: "ext:idc-new-user-first-pay" },
    });
  }, 300_000);
});

/** The examples with the incident's template replaced: the external engine's own edit. */
function withTemplate(
  documents: readonly ConfigDocument[],
  edit: (template: Template) => Template,
): ConfigDocument[] {
  return documents.map((document) =>
    document.kind === "template" && document.id === INCIDENT_TEMPLATE_ID
      ? edit(document)
      : document,
  );
}
