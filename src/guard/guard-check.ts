/**
 * Guard mode as a service (DESIGN §4.7, docs/reference/guard-mode.md): an external promotion
 * engine's proposals checked against what this process serves — the envelope and programs of the
 * served configuration, the kills it knows — and what was allowed recorded by a runtime guard as
 * external campaigns (`ext:<campaignRef>`), so the same monitors see them. In `bursar serve` the
 * recorder and the kill state are the payment serving's (`PaymentServing.recordExternal`,
 * `guardModeKills`): one guard, one responder, one kill state for native and external grants.
 *
 * Unhealthy means no configuration is served, or the kill state has not been confirmed current
 * within its allowed staleness. The answer then follows `whenUnhealthy` — the request's, else the
 * service's: `refuse` (the default, fail closed for subsidies, DESIGN §3.7) refuses every proposal;
 * `pass` still checks all that can be checked (see `core/guard/proposal-check.ts`) and reports
 * `unhealthy` in the answer.
 *
 * The hot path runs no Zod: the request is checked by hand (proven equal to the schemas), the
 * kill matcher is rebuilt only when the kill state changes, and the check's context only when
 * the served configuration, the kills or the staleness change.
 *
 * With a ledger (optional; ADR 0023, docs/reference/guard-mode-ledger.md), `checkAndRecord`
 * also records what was allowed in the ledger of checked subsidies before it answers — once per
 * payment id, committed at once, within registered budgets — and the runtime guard sees each
 * payment's check once, not again on a replay. `check` stays synchronous and records nothing in
 * the ledger, as before.
 */
import type { Decision } from "../core/evaluator/decision.ts";
import { CheckedPayment } from "../core/evaluator/fast-payment-check.ts";
import {
  isKillStateStale,
  type KillFreshness,
  KillMatcher,
  type KillState,
} from "../core/guard/kill.ts";
import {
  checkGuardRequest,
  decisionOfCheck,
  type ProposalCheck,
  type ProposalCheckContext,
} from "../core/guard/proposal-check.ts";
import {
  type ExternalCampaign,
  externalCampaignSchema,
  PROPOSAL_CHECK_LIMITS,
  type Proposal,
  type WhenUnhealthy,
} from "../core/guard/proposal-input.ts";
import { type RecordedCheck, unstoredCheckOf } from "../core/ledger/checked-subsidies.ts";
import type { Envelope } from "../core/model/envelope.ts";
import type { Payment } from "../core/model/payment.ts";
import type { Program } from "../core/model/program.ts";
import type { CheckedSubsidyLedger } from "../ledger/checked-subsidy-ledger.ts";

/** What guard mode reads of the served configuration (a `Snapshot` is one). */
export interface GuardCheckServed {
  readonly version: number;
  readonly envelope: Envelope;
  readonly programs: ReadonlyMap<string, Program>;
  /**
   * Registrations served with the configuration (documents of kind `external-campaign`), by
   * campaignRef: checked over the options' for the same campaignRef — they went through review.
   */
  readonly externalCampaigns?: ReadonlyMap<string, ExternalCampaign>;
}

/** The kills this process holds and when they were last confirmed current (a `KillWatcher` is one). */
export interface GuardCheckKills extends KillFreshness {
  readonly state: KillState;
}

/** Where allowed subsidies go (a `RuntimeGuard` is one). It must not keep the decision's arrays. */
export interface GuardRecorder {
  record(payment: Payment, decision: Decision): void;
}

export interface GuardCheckOptions {
  /** The configuration served now, or undefined when none is (not loaded yet). */
  readonly served: () => GuardCheckServed | undefined;
  readonly kills: GuardCheckKills;
  readonly guard: GuardRecorder;
  readonly nowMs: () => number;
  /** The default when Bursar is unhealthy; a request may name its own. */
  readonly whenUnhealthy: WhenUnhealthy;
  /** External campaigns with their declared funding, label and scope; checked here. */
  readonly externalCampaigns?: readonly ExternalCampaign[];
  /**
   * The ledger of checked subsidies, for `checkAndRecord`. Without it `checkAndRecord` answers as
   * `check` does (`ledger: null`). Fund the registered budgets first
   * (`CheckedSubsidyLedger.fundRegistered`).
   */
  readonly ledger?: CheckedSubsidyLedger;
}

export class GuardCheckService {
  private readonly checked = new CheckedPayment();
  /** Registered by the options (`GuardCheckOptions.externalCampaigns`). */
  private readonly externalCampaigns: ReadonlyMap<string, ExternalCampaign>;
  /** The options' with the last served configuration's over them, and that configuration. */
  private registrations: ReadonlyMap<string, ExternalCampaign>;
  private registrationsServed: GuardCheckServed | undefined;
  private killState: KillState | undefined;
  private matcher: KillMatcher | undefined;
  private context: ProposalCheckContext | undefined;
  private contextServed: GuardCheckServed | undefined;

  constructor(private readonly options: GuardCheckOptions) {
    this.externalCampaigns = externalCampaignRegistry(options.externalCampaigns ?? []);
    this.registrations = this.externalCampaigns;
  }

  /**
   * One request, `{payment, proposals, whenUnhealthy?}`: answered per proposal, never thrown.
   * Every payment that is valid is recorded, subsidised or not (the monitors' denominators).
   */
  check(input: unknown): ProposalCheck {
    const served = this.options.served();
    const context = this.contextFor(served);
    const check = checkGuardRequest(input, context, this.checked);
    if (check.reason === "request.invalid" || check.reason === "proposals.invalid") return check;
    if (check.reason === "payment.invalid") return check;
    const request = input as { payment: Payment; proposals: readonly Proposal[] };
    this.options.guard.record(
      request.payment,
      decisionOfCheck(check, request.proposals, served?.version ?? 0),
    );
    return check;
  }

