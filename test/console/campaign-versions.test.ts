/**
 * The campaign page's versions (console/src/data/campaign-versions.ts): the rows it lists — state,
 * the active one, times, the change to link to and its marks, what a rollback or an operator's
 * action did — and what an earlier version held that the newest does not, field by field.
 */
import { describe, expect, test } from "vitest";
import {
  type VersionEntryView,
  type VersionPageView,
  versionDifferences,
  versionRows,
} from "../../console/src/data/campaign-versions.ts";
import { changeMarks } from "../../console/src/data/change-review.ts";
import { VERSION_STATES, type VersionPage } from "../../src/control/document-history.ts";

/**
 * The console restates the API's version types (it imports nothing from src/, ARCHITECTURE.md):
 * this does not compile (`npx tsc -p .`) once the server's page no longer fits the console's view.
 */
const serverPageFits = (served: VersionPage): VersionPageView => served;

function change(id: string, overrides: Partial<NonNullable<VersionEntryView["change"]>> = {}) {
  return {
    id,
    title: `title of ${id}`,
    authorId: "alice",
    state: "active",
    approvals: [{ reviewerId: "bob", at: "2025-01-16T06:00:00.000Z", byPolicy: false }],
    forced: [],
    operatorAction: null,
    closingReason: null,
    ...overrides,
  };
}

function entry(version: number, overrides: Partial<VersionEntryView> = {}): VersionEntryView {
  return {
    version,
    state: "superseded",
    retires: false,
    writtenAt: `2025-01-16T0${version}:00:00.000Z`,
    activatedAt: null,
    changeId: `change-${version}`,
    rollback: false,
    change: change(`change-${version}`),
    ...overrides,
  };
}

function page(versions: VersionEntryView[]): VersionPageView {
  return {
    key: "campaign/c",
    latestVersion: versions[0]!.version,
    versions,
    nextBeforeVersion: null,
  };
}

describe("version rows", () => {
  test("every state the server lists has its words (the server's page fits the view)", () => {
    const served = page(VERSION_STATES.map((state, index) => entry(index + 1, { state })));
    expect(versionRows(serverPageFits(served as VersionPage)).map((row) => row.stateLabel)).toEqual(
      ["active", "rolling out", "retired", "rolled back", "superseded"],
    );
  });

  test("newest first as answered; the active one marked; states in words; times as instants", () => {
    const rows = versionRows(
      page([
        entry(4, { state: "rolling_out" }),
        entry(3, { state: "active", activatedAt: "2025-01-16T03:30:00.000Z" }),
        entry(2, { state: "rolled_back" }),
        entry(1, { writtenAt: null }),
      ]),
    );
    expect(rows.map((row) => [row.version, row.stateLabel, row.isActive])).toEqual([
      [4, "rolling out", false],
      [3, "active", true],
      [2, "rolled back", false],
      [1, "superseded", false],
    ]);
    expect(rows[1]).toMatchObject({
      writtenAtMs: Date.UTC(2025, 0, 16, 3),
      activatedAtMs: Date.UTC(2025, 0, 16, 3, 30),
    });
    // A version written before the store kept the time has none, not a made-up one.
    expect(rows[3]).toMatchObject({ writtenAtMs: null, activatedAtMs: null });
  });

  test("the change to link, who wrote and approved it, and its marks as its page words them", () => {
    const versions = page([
      entry(3, {
        change: change("change-9", {
          forced: [{ gate: "lint", adminIds: ["ada", "alan"], reason: "a reason long enough" }],
          approvals: [],
        }),
        changeId: "change-9",
      }),
      entry(2, {
        change: change("change-8", {
          approvals: [{ reviewerId: "policy:auto-approval", at: "x", byPolicy: true }],
        }),
        changeId: "change-8",
      }),
      entry(1, {
        change: change("change-7", {
          authorId: "olga",
          approvals: [],
          operatorAction: { kind: "lower_limits", reason: "the bank cut its share" },
        }),
        changeId: "change-7",
      }),
    ]);
    const [forced, policy, operator] = versionRows(versions);
    expect(forced).toMatchObject({
      changeId: "change-9",
      what: "title of change-9",
      by: "alice",
      marks: ["Forced past lint by ada and alan: a reason long enough"],
    });
    expect(policy).toMatchObject({
      by: "alice, approved by the policy",
      marks: ["Approved by the policy: a low-risk change that needs no reviewer"],
    });
    expect(operator).toMatchObject({
      by: "olga",
      marks: ["An operator's lower limits, without review: the bank cut its share"],
    });
    // One wording wherever a change appears: the change page's.
    for (const [index, row] of versionRows(versions).entries()) {
      expect(row.marks).toEqual(changeMarks(versions.versions[index]!.change!));
    }
  });

  test("a rollback links the change it undid; a retirement says so; a missing change is its id", () => {
    const [rollback, retired, unknown] = versionRows(
      page([
        entry(3, {
          state: "active",
          rollback: true,
          changeId: "change-5/rollback",
          change: change("change-5", {
            state: "rolled_back",
            authorId: "carol",
            closingReason: "the budget owner asked to wait",
            forced: [{ gate: "lint", adminIds: ["ada", "alan"], reason: "a reason long enough" }],
          }),
        }),
        entry(2, { retires: true }),
        entry(1, { change: null, changeId: "change-1" }),
      ]),
    );
    expect(rollback).toMatchObject({
      changeId: "change-5",
      writerId: "change-5/rollback",
      what: 'rollback of "title of change-5"',
      by: "undoing carol's change",
      // The undone change's forces are its own, not the rollback's.
      marks: ["why: the budget owner asked to wait"],
    });
    expect(retired!.what).toBe('retired by "title of change-2"');
    expect(unknown).toMatchObject({ changeId: "change-1", what: "change-1", by: "—", marks: [] });
  });
});

