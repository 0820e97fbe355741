import type { ConfigSet, EffectiveCampaign } from "../model/config-set.ts";
import type { EnvelopeCurrency } from "../model/envelope.ts";
import type { Period } from "../model/schedule.ts";
import type { Currency } from "../money.ts";
import type { Scenario } from "../scenario.ts";
import type { LintCode } from "./lint-codes.ts";

/** Typical payment amounts of one scenario, in minor units. */
export interface TypicalAmounts {
  readonly medianMinor: number;
  readonly p99Minor: number;
}

/** What rules need from outside the proposed configuration. Everything is optional. */
export interface LintContext {
  /** The configuration active now; rules about edits (template fan-out) run only with it. */
  readonly previous?: ConfigSet;
  /** Typical payment amounts per scenario, to judge magnitudes (fen vs yuan). */
  readonly typicalAmountsMinor?: Readonly<Partial<Record<Scenario, TypicalAmounts>>>;
  /** What each program has left to fund, by program id; its whole budget when absent. */
  readonly programRemainingMinor?: Readonly<Record<string, number>>;
  /** The instant of the lint run, epoch milliseconds; rules about expiry run only with it. */
  readonly atMs?: number;
  /** Finds a path's line and column in a source, when the caller parsed files. */
  readonly locate?: (
    source: string,
    path: readonly (string | number)[],
  ) => { line: number; column: number } | undefined;
}

export type DocumentKindForLint =
  | "template"
  | "campaign"
  | "program"
  | "envelope"
  | "external-campaign"
  | "set";

/** Where a finding points: a document by kind and id, and a path inside it. */
export interface LintTarget {
  readonly kind: DocumentKindForLint;
  readonly id: string;
}

export interface LintReport {
  readonly code: LintCode;
  readonly target: LintTarget;
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly campaignIds?: readonly string[];
}

/** The proposed set with lookups several rules share, built once per run. */
export interface LintInput {
  readonly proposed: ConfigSet;
  readonly context: LintContext;
  readonly campaignsByTemplate: ReadonlyMap<string, readonly EffectiveCampaign[]>;
  readonly envelopeFor: (currency: Currency) => EnvelopeCurrency | undefined;
  /** A period's instants, computed once per distinct period in a run (zone lookups are slow). */
  readonly instantsOf: (period: Period) => { startMs: number; endMs: number };
}

/** One rule or family: the codes it may report and its check over the whole input. */
export interface LintRule {
  readonly name: string;
  readonly codes: readonly LintCode[];
  readonly check: (input: LintInput, report: (finding: LintReport) => void) => void;
}

export function campaignTarget(effective: EffectiveCampaign): LintTarget {
  return { kind: "campaign", id: effective.campaign.id };
}

/** A short list of ids for messages: the first few and how many more. */
export function listIds(ids: readonly string[], shownMax = 5): string {
  if (ids.length <= shownMax) return ids.join(", ");
  return `${ids.slice(0, shownMax).join(", ")} and ${ids.length - shownMax} more`;
}