  /** True when `checkAndRecord` records in a ledger (the service was given one). */
  get recordsChecks(): boolean {
    return this.options.ledger !== undefined;
  }

  /**
   * `check`, then, with a ledger, what was allowed recorded before the answer
   * (`CheckedSubsidyLedger.record`): the answer is the stored one, less what the ledger's limits
   * refused; a replay (`replayed: true`) is the first answer again and is not recorded by the
   * runtime guard a second time; an id recorded with other content, or for another principal
   * than `owner` (the caller's; absent in process), allows nothing. Never rejects for a ledger
   * failure: the caller's `whenUnhealthy` answers it.
   */
  async checkAndRecord(input: unknown, owner?: string): Promise<RecordedCheck> {
    const ledger = this.options.ledger;
    if (ledger === undefined) return unstoredCheckOf(this.check(input), null);
    const served = this.options.served();
    const context = this.contextFor(served);
    const check = checkGuardRequest(input, context, this.checked);
    if (
      check.reason === "request.invalid" ||
      check.reason === "proposals.invalid" ||
      check.reason === "payment.invalid"
    ) {
      return unstoredCheckOf(check, null);
    }
    const request = input as {
      payment: Payment;
      proposals: readonly Proposal[];
      whenUnhealthy?: WhenUnhealthy;
    };
    const snapshotVersion = served?.version ?? 0;
    const recorded = await ledger.record({
      payment: request.payment,
      proposals: request.proposals,
      check,
      context: {
        envelope: served?.envelope,
        programs: served?.programs ?? NO_PROGRAMS,
        externalCampaigns: this.registrationsOf(served),
        snapshotVersion,
      },
      whenUnhealthy: request.whenUnhealthy ?? this.options.whenUnhealthy,
      owner,
    });
    // The guard sees what the check allowed, before the ledger's limits, as it sees an
    // evaluator's grants before the native ledger's (ADR 0020: a runaway held back by its budget
    // must not look calm) — once per payment: a replay was recorded the first time, and a
    // conflict is a duplicate of a recorded payment.
    if (!recorded.replayed && recorded.ledger !== "ledger.idempotency_conflict") {
      this.options.guard.record(
        request.payment,
        decisionOfCheck(check, request.proposals, snapshotVersion),
      );
    }
    return recorded;
  }

  /** The registrations in force with `served`: rebuilt only when the served configuration changes. */
  private registrationsOf(
    served: GuardCheckServed | undefined,
  ): ReadonlyMap<string, ExternalCampaign> {
    if (served === this.registrationsServed) return this.registrations;
    this.registrationsServed = served;
    const fromServed = served?.externalCampaigns;
    this.registrations =
      fromServed === undefined || fromServed.size === 0
        ? this.externalCampaigns
        : new Map([...this.externalCampaigns, ...fromServed]);
    return this.registrations;
  }

  private contextFor(served: GuardCheckServed | undefined): ProposalCheckContext {
    const { kills } = this.options;
    const state = kills.state;
    let matcher = this.matcher;
    if (matcher === undefined || state !== this.killState) {
      this.killState = state;
      if (matcher === undefined || matcher.sequence !== state.sequence) {
        matcher = new KillMatcher(state);
        this.matcher = matcher;
      }
    }
    const killStateStale = isKillStateStale(kills, this.options.nowMs());
    const context = this.context;
    if (
      context !== undefined &&
      served === this.contextServed &&
      context.kills === matcher &&
      context.killStateStale === killStateStale
    ) {
      return context;
    }
    this.contextServed = served;
    this.context = {
      envelope: served?.envelope,
      programs: served?.programs ?? NO_PROGRAMS,
      kills: matcher,
      externalCampaigns: this.registrationsOf(served),
      killStateStale,
      whenUnhealthy: this.options.whenUnhealthy,
    };
    return this.context;
  }
}

const NO_PROGRAMS: ReadonlyMap<string, Program> = new Map();

/**
 * Registrations by campaignRef, each parsed by `externalCampaignSchema`. Registrations are
 * configuration: one that cannot mean anything (invalid, registered twice, too many) is the
 * caller's bug, a `RangeError`. A process that also gives them to its runtime guard checks them
 * here first.
 */
export function externalCampaignRegistry(
  campaigns: readonly ExternalCampaign[],
): ReadonlyMap<string, ExternalCampaign> {
  if (campaigns.length > PROPOSAL_CHECK_LIMITS.externalCampaignsMax) {
    throw new RangeError(
      `${campaigns.length} external campaigns registered; at most ${PROPOSAL_CHECK_LIMITS.externalCampaignsMax}`,
    );
  }
  const registry = new Map<string, ExternalCampaign>();
  for (const campaign of campaigns) {
    const parsed = externalCampaignSchema.safeParse(campaign);
    if (!parsed.success) {
      throw new RangeError(
        `external campaign ${String(campaign.campaignRef)} is invalid: ${parsed.error.issues[0]?.message}`,
      );
    }
    if (registry.has(campaign.campaignRef)) {
      throw new RangeError(`external campaign ${campaign.campaignRef} is registered twice`);
    }
    registry.set(campaign.campaignRef, parsed.data);
  }
  return registry;
}
