/**
 * The pure incident (src/core/guard/incident.ts): opening by a trip and by hand, the severity that
 * only rises, the bounded timeline of closed kinds, the transition table, absorb-only remediation.
 */
import { fc, test as property } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import {
  acknowledgeIncident,
  addTimelineEntry,
  INCIDENT_LIMITS,
  INCIDENT_TIMELINE_KINDS,
  type Incident,
  type IncidentTimelineKind,
  mitigateIncident,
  NO_BLAME,
  openIncident,
  REMEDIATION_DECISIONS,
  raiseSeverity,
  reassessIncident,
  recordRemediation,
  resolveIncident,
  severityRank,
} from "../../src/core/guard/incident.ts";
import {
  INCIDENT_ACTIONS,
  INCIDENT_STATES,
  INCIDENT_TRANSITIONS,
  nextIncidentState,
} from "../../src/core/guard/incident-lifecycle.ts";
import {
  DEFAULT_SEVERITY_POLICY,
  type IncidentImpact,
  NO_IMPACT,
  SEVERITIES,
} from "../../src/core/guard/severity-policy.ts";

const T0 = Date.UTC(2025, 0, 16, 6, 40);
const REASON = "customers report 20 % off transfers";

function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

function tripped(impact: IncidentImpact = NO_IMPACT): Incident {
  return ok(
    openIncident({
      id: "incident-1",
      title: "velocity on idc-national",
      atMs: T0 + 2_000,
      openedBy: { kind: "breaker", breakerId: "velocity-1", tripCode: "velocity.above_ceiling" },
      impact,
      blame: {
        changeIds: ["change-7"],
        campaignVersions: [{ campaignId: "idc-national", version: 3 }],
        templateIds: ["gov-subsidy"],
        funders: ["platform"],
      },
      windowStartMs: T0,
      policy: DEFAULT_SEVERITY_POLICY,
      trip: { trippedAtMs: T0 + 1_500, details: { windowMs: 1_000, spendMinor: 9_000_000 } },
    }),
  ).incident;
}

