/**
 * What the signed-in person may do to a change besides approving it (docs/reference/changes.md):
 * administrators force the lint or approval gate (two different ones per gate), operators start
 * the staged rollout, roll it back, or kill the change's campaigns; and how a rolling-out change
 * is doing against its forecast. The server enforces every rule; these only say in advance what
 * it would refuse and why, so the page can explain instead of failing. Pure.
 */

export const FORCEABLE_GATES = ["lint", "approval"] as const;
export type ForceableGate = (typeof FORCEABLE_GATES)[number];

export interface ActionStance {
  readonly allowed: boolean;
  /** Why not, in words a person acts on; empty when allowed. */
  readonly why: string;
}

interface ForceRecordLike {
  readonly gate: string;
  readonly adminIds: readonly string[];
}

export interface ChangeForActions {
  readonly state: string;
  readonly authorId: string;
  readonly pendingForces: readonly ForceRecordLike[];
  readonly forced: readonly ForceRecordLike[];
}

/** The stance of an action the caller may take now, and of one refused with its reason. */
export const allowed: ActionStance = { allowed: true, why: "" };
export const refused = (why: string): ActionStance => ({ allowed: false, why });

/** Whether this administrator may ask to force `gate` now. */
export function forceStance(
  change: ChangeForActions,
  gate: ForceableGate,
  principalId: string,
  roles: readonly string[],
): ActionStance {
  if (!roles.includes("admin")) return refused("Forcing a gate needs the admin role.");
  if (change.state !== "draft" && change.state !== "in_review") {
    return refused(`A ${change.state.replace("_", " ")} change has no gate left to force.`);
  }
  if (change.forced.some((force) => force.gate === gate)) {
    return refused(`The ${gate} gate is forced already.`);
  }
  if (gate === "approval" && change.authorId === principalId) {
    return refused("You wrote this change: you cannot force its approval (four eyes).");
  }
  const pending = change.pendingForces.find((force) => force.gate === gate);
  if (pending?.adminIds.includes(principalId)) {
    return refused(
      `You asked already: a second, different administrator must ask to force ${gate}.`,
    );
  }
  return allowed;
}

export function rolloutStance(change: ChangeForActions, roles: readonly string[]): ActionStance {
  if (!roles.includes("operator")) return refused("Starting a rollout needs the operator role.");
  if (change.state !== "approved") {
    return refused(
      `Only an approved change rolls out; this one is ${change.state.replace("_", " ")}.`,
    );
  }
  return allowed;
}

export function rollbackStance(change: ChangeForActions, roles: readonly string[]): ActionStance {
  if (!roles.includes("operator")) return refused("Rolling back needs the operator role.");
  if (change.state !== "rolling_out" && change.state !== "active") {
    return refused(
      `Only a rolling-out or active change rolls back; this one is ${change.state.replace("_", " ")}.`,
    );
  }
  return allowed;
}

/** Kills are for operators and administrators: turning money off never waits for a role. */
export function killStance(campaignIds: readonly string[], roles: readonly string[]): ActionStance {
  if (!roles.includes("operator") && !roles.includes("admin")) {
    return refused("Killing needs the operator or admin role.");
  }
  if (campaignIds.length === 0) return refused("The change touches no campaign to kill.");
  if (campaignIds.length > 32)
    return refused("A kill names at most 32 campaigns; kill the template instead.");
  return allowed;
}

/**
 * Stage shares typed as percentages (`1, 10, 50, 100`) into basis points, or why they cannot be
 * a plan: 2 to 10 growing stages ending at 100 %, the first at most 10 % (the server checks the
 * rest of the plan). Empty means the default plan.
 */
