/**
 * The 2025-01-16 replay at its defaults (seed 20250116, 10,000 payments/s, 300 s): the shape
 * CONTRACTS.md fixes, the incident's cost without Bursar, lint blocking the change, the targets
 * for the forced variant, the incident's story, and the ledger's impact report agreeing with the
 * run. Also: the worker threads change nothing (same seed, same figures on one thread).
 */
import { describe, expect, test } from "vitest";
import { hasKillConfirmation } from "../../src/core/guard/incident.ts";
import { REPLAY_DEFAULTS, runIncidentReplay } from "../../src/demo/incident-replay.ts";
import { expectContractShape, expectTargetsMet, replayExamples } from "./replay-fixtures.ts";

describe("the 2025-01-16 replay at its defaults", () => {
  test("the incident's cost, the change blocked at lint, and the forced variant contained", async () => {
    const replay = await runIncidentReplay({
      seed: REPLAY_DEFAULTS.seed,
      tps: REPLAY_DEFAULTS.tps,
      examples: await replayExamples(),
    });
    const { json } = replay;
    expectContractShape(json);
    expect(json).toMatchObject({ seed: 20_250_116, tps: 10_000, simulatedSeconds: 300 });

    // Without Bursar the original reaches transfers and card repayments across the country.
    expect(json.unguarded.scenarios).toEqual(
      expect.arrayContaining(["p2p_transfer", "credit_card_repayment", "merchant_qr"]),
    );
    expect(json.unguarded.protectedScenarioPayments).toBeGreaterThan(100_000);
    expect(json.unguarded.regions.length).toBeGreaterThanOrEqual(30);
    expect(json.unguarded.subsidyMinor).toBeGreaterThan(json.unguardedVariant.subsidyMinor);
    // The variant stays on ordinary merchant payments.
    expect(json.unguardedVariant.scenarios).toEqual(["merchant_qr", "online_checkout"]);
    expect(json.unguardedVariant.protectedScenarioPayments).toBe(0);

    expect(json.guarded.blockedAtLint).toBe(true);
    expect(json.guarded.lintCodes).toEqual(
      expect.arrayContaining([
        "lint.protected_scenario_in_scope",
        "lint.template_edit_changes_funding",
        "lint.template_edit_changes_offer_kind",
      ]),
    );
    expectTargetsMet(json);

    // The variant's incident tells the whole story, one confirmation per evaluator.
    const incident = replay.forced.incident!;
    const kinds = incident.timeline.map((entry) => entry.kind);
    for (const kind of [
      "change_forced",
      "rollout_stage",
      "first_anomalous_subsidy",
      "trip",
      "kill_published",
      "rollback",
      "remediation",
    ]) {
      expect(kinds).toContain(kind);
    }
    expect(kinds.filter((kind) => kind === "change_forced")).toHaveLength(2);
    expect(kinds.filter((kind) => kind === "kill_confirmed")).toHaveLength(
      REPLAY_DEFAULTS.evaluators,
    );
    // Each names the kill as IncidentService.confirmKill does, so it is recognised as one.
    const killSequence = replay.forced.response!.killSequence!;
    for (let evaluator = 1; evaluator <= REPLAY_DEFAULTS.evaluators; evaluator += 1) {
      expect(hasKillConfirmation(incident, killSequence, `evaluator-${evaluator}`)).toBe(true);
    }
    expect(replay.forced.response?.rolledBack).toEqual([replay.forced.changeId]);
    // Every evaluator stopped within the modelled propagation after the trip.
    for (const atMs of replay.forced.killConfirmedAtMs) {
      expect(atMs - replay.forced.trip!.atMs).toBeLessThanOrEqual(REPLAY_DEFAULTS.killDelayMs.max);
    }
    // The ledger's impact report and the run agree on what users received.
    expect(replay.forced.impact?.totals.committedMinor).toBe(json.guarded.forced.subsidyMinor);
    expect(replay.forced.impact?.totals.payments).toBeGreaterThanOrEqual(
      json.guarded.forced.payments,
    );
  }, 600_000);

  test("worker threads change nothing: the same seed gives the same figures on one thread", async () => {
    const examples = await replayExamples();
    const options = { seed: 11, tps: 2_000, examples };
    const threaded = await runIncidentReplay(options);
    const serial = await runIncidentReplay({ ...options, threads: false });
    expect(serial.json).toEqual(threaded.json);
    expect(
      threaded.json.guarded.forced.payments + threaded.json.unguarded.payments,
    ).toBeGreaterThan(0);
  }, 600_000);
});
