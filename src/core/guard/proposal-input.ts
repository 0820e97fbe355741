/**
 * What guard mode reads from a caller: the subsidies an external promotion engine proposes for a
 * payment, and the external campaigns a platform registers with their declared scope. The Zod
 * schemas are the reference (and the OpenAPI document); `checkProposalList` is the hot path's
 * hand-written check, accepting exactly what `proposalListSchema` accepts (a differential test
 * proves it) without running Zod, as `fast-payment-check.ts` does for payments.
 */
import { z } from "zod";
import { FUNDING_SOURCES, type FundingSource, LABEL_KINDS, type LabelKind } from "../funding.ts";
import {
  identifier,
  MODEL_LIMITS,
  minorUnits,
  region,
  scenario,
  scopeList,
  timeZone,
} from "../model/fields.ts";
import { externalId, paymentSchema } from "../model/payment.ts";
import { AMOUNT_MINOR_MAX } from "../money.ts";
import type { Region } from "../region.ts";
import type { Scenario } from "../scenario.ts";

export const PROPOSAL_CHECK_LIMITS = {
  /** Proposals on one payment: more than any real basket's promotions. */
  proposalsMax: 32,
  proposalIdLengthMax: MODEL_LIMITS.idLengthMax,
  /** `ext:` and the reference must fit a kill's 64-character campaign id. */
  campaignRefLengthMax: 60,
  /** External campaigns registered at once. */
  externalCampaignsMax: 10_000,
} as const;

/** How external campaigns are named to kills, the runtime guard and the ledger: never a native id. */
export const EXTERNAL_CAMPAIGN_PREFIX = "ext:";
/**
 * The template every external campaign counts under: a template kill of `ext:*` refuses all an
 * external engine proposes, and the runtime guard keeps one spend baseline for the whole engine.
 * Native template ids are lower-case letters, digits and dashes, so it never names one of theirs.
 */
export const EXTERNAL_TEMPLATE_ID = "ext:*";
/** External campaigns have no versions yet: every grant is version 1 of its campaign. */
export const EXTERNAL_CAMPAIGN_VERSION = 1;

export const campaignRef = externalId.max(PROPOSAL_CHECK_LIMITS.campaignRefLengthMax);

/** One subsidy an external engine proposes. */
export const proposalSchema = z.strictObject({
  proposalId: externalId.meta({ description: "The caller's reference for this proposal." }),
  campaignRef: campaignRef.meta({ description: "The campaign's id in the external engine." }),
  amountMinor: minorUnits({ min: 1, description: "The subsidy proposed, in minor units." }),
  funding: z.enum(FUNDING_SOURCES),
  label: z.enum(LABEL_KINDS),
  programId: identifier
    .optional()
    .meta({ description: "The registered subsidy program, for government funding or label." }),
});

export const proposalListSchema = z
  .array(proposalSchema)
  .max(PROPOSAL_CHECK_LIMITS.proposalsMax)
  .refine(
    (proposals) =>
      new Set(proposals.map((proposal) => proposal.proposalId)).size === proposals.length,
    { message: "proposalIds must be distinct" },
  );

export interface Proposal {
  readonly proposalId: string;
  readonly campaignRef: string;
  readonly amountMinor: number;
  readonly funding: FundingSource;
  readonly label: LabelKind;
  readonly programId?: string;
}

/**
 * An external campaign as the platform registers it: what it may fund, how it is labelled and
 * where it may reach. A proposal outside its declaration is refused (`registration.*`).
 */
export const externalCampaignSchema = z.strictObject({
  campaignRef,
  funding: z.enum(FUNDING_SOURCES),
  label: z.enum(LABEL_KINDS),
  scope: z.strictObject({
    scenarios: scopeList(scenario),
    regions: scopeList(region),
  }),
  perPaymentMaxMinor: minorUnits({
    min: 1,
    description: "Most this campaign may give on one payment, across its proposals.",
  }).optional(),
  spendPerMinuteMaxMinor: minorUnits({
    min: 1,
    description:
      "The declared spend ceiling per minute: the runtime guard trips the campaign's breaker above it.",
  }).optional(),
  budgetMinor: minorUnits({
    min: 1,
    description:
      "The campaign's total budget in the ledger (`campaign/ext:<campaignRef>`, funded up to it explicitly and audited): checks past it are refused `ledger.budget_exhausted`. Needs a ledger (docs/reference/guard-mode-ledger.md).",
  }).optional(),
  dailyBudget: z
    .strictObject({
      amountMinor: minorUnits({ min: 1, description: "The most the campaign may give in a day." }),
      timeZone,
    })
    .optional()
    .meta({
      description:
        "The campaign's budget per local day in `timeZone` (`campaign-day/ext:<campaignRef>/DATE`): checks past it are refused `ledger.daily_budget_exhausted`. Needs a ledger.",
    }),
});

export interface ExternalCampaign {
  readonly campaignRef: string;
  readonly funding: FundingSource;
  readonly label: LabelKind;
  readonly scope: { readonly scenarios: readonly Scenario[]; readonly regions: readonly Region[] };
  readonly perPaymentMaxMinor?: number;
  /** The declared spend ceiling per minute, watched by the runtime guard as a native one is. */
  readonly spendPerMinuteMaxMinor?: number;
  /**
   * The total budget the ledger of checked subsidies enforces, as a native campaign's: funded
   * explicitly (`CheckedSubsidyLedger.fundRegistered`), never overspent.
   */
  readonly budgetMinor?: number;
  /** The budget per local day in `timeZone`, enforced by the ledger as a native daily budget. */
  readonly dailyBudget?: { readonly amountMinor: number; readonly timeZone: string };
}