describe("opening", () => {
  test("a trip opens an incident judged by the policy, with the trip and the opening on its timeline", () => {
    const incident = tripped({ ...NO_IMPACT, scenarios: 6, regions: 12, coreFlows: true });
    expect(incident).toMatchObject({
      state: "open",
      severity: "P0",
      openedBy: { kind: "breaker", breakerId: "velocity-1" },
      windowStartMs: T0,
    });
    expect(incident.because.map((item) => item.measure)).toEqual([
      "scenarios",
      "regions",
      "coreFlows",
    ]);
    expect(incident.timeline.map((entry) => [entry.kind, entry.atMs])).toEqual([
      ["trip", T0 + 1_500],
      ["opened", T0 + 2_000],
    ]);
    expect(incident.timeline[0]!.details).toMatchObject({
      breakerId: "velocity-1",
      code: "velocity.above_ceiling",
      spendMinor: 9_000_000,
    });
  });

  test("by hand: a reason is required, and a declared severity is a floor the figures cannot lower", () => {
    const base = {
      id: "incident-2",
      title: "reports of a wrong label",
      atMs: T0,
      impact: NO_IMPACT,
      blame: NO_BLAME,
      policy: DEFAULT_SEVERITY_POLICY,
    };
    expect(
      openIncident({ ...base, openedBy: { kind: "person", personId: "ops", reason: "short" } }),
    ).toMatchObject({ ok: false, code: "incident.reason_required" });
    const declared = ok(
      openIncident({
        ...base,
        openedBy: { kind: "person", personId: "ops", reason: REASON },
        declaredSeverity: "P1",
      }),
    ).incident;
    expect(declared).toMatchObject({
      severity: "P1",
      because: [{ measure: "declared", severity: "P1" }],
    });
    const reassessed = ok(
      reassessIncident(
        declared,
        { impact: { ...NO_IMPACT, cumulativeMinor: 2_000_000 }, byId: "guard" },
        DEFAULT_SEVERITY_POLICY,
        T0 + 1,
      ),
    );
    expect(reassessed.incident.severity).toBe("P1");
    expect(
      openIncident({ ...base, openedBy: { kind: "person", personId: "o p s", reason: REASON } }),
    ).toMatchObject({ code: "incident.actor_invalid" });
    expect(
      openIncident({
        ...base,
        title: " ",
        openedBy: { kind: "person", personId: "ops", reason: REASON },
      }),
    ).toMatchObject({ code: "incident.title_invalid" });
    expect(
      openIncident({
        ...base,
        impact: { ...NO_IMPACT, paymentShareBps: 10_001 },
        openedBy: { kind: "person", personId: "ops", reason: REASON },
      }),
    ).toMatchObject({ code: "incident.impact_invalid" });
    expect(
      openIncident({
        ...base,
        policy: { ...DEFAULT_SEVERITY_POLICY, regions: [1, 2, 5, 10] },
        openedBy: { kind: "person", personId: "ops", reason: REASON },
      }),
    ).toMatchObject({ code: "incident.policy_invalid" });
  });

  test("blame is bounded and deduplicated", () => {
    const many = {
      ...NO_BLAME,
      changeIds: Array.from({ length: INCIDENT_LIMITS.blamedChangesMax + 1 }, (_, i) => `c-${i}`),
    };
    expect(
      openIncident({
        id: "incident-3",
        title: "x",
        atMs: T0,
        openedBy: { kind: "person", personId: "ops", reason: REASON },
        impact: NO_IMPACT,
        blame: many,
        policy: DEFAULT_SEVERITY_POLICY,
      }),
    ).toMatchObject({ ok: false, code: "incident.too_many_blamed" });
    const incident = tripped();
    const grown = ok(
      reassessIncident(
        incident,
        {
          impact: NO_IMPACT,
          blame: {
            ...NO_BLAME,
            campaignVersions: [
              { campaignId: "idc-national", version: 3 },
              { campaignId: "idc-national", version: 4 },
            ],
          },
          byId: "guard",
        },
        DEFAULT_SEVERITY_POLICY,
        T0 + 5_000,
      ),
    );
    expect(grown.changed).toBe(true);
    expect(grown.incident.blame.campaignVersions).toEqual([
      { campaignId: "idc-national", version: 3 },
      { campaignId: "idc-national", version: 4 },
    ]);
  });
});

