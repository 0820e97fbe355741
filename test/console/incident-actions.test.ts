/**
 * On-call's actions on an incident page (console/src/data/incident-actions.ts): which the
 * incident's state and the reader's roles allow, and the words of why not; the severities one may
 * raise to; the absorbed cost and the reason as typed.
 */
import { describe, expect, test } from "vitest";
import {
  higherSeverities,
  type IncidentActionName,
  incidentActionStance,
  incidentReasonProblem,
  parseCostMinor,
} from "../../console/src/data/incident-actions.ts";

const ACTIONS: readonly IncidentActionName[] = [
  "acknowledge",
  "note",
  "raise",
  "mitigate",
  "remediate",
  "resolve",
];
const ON_CALL = ["operator"];

function allowed(incident: Parameters<typeof incidentActionStance>[0], roles = ON_CALL) {
  return ACTIONS.filter((action) => incidentActionStance(incident, action, roles).allowed);
}

describe("incident actions", () => {
  test("an open incident: everything but resolving", () => {
    expect(allowed({ state: "open", severity: "P3" })).toEqual([
      "acknowledge",
      "note",
      "raise",
      "mitigate",
      "remediate",
    ]);
    expect(incidentActionStance({ state: "open", severity: "P3" }, "resolve", ON_CALL)).toEqual({
      allowed: false,
      why: "Mitigate it first: an open incident is never closed by resolving it.",
    });
  });

  test("acknowledged once, remediated once; resolved only when mitigated and remediated", () => {
    const mitigated = {
      state: "mitigated",
      severity: "P0",
      acknowledged: { byId: "oncall.li" },
    };
    expect(allowed(mitigated)).toEqual(["note", "remediate"]);
    expect(incidentActionStance(mitigated, "acknowledge", ON_CALL)).toMatchObject({
      why: "Acknowledged by oncall.li already.",
    });
    expect(incidentActionStance(mitigated, "raise", ON_CALL)).toMatchObject({
      why: "P0 is the highest severity.",
    });
    expect(incidentActionStance(mitigated, "resolve", ON_CALL)).toMatchObject({
      why: "Record the remediation first.",
    });
    const remediated = { ...mitigated, remediation: { decidedById: "oncall.li" } };
    expect(allowed(remediated)).toEqual(["note", "resolve"]);
  });

  test("a resolved incident takes nothing; without the operator role nothing either", () => {
    expect(allowed({ state: "resolved", severity: "P2" })).toEqual([]);
    expect(allowed({ state: "open", severity: "P2" }, ["auditor", "admin"])).toEqual([]);
    expect(incidentActionStance({ state: "open", severity: "P2" }, "note", ["admin"])).toEqual({
      allowed: false,
      why: "Acting on incidents needs the operator role.",
    });
  });

  test("severity only rises: the choices above the current one, nearest first", () => {
    expect(higherSeverities("P4")).toEqual(["P3", "P2", "P1", "P0"]);
    expect(higherSeverities("P1")).toEqual(["P0"]);
    expect(higherSeverities("P0")).toEqual([]);
    expect(higherSeverities("P9")).toEqual([]);
  });

  test("the absorbed cost is whole minor units; the reason 10 characters at least", () => {
    expect(parseCostMinor(" 1250 ")).toEqual({ costMinor: 1250 });
    expect(parseCostMinor("0")).toEqual({ costMinor: 0 });
    for (const typed of ["12.50", "-1", "twelve", ""]) {
      expect(parseCostMinor(typed), typed).toHaveProperty("problem");
    }
    expect(parseCostMinor("99999999999999999999")).toEqual({ problem: "Too large." });
    expect(incidentReasonProblem("too short")).toBe("Write at least 10 characters (9 so far).");
    expect(incidentReasonProblem("rolled back by the guard")).toBeUndefined();
    expect(incidentReasonProblem("元".repeat(700))).toBe("At most 2,000 bytes.");
  });
});