describe("what an earlier version held", () => {
  const newest = {
    id: "c",
    kind: "campaign",
    limits: { totalBudgetMinor: 4_000_000, perPaymentMaxMinor: 500 },
    scope: { scenarios: ["merchant_qr"], regions: ["CN-SH"] },
    display: { title: "咖啡" },
  };

  test("each field that differs, by dotted path in order; lists compared whole; equal ones left out", () => {
    const earlier = {
      ...newest,
      limits: { totalBudgetMinor: 3_000_000, perPaymentMaxMinor: 500, dailyBudgetMinor: 10_000 },
      scope: { scenarios: ["merchant_qr", "online_checkout"], regions: ["CN-SH"] },
    };
    expect(versionDifferences(earlier, newest)).toEqual([
      { path: "limits.dailyBudgetMinor", earlier: 10_000 },
      { path: "limits.totalBudgetMinor", earlier: 3_000_000, newer: 4_000_000 },
      {
        path: "scope.scenarios",
        earlier: ["merchant_qr", "online_checkout"],
        newer: ["merchant_qr"],
      },
    ]);
    expect(versionDifferences(newest, structuredClone(newest))).toEqual([]);
  });

  test("a retired version differs in every field; a field that became an object is two paths", () => {
    const retired = versionDifferences(null, newest);
    expect(retired.map((difference) => difference.path)).toEqual([
      "display.title",
      "id",
      "kind",
      "limits.perPaymentMaxMinor",
      "limits.totalBudgetMinor",
      "scope.regions",
      "scope.scenarios",
    ]);
    expect(retired.every((difference) => !("earlier" in difference))).toBe(true);
    expect(versionDifferences({ offer: "fixed" }, { offer: { amountMinor: 30 } })).toEqual([
      { path: "offer", earlier: "fixed" },
      { path: "offer.amountMinor", newer: 30 },
    ]);
  });

  test("bounded: at most 500 fields, and nesting past 16 levels is compared whole", () => {
    const wide = Object.fromEntries(
      Array.from({ length: 700 }, (_, index) => [`f${index}`, index]),
    );
    expect(versionDifferences(wide, {})).toHaveLength(500);
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let level = 0; level < 30; level += 1) deep = { next: deep };
    const differences = versionDifferences(deep, {});
    expect(differences).toHaveLength(1);
    expect(differences[0]!.path.split(".")).toHaveLength(16);
  });
});