/** What the caller wants when Bursar cannot vouch for its configuration or kill state. */
export const WHEN_UNHEALTHY_VALUES = ["refuse", "pass"] as const;
export type WhenUnhealthy = (typeof WHEN_UNHEALTHY_VALUES)[number];

/** A check request: the payment, its proposals, and optionally the caller's unhealthy default. */
export const guardCheckRequestSchema = z.strictObject({
  payment: paymentSchema,
  proposals: proposalListSchema,
  whenUnhealthy: z.enum(WHEN_UNHEALTHY_VALUES).optional().meta({
    description:
      "What to answer when Bursar cannot vouch for its configuration or kill state; default the service's (refuse).",
  }),
});

/** Where the hand check found the list invalid: a path like `proposals[2].amountMinor`. */
export interface ProposalListProblem {
  readonly path: string;
  readonly message: string;
}

const FUNDING_SET: ReadonlySet<unknown> = new Set(FUNDING_SOURCES);
const LABEL_SET: ReadonlySet<unknown> = new Set(LABEL_KINDS);
const IDENTIFIER_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/** Characters of `externalId` (`/^[A-Za-z0-9_.:-]+$/`), by ASCII code. */
const EXTERNAL_ID_CHARACTERS = (() => {
  const table = new Uint8Array(128);
  const allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-";
  for (let index = 0; index < allowed.length; index += 1) table[allowed.charCodeAt(index)] = 1;
  return table;
})();

function isProposalKey(key: string): boolean {
  switch (key) {
    case "proposalId":
    case "campaignRef":
    case "amountMinor":
    case "funding":
    case "label":
    case "programId":
      return true;
    default:
      return false;
  }
}

/**
 * Undefined when `proposalListSchema.safeParse(input)` succeeds (then `input` is a
 * `readonly Proposal[]`), else where it first fails. Allocates nothing on success.
 */
export function checkProposalList(input: unknown): ProposalListProblem | undefined {
  if (!Array.isArray(input)) return { path: "proposals", message: "expected a list" };
  if (input.length > PROPOSAL_CHECK_LIMITS.proposalsMax) {
    return {
      path: "proposals",
      message: `at most ${PROPOSAL_CHECK_LIMITS.proposalsMax} proposals`,
    };
  }
  for (let index = 0; index < input.length; index += 1) {
    const problem = proposalProblem(input[index]);
    if (problem !== undefined) {
      return { path: `proposals[${index}]${problem.field}`, message: problem.message };
    }
  }
  // Quadratic over at most 32 short strings beats building a Set on every check.
  for (let index = 1; index < input.length; index += 1) {
    const proposalId = (input[index] as Proposal).proposalId;
    for (let earlier = 0; earlier < index; earlier += 1) {
      if ((input[earlier] as Proposal).proposalId === proposalId) {
        return {
          path: `proposals[${index}].proposalId`,
          message: "proposalIds must be distinct",
        };
      }
    }
  }
  return undefined;
}

function proposalProblem(input: unknown): { field: string; message: string } | undefined {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { field: "", message: "expected an object" };
  }
  for (const key in input) {
    if (!isProposalKey(key)) return { field: `.${key}`, message: "unknown field" };
  }
  const proposal = input as Record<string, unknown>;
  if (!isExternalId(proposal.proposalId, PROPOSAL_CHECK_LIMITS.proposalIdLengthMax)) {
    return { field: ".proposalId", message: "expected 1–64 of A–Z a–z 0–9 _ . : -" };
  }
  if (!isExternalId(proposal.campaignRef, PROPOSAL_CHECK_LIMITS.campaignRefLengthMax)) {
    return { field: ".campaignRef", message: "expected 1–60 of A–Z a–z 0–9 _ . : -" };
  }
  const amountMinor = proposal.amountMinor;
  if (
    typeof amountMinor !== "number" ||
    !Number.isSafeInteger(amountMinor) ||
    amountMinor < 1 ||
    amountMinor > AMOUNT_MINOR_MAX
  ) {
    return { field: ".amountMinor", message: "expected a positive integer amount in minor units" };
  }
  if (!FUNDING_SET.has(proposal.funding)) {
    return { field: ".funding", message: `expected one of ${FUNDING_SOURCES.join(", ")}` };
  }
  if (!LABEL_SET.has(proposal.label)) {
    return { field: ".label", message: `expected one of ${LABEL_KINDS.join(", ")}` };
  }
  const programId = proposal.programId;
  if (
    programId !== undefined &&
    (typeof programId !== "string" ||
      programId.length > MODEL_LIMITS.idLengthMax ||
      !IDENTIFIER_PATTERN.test(programId))
  ) {
    return { field: ".programId", message: "expected a program identifier" };
  }
  return undefined;
}

function isExternalId(value: unknown, lengthMax: number): value is string {
  if (typeof value !== "string") return false;
  const length = value.length;
  if (length === 0 || length > lengthMax) return false;
  for (let index = 0; index < length; index += 1) {
    const code = value.charCodeAt(index);
    if (code >= 128 || EXTERNAL_ID_CHARACTERS[code] === 0) return false;
  }
  return true;
}