describe("severity only rises", () => {
  test("reassessment keeps each figure at its peak; nothing new is not a change", () => {
    const incident = tripped({ ...NO_IMPACT, atRiskPerMinuteMinor: 200_000 });
    expect(incident.severity).toBe("P3");
    const worse = ok(
      reassessIncident(
        incident,
        { impact: { ...NO_IMPACT, atRiskPerMinuteMinor: 20_000_000 }, byId: "guard" },
        DEFAULT_SEVERITY_POLICY,
        T0 + 10_000,
      ),
    );
    expect(worse.incident.severity).toBe("P1");
    expect(worse.incident.timeline.at(-1)).toMatchObject({
      kind: "severity_raised",
      details: { fromSeverity: "P3", toSeverity: "P1" },
    });
    // The money stopped: the rate fell, the peak stays, and so does the severity.
    const calmer = ok(
      reassessIncident(
        worse.incident,
        { impact: { ...NO_IMPACT, atRiskPerMinuteMinor: 10 }, byId: "guard" },
        DEFAULT_SEVERITY_POLICY,
        T0 + 20_000,
      ),
    );
    expect(calmer).toMatchObject({ changed: false, incident: worse.incident });
    // A more lenient policy configured since never lowers it.
    const lenient = ok(
      reassessIncident(
        worse.incident,
        { impact: { ...NO_IMPACT, cumulativeMinor: 1 }, byId: "guard" },
        {
          ...DEFAULT_SEVERITY_POLICY,
          atRiskPerMinuteMinor: [10 ** 12, 10 ** 11, 10 ** 10, 10 ** 9],
        },
        T0 + 30_000,
      ),
    );
    expect(lenient.incident.severity).toBe("P1");
  });

  test("a person raises it with a reason; lowering or restating it is refused", () => {
    const incident = tripped({ ...NO_IMPACT, regions: 2 });
    expect(incident.severity).toBe("P2");
    for (const severity of ["P2", "P3", "P4"] as const) {
      expect(raiseSeverity(incident, "ops", severity, REASON, T0 + 1)).toMatchObject({
        ok: false,
        code: "incident.severity_not_higher",
      });
    }
    const raised = ok(raiseSeverity(incident, "ops", "P0", REASON, T0 + 1)).incident;
    expect(raised).toMatchObject({ severity: "P0", declared: { severity: "P0", byId: "ops" } });
  });

  property.prop([
    fc.array(
      fc.record({
        atRiskPerMinuteMinor: fc.nat(2_000_000_000),
        cumulativeMinor: fc.nat(2_000_000_000),
        paymentShareBps: fc.nat(10_000),
        scenarios: fc.nat(10),
        regions: fc.nat(40),
        coreFlows: fc.boolean(),
      }),
      { maxLength: 12 },
    ),
  ])("over any sequence of reassessments, severity never falls", (impacts) => {
    let incident = tripped();
    for (const [index, impact] of impacts.entries()) {
      const before = incident.severity;
      incident = ok(
        reassessIncident(incident, { impact, byId: "guard" }, DEFAULT_SEVERITY_POLICY, T0 + index),
      ).incident;
      expect(severityRank(incident.severity)).toBeLessThanOrEqual(severityRank(before));
    }
    const raises = incident.timeline.filter((entry) => entry.kind === "severity_raised");
    expect(raises.length).toBeLessThanOrEqual(SEVERITIES.length - 1);
  });
});

describe("timeline", () => {
  test("entries stay in time order; lifecycle kinds are not recordable; details are checked", () => {
    let incident = tripped();
    incident = ok(
      addTimelineEntry(
        incident,
        {
          kind: "change_approved",
          atMs: T0 - 60_000,
          byId: "rui",
          summary: "approved",
          details: { changeId: "change-7" },
        },
        T0 + 3_000,
      ),
    ).incident;
    incident = ok(
      addTimelineEntry(
        incident,
        {
          kind: "kill_confirmed",
          atMs: T0 + 2_400,
          byId: "evaluator-2",
          summary: "",
          details: { evaluatorId: "evaluator-2" },
        },
        T0 + 3_000,
      ),
    ).incident;
    expect(incident.timeline.map((entry) => entry.kind)).toEqual([
      "change_approved",
      "trip",
      "opened",
      "kill_confirmed",
    ]);
    const lifecycle = (Object.keys(INCIDENT_TIMELINE_KINDS) as IncidentTimelineKind[]).filter(
      (kind) => !INCIDENT_TIMELINE_KINDS[kind].recordable,
    );
    for (const kind of lifecycle) {
      expect(
        addTimelineEntry(incident, { kind, atMs: T0, byId: "ops", summary: "x" }, T0),
      ).toMatchObject({ code: "incident.timeline_kind_not_recordable" });
    }
    const badDetails = [
      { kind: "kill_confirmed" as const, details: {} },
      { kind: "note" as const, details: { nested: { a: 1 } } },
      { kind: "note" as const, details: { text: "x".repeat(257) } },
      { kind: "note" as const, details: { amount: 0.5 } },
      { kind: "note" as const, details: { "bad key": 1 } },
      {
        kind: "note" as const,
        details: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])),
      },
    ];
    for (const { kind, details } of badDetails) {
      expect(
        addTimelineEntry(
          incident,
          // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
          { kind, atMs: T0, byId: "ops", summary: "", details: details as any },
          T0,
        ),
      ).toMatchObject({ code: "incident.details_invalid" });
    }
  });

  test(`holds at most ${INCIDENT_LIMITS.timelineRecordedEntriesMax} recorded entries; lifecycle entries still fit`, () => {
    let incident = tripped();
    // The trip that opened it is a recorded entry too.
    for (let index = 1; index < INCIDENT_LIMITS.timelineRecordedEntriesMax; index += 1) {
      incident = ok(
        addTimelineEntry(
          incident,
          { kind: "note", atMs: T0 + index, byId: "ops", summary: `note ${index}` },
          T0 + index,
        ),
      ).incident;
    }
    expect(
      addTimelineEntry(incident, { kind: "note", atMs: T0, byId: "ops", summary: "one more" }, T0),
    ).toMatchObject({ ok: false, code: "incident.timeline_full" });
    incident = ok(acknowledgeIncident(incident, "ops", T0 + 1_000)).incident;
    incident = ok(mitigateIncident(incident, "ops", "rolled back change-7", T0 + 2_000)).incident;
    expect(incident.timeline.length).toBe(INCIDENT_LIMITS.timelineRecordedEntriesMax + 3);
  });
});