export function parseStageShares(
  text: string,
): { sharesBps: number[] | undefined } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { sharesBps: undefined };
  const parts = trimmed.split(/[\s,]+/).filter((part) => part !== "");
  const sharesBps: number[] = [];
  for (const part of parts) {
    const percent = Number(part.replace(/%$/, ""));
    if (!Number.isFinite(percent) || percent <= 0 || percent > 100) {
      return { problem: `“${part}” is not a percentage between 0 and 100.` };
    }
    const bps = Math.round(percent * 100);
    if (bps !== percent * 100) return { problem: `“${part}”: at most two decimals.` };
    sharesBps.push(bps);
  }
  if (sharesBps.length < 2 || sharesBps.length > 10) return { problem: "Give 2 to 10 stages." };
  for (let index = 1; index < sharesBps.length; index += 1) {
    if ((sharesBps[index] as number) <= (sharesBps[index - 1] as number)) {
      return { problem: "Each stage must reach more identities than the one before." };
    }
  }
  if (sharesBps[sharesBps.length - 1] !== 10_000) return { problem: "The last stage is 100 %." };
  if ((sharesBps[0] as number) > 1_000) return { problem: "The first stage is at most 10 %." };
  return { sharesBps };
}

export interface RolloutStageView {
  readonly shareBps: number;
  readonly moneyAtRiskMaxMinor: number;
  readonly dwellMinMs: number;
  readonly status: "done" | "current" | "next";
}

export interface RolloutComparison {
  readonly stages: readonly RolloutStageView[];
  readonly observed: {
    readonly payments: number;
    readonly subsidisedPayments: number;
    readonly subsidyMinor: number;
    readonly subsidyPerPaymentMilliMinor: number | undefined;
    readonly subsidisedShareBps: number | undefined;
  };
  readonly forecast:
    | { readonly subsidyPerPaymentMilliMinor: number; readonly subsidisedShareBps: number }
    | undefined;
  /** Observed over forecast subsidy per payment, bps (10,000 = on forecast); undefined before data. */
  readonly subsidyRatioBps: number | undefined;
  readonly toleranceBps: number;
  readonly paymentsMin: number;
  /** The current stage's ceiling used, bps. */
  readonly moneyAtRiskUsedBps: number;
}

export interface RolloutLike {
  readonly plan: {
    readonly stages: readonly {
      shareBps: number;
      moneyAtRiskMaxMinor: number;
      dwellMinMs: number;
    }[];
    readonly toleranceBps: number;
    readonly paymentsMin: number;
  };
  readonly stageIndex: number;
  readonly observation: {
    readonly payments: number;
    readonly subsidisedPayments: number;
    readonly subsidyMinor: number;
  };
}

/** The current stage against the forecast the change was approved with. */
export function rolloutComparison(
  rollout: RolloutLike,
  forecast: { subsidyPerPaymentMilliMinor: number; subsidisedShareBps: number } | undefined,
  finished: boolean,
): RolloutComparison {
  const observation = rollout.observation;
  const perPayment =
    observation.payments > 0
      ? Math.round((observation.subsidyMinor * 1000) / observation.payments)
      : undefined;
  const share =
    observation.payments > 0
      ? Math.round((observation.subsidisedPayments / observation.payments) * 10_000)
      : undefined;
  const current = rollout.plan.stages[rollout.stageIndex];
  return {
    stages: rollout.plan.stages.map((stage, index) => ({
      ...stage,
      status:
        finished || index < rollout.stageIndex
          ? "done"
          : index === rollout.stageIndex
            ? "current"
            : "next",
    })),
    observed: {
      ...observation,
      subsidyPerPaymentMilliMinor: perPayment,
      subsidisedShareBps: share,
    },
    forecast,
    subsidyRatioBps:
      perPayment === undefined ||
      forecast === undefined ||
      forecast.subsidyPerPaymentMilliMinor === 0
        ? undefined
        : Math.round((perPayment / forecast.subsidyPerPaymentMilliMinor) * 10_000),
    toleranceBps: rollout.plan.toleranceBps,
    paymentsMin: rollout.plan.paymentsMin,
    moneyAtRiskUsedBps:
      current === undefined || current.moneyAtRiskMaxMinor <= 0
        ? 0
        : Math.round((observation.subsidyMinor / current.moneyAtRiskMaxMinor) * 10_000),
  };
}
