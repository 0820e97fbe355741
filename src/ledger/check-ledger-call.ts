/**
 * The shape and size checks a call passes before it is queued for the worker: limits on
 * everything (STYLE rule 9), and no value that SQLite would store as anything but an exact
 * integer or a bounded string. A failing call is a caller bug, reported before any work is done.
 */
import { EXTERNAL_CAMPAIGN_PREFIX, PROPOSAL_CHECK_LIMITS } from "../core/guard/proposal-input.ts";
import type { StoredCheck } from "../core/ledger/checked-subsidies.ts";
import { LIMIT_REFUSAL_CODES } from "../core/ledger/ledger-codes.ts";
import { REFUND_RESTORES, type RefundCommand } from "../core/ledger/refund.ts";
import {
  type Debit,
  identityNameEnd,
  type PlannedSubsidy,
  type ReservationRequest,
} from "../core/ledger/reservation.ts";
import type { SettleCommand } from "../core/ledger/settlement.ts";
import { isAmountMinor } from "../core/money.ts";
import type { LedgerCall } from "./ledger-call.ts";

export const LEDGER_CALL_LIMITS = {
  /** Requests in one `reserve` call, commands in one `settle` call. */
  itemsPerCallMax: 10_000,
  subsidiesPerRequestMax: 64,
  debitsPerSubsidyMax: 16,
  /** Payment ids, account names, campaign ids. */
  idLengthMax: 256,
  contentKeyLengthMax: 4096,
  reasonLengthMax: 1024,
  /** Uses one debit may draw; a cap counts payments, so 1 in practice. */
  debitCountMax: 1_000_000,
  expireDueLimitMax: 100_000,
} as const;

const REFUSALS: ReadonlySet<string> = new Set(LIMIT_REFUSAL_CODES);
const REFUND_POLICIES: ReadonlySet<string> = new Set(REFUND_RESTORES);

/** The first problem with the call, or undefined when it may be queued. */
export function checkLedgerCall(call: LedgerCall): string | undefined {
  switch (call.kind) {
    case "reserve":
      return checkItems(call.requests, "requests", checkRequest);
    case "settle":
      return checkItems(call.commands, "commands", checkCommand);
    case "refund":
      return checkItems(call.commands, "commands", checkRefund);
    case "fund":
      return (
        checkId(call.account, "account") ??
        checkText(call.reason, "reason", LEDGER_CALL_LIMITS.reasonLengthMax) ??
        checkInstant(call.atMs, "atMs")
      );
    case "fundUpTo":
      return (
        checkItems(call.targets, "targets", (target) =>
          typeof target !== "object" || target === null
            ? "a target must be an object"
            : (checkId(target.account, "account") ??
              (Number.isSafeInteger(target.targetMinor) && target.targetMinor >= 0
                ? undefined
                : "targetMinor must be a non-negative whole number of minor units")),
        ) ??
        checkText(call.reason, "reason", LEDGER_CALL_LIMITS.reasonLengthMax) ??
        checkInstant(call.atMs, "atMs")
      );
    case "expireDue":
      if (
        !Number.isSafeInteger(call.limit) ||
        call.limit < 0 ||
        call.limit > LEDGER_CALL_LIMITS.expireDueLimitMax
      ) {
        return `limit must be a whole number from 0 to ${LEDGER_CALL_LIMITS.expireDueLimitMax}`;
      }
      return checkInstant(call.nowMs, "nowMs");
    case "balance":
      return checkId(call.account, "account");
    case "verify":
      return undefined;
  }
}