describe("lifecycle", () => {
  test("the table: every action from every state is allowed exactly where it says", () => {
    for (const state of INCIDENT_STATES) {
      for (const action of INCIDENT_ACTIONS) {
        const move = nextIncidentState(state, action);
        const transition = INCIDENT_TRANSITIONS[action];
        expect(move.ok).toBe(transition.from.includes(state));
        if (!move.ok) expect(move.code).toBe("incident.illegal_transition");
      }
    }
  });

  test("open → acknowledged once → mitigated → remediation (absorb, once) → resolved, final", () => {
    let incident = tripped({ ...NO_IMPACT, cumulativeMinor: 5_000_000 });
    expect(resolveIncident(incident, "ops", "all done here", T0)).toMatchObject({
      code: "incident.illegal_transition",
    });
    incident = ok(acknowledgeIncident(incident, "ops", T0 + 3_000)).incident;
    expect(acknowledgeIncident(incident, "mei", T0 + 3_500)).toMatchObject({
      code: "incident.already_acknowledged",
    });
    incident = ok(mitigateIncident(incident, "ops", "killed idc-national@3", T0 + 4_000)).incident;
    expect(incident.state).toBe("mitigated");
    expect(resolveIncident(incident, "ops", "money stopped, cost known", T0)).toMatchObject({
      code: "incident.remediation_missing",
    });
    const remediation = {
      decidedById: "fin",
      reason: "the cost is ours; users keep what they received",
      reservationsReleased: { count: 12, amountMinor: 3_400 },
      costAbsorbedMinor: 5_000_000,
    };
    expect(
      recordRemediation(incident, { ...remediation, costAbsorbedMinor: -1 }, T0),
    ).toMatchObject({ code: "incident.amount_invalid" });
    incident = ok(recordRemediation(incident, remediation, T0 + 5_000)).incident;
    expect(incident.remediation).toMatchObject({
      decision: "absorb",
      reservationsReleased: { count: 12, amountMinor: 3_400 },
    });
    expect(recordRemediation(incident, remediation, T0 + 6_000)).toMatchObject({
      code: "incident.remediation_recorded",
    });
    incident = ok(
      resolveIncident(incident, "ops", "money stopped, cost known", T0 + 7_000),
    ).incident;
    expect(incident).toMatchObject({ state: "resolved", resolution: { byId: "ops" } });
    expect(incident.timeline.map((entry) => entry.kind).slice(2)).toEqual([
      "acknowledged",
      "mitigated",
      "remediation",
      "resolved",
    ]);
    for (const refused of [
      addTimelineEntry(incident, { kind: "note", atMs: T0, byId: "ops", summary: "late" }, T0),
      reassessIncident(incident, { impact: NO_IMPACT, byId: "guard" }, DEFAULT_SEVERITY_POLICY, T0),
      raiseSeverity(incident, "ops", "P0", REASON, T0),
    ]) {
      expect(refused).toMatchObject({ code: "incident.illegal_transition" });
    }
  });

  test("the only remediation is absorbing the cost: there is no pay-back decision", () => {
    expect(REMEDIATION_DECISIONS).toEqual(["absorb"]);
  });
});