function checkItems<T>(
  items: readonly T[],
  name: string,
  checkItem: (item: T) => string | undefined,
): string | undefined {
  if (!Array.isArray(items)) return `${name} must be an array`;
  if (items.length > LEDGER_CALL_LIMITS.itemsPerCallMax) {
    return `${items.length} ${name} in one call; the limit is ${LEDGER_CALL_LIMITS.itemsPerCallMax}`;
  }
  for (const item of items) {
    const problem = checkItem(item);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

// Checked for every payment: no strings or sets are made unless there is a problem to report.
function checkRequest(request: ReservationRequest): string | undefined {
  const problem =
    checkId(request.paymentId, "paymentId") ??
    checkText(request.contentKey, "contentKey", LEDGER_CALL_LIMITS.contentKeyLengthMax) ??
    checkInstant(request.atMs, "atMs") ??
    checkInstant(request.expiresAtMs, "expiresAtMs") ??
    checkWhole(request.snapshotVersion, "snapshotVersion") ??
    checkAmount(request.paymentAmountMinor, "paymentAmountMinor") ??
    checkOwner(request.owner);
  if (problem !== undefined) return inRequest(request, problem);
  if (request.commitAtOnce !== undefined && typeof request.commitAtOnce !== "boolean") {
    return inRequest(request, "commitAtOnce must be a boolean");
  }
  if (request.check !== undefined) {
    const checkProblem = checkStoredCheck(request.check);
    if (checkProblem !== undefined) return inRequest(request, `check: ${checkProblem}`);
  }
  if (!Array.isArray(request.subsidies)) return inRequest(request, "subsidies must be an array");
  const subsidies = request.subsidies;
  if (subsidies.length > LEDGER_CALL_LIMITS.subsidiesPerRequestMax) {
    return inRequest(
      request,
      `${subsidies.length} subsidies; the limit is ${LEDGER_CALL_LIMITS.subsidiesPerRequestMax}`,
    );
  }
  for (let index = 0; index < subsidies.length; index += 1) {
    const subsidy = subsidies[index]!;
    // The ledger keeps one entry per payment and campaign (a few subsidies: no set needed).
    for (let earlier = 0; earlier < index; earlier += 1) {
      if (subsidies[earlier]!.campaignId === subsidy.campaignId) {
        return inRequest(request, `campaign ${subsidy.campaignId} appears twice`);
      }
    }
    const subsidyProblem = checkSubsidy(subsidy);
    if (subsidyProblem !== undefined) return inRequest(request, subsidyProblem);
  }
  return undefined;
}

function inRequest(request: ReservationRequest, problem: string): string {
  return `request ${String(request.paymentId)}: ${problem}`;
}

function checkSubsidy(subsidy: PlannedSubsidy): string | undefined {
  const problem =
    checkId(subsidy.campaignId, "campaignId") ??
    checkWhole(subsidy.campaignVersion, "campaignVersion") ??
    checkAmount(subsidy.amountMinor, "amountMinor");
  if (problem !== undefined) return `subsidy ${String(subsidy.campaignId)}: ${problem}`;
  if (!REFUND_POLICIES.has(subsidy.refundRestores)) {
    return `subsidy ${subsidy.campaignId}: refundRestores ${String(subsidy.refundRestores)} is not a refund policy`;
  }
  if (!Array.isArray(subsidy.debits))
    return `subsidy ${subsidy.campaignId}: debits must be an array`;
  if (subsidy.debits.length > LEDGER_CALL_LIMITS.debitsPerSubsidyMax) {
    return `subsidy ${subsidy.campaignId}: ${subsidy.debits.length} debits; the limit is ${LEDGER_CALL_LIMITS.debitsPerSubsidyMax}`;
  }
  let drawsOnFunded = false;
  for (const debit of subsidy.debits) {
    const debitProblem = checkDebit(debit);
    if (debitProblem !== undefined) return `subsidy ${subsidy.campaignId}: ${debitProblem}`;
    drawsOnFunded ||= debit.funded === true;
  }
  // A subsidy that draws on no funded budget would be money without a ceiling. An external
  // campaign's may (guard mode, ADR 0023): the external engine grants it, bounded per payment by
  // the envelope, and the ledger records it; only a registered budget gives it a ceiling here.
  if (!drawsOnFunded && !subsidy.campaignId.startsWith(EXTERNAL_CAMPAIGN_PREFIX)) {
    return `subsidy ${subsidy.campaignId}: draws on no funded budget`;
  }
  return undefined;
}

/** Guard mode's stored check: its size is bounded like the request it came from. */
function checkStoredCheck(check: StoredCheck): string | undefined {
  if (typeof check !== "object" || check === null) return "must be an object";
  if (check.unhealthy !== null && typeof check.unhealthy !== "string") {
    return "unhealthy must be a code or null";
  }
  if (!Array.isArray(check.answers)) return "answers must be an array";
  if (check.answers.length > PROPOSAL_CHECK_LIMITS.proposalsMax) {
    return `${check.answers.length} answers; the limit is ${PROPOSAL_CHECK_LIMITS.proposalsMax}`;
  }
  for (const answer of check.answers) {
    const problem =
      (typeof answer === "object" && answer !== null ? undefined : "an answer must be an object") ??
      checkId(answer.proposalId, "proposalId") ??
      checkId(answer.campaignRef, "campaignRef") ??
      checkAmount(answer.proposedMinor, "proposedMinor") ??
      checkAmount(answer.amountMinor, "amountMinor") ??
      checkText(answer.outcome, "outcome", LEDGER_CALL_LIMITS.idLengthMax) ??
      (answer.reason === null ? undefined : checkId(answer.reason, "reason")) ??
      (answer.clampedBy === null ? undefined : checkId(answer.clampedBy, "clampedBy"));
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function checkDebit(debit: Debit): string | undefined {
  const problem =
    checkId(debit.account, "account") ??
    checkAmount(debit.amountMinor, "amountMinor") ??
    (Number.isSafeInteger(debit.count) &&
    debit.count >= 0 &&
    debit.count <= LEDGER_CALL_LIMITS.debitCountMax
      ? undefined
      : `count must be a whole number from 0 to ${LEDGER_CALL_LIMITS.debitCountMax}`) ??
    (typeof debit.funded === "boolean" ? undefined : "funded must be a boolean") ??
    (debit.capacityMinor === null
      ? undefined
      : checkAmount(debit.capacityMinor, "capacityMinor")) ??
    (debit.countCapacity === null ? undefined : checkWhole(debit.countCapacity, "countCapacity")) ??
    (REFUSALS.has(debit.refusal)
      ? undefined
      : `refusal ${String(debit.refusal)} is not a limit code`) ??
    checkIdentityParts(debit);
  return problem === undefined ? undefined : `debit ${String(debit.account)}: ${problem}`;
}

/**
 * The parts of a per-identity name, when given, must be that name split after its identity:
 * `identity/K/` (K without `/`) and the rest — the split a store makes when it has only the name.
 */
function checkIdentityParts(debit: Debit): string | undefined {
  const { identityPrefix: prefix, identitySuffix: suffix } = debit;
  if (prefix === undefined && suffix === undefined) return undefined;
  if (
    typeof prefix !== "string" ||
    typeof suffix !== "string" ||
    identityNameEnd(debit.account) !== prefix.length - 1 ||
    debit.account.length !== prefix.length + suffix.length ||
    !debit.account.startsWith(prefix) ||
    !debit.account.endsWith(suffix)
  ) {
    return "identityPrefix and identitySuffix must split the name after `identity/K/`";
  }
  return undefined;
}

function checkCommand(command: SettleCommand): string | undefined {
  if (command.kind !== "commit" && command.kind !== "release") {
    return `settle kind ${String((command as { kind: unknown }).kind)} is neither commit nor release`;
  }
  // totalMinor is left to the ledger: an unusable amount is answered with `invalid_amount`.
  const problem =
    checkId(command.paymentId, "paymentId") ??
    checkInstant(command.atMs, "atMs") ??
    checkOwner(command.owner) ??
    (command.kind === "commit" &&
    command.totalMinor !== undefined &&
    typeof command.totalMinor !== "number"
      ? "totalMinor must be a number"
      : undefined);
  return problem === undefined ? undefined : `command ${String(command.paymentId)}: ${problem}`;
}

function checkRefund(command: RefundCommand): string | undefined {
  // amountMinor is left to the ledger: an unusable amount is answered with `invalid_amount`.
  const problem =
    checkId(command.paymentId, "paymentId") ??
    checkId(command.refundId, "refundId") ??
    checkInstant(command.atMs, "atMs") ??
    checkOwner(command.owner) ??
    (typeof command.amountMinor === "number" ? undefined : "amountMinor must be a number");
  return problem === undefined ? undefined : `refund ${String(command.refundId)}: ${problem}`;
}

function checkId(value: unknown, name: string): string | undefined {
  return (
    checkText(value, name, LEDGER_CALL_LIMITS.idLengthMax) ??
    ((value as string).length === 0 ? `${name} must not be empty` : undefined)
  );
}

/** Absent, or an id: an empty owner would read as "someone" yet match no principal. */
function checkOwner(value: unknown): string | undefined {
  return value === undefined ? undefined : checkId(value, "owner");
}

function checkText(value: unknown, name: string, lengthMax: number): string | undefined {
  if (typeof value !== "string") return `${name} must be a string`;
  if (value.length > lengthMax)
    return `${name} is ${value.length} characters; the limit is ${lengthMax}`;
  return undefined;
}

function checkInstant(value: unknown, name: string): string | undefined {
  return Number.isSafeInteger(value) ? undefined : `${name} must be whole milliseconds`;
}

function checkWhole(value: unknown, name: string): string | undefined {
  return Number.isSafeInteger(value) && (value as number) >= 0
    ? undefined
    : `${name} must be a non-negative whole number`;
}

function checkAmount(value: unknown, name: string): string | undefined {
  return isAmountMinor(value) ? undefined : `${name} must be whole minor units from 0 to 10^15`;
}
