/**
 * The assessment a change request is submitted with: validation of every proposed document,
 * resolution across documents, lint against what is active now, and a simulation of a traffic
 * sample through the current and the proposed snapshot — what the reviewer sees and what the
 * rollout's forecast is. Validation or resolution errors stop before the simulation (there is
 * no proposed snapshot to run); they block the change like lint errors.
 */

import type { ChangeFinding, ChangeSimulation } from "../core/change/change-request.ts";
import { buildSnapshot } from "../core/evaluator/snapshot.ts";
import { CONFIGURATION_SOURCE, lintConfigSet } from "../core/lint/lint-config-set.ts";
import { lintFindingKey } from "../core/lint/lint-finding.ts";
import type { LintContext } from "../core/lint/lint-rule.ts";
import { type ConfigSet, resolveConfig } from "../core/model/config-set.ts";
import { type ConfigDocument, validateDocument } from "../core/model/document.ts";
import type { Currency } from "../core/money.ts";
import { simulationReportToJson } from "../core/simulation/simulation-report.ts";
import type { AssessProposal, ProposalFindings } from "./change-service.ts";
import { simulateChange } from "./simulate-change.ts";

export interface LintAndSimulateOptions {
  /** A fresh traffic sample for each assessment: recorded payments or the synthetic generator. */
  readonly payments: () => AsyncIterable<unknown> | Iterable<unknown>;
  /** The share of all traffic the sample is, in bps (10,000: all of it). */
  readonly sampleRateBps?: number;
  /** The time the sample covers; its first to last payment when absent (see simulate.md). */
  readonly windowMs?: number;
  /** What the sample is, for the reviewer: recorded files and their rate, or synthetic traffic. */
  readonly sample: string;
  readonly currency: Currency;
  readonly typicalAmountsMinor?: LintContext["typicalAmountsMinor"];
  readonly spendGrowthThresholdBps?: number;
  /** Seeds random offers in both snapshots alike. */
  readonly randomSeed: number;
  readonly nowMs: () => number;
}

export function lintAndSimulate(options: LintAndSimulateOptions): AssessProposal {
  return async ({ current, proposed }) => {
    const invalid = validationFindings(proposed);
    const currentConfig = resolved(current).config;
    const proposedResolution = resolved(proposed);
    const resolutionFindings = proposedResolution.issues.map(({ source, issue }) =>
      finding(issue.code, source, issue.path.join("."), "error", issue.message),
    );
    const context = {
      ...(options.typicalAmountsMinor === undefined
        ? {}
        : { typicalAmountsMinor: options.typicalAmountsMinor }),
      atMs: options.nowMs(),
    };
    // A change answers for what it adds: findings the active configuration already has (same
    // code, document and path) on documents the change leaves alone are not the change's, and
    // would otherwise need acknowledging on every change anyone makes. On a document it edits,
    // every finding is its own: the same code may now stand for a far worse value.
    const edited = editedKeys(current, proposed);
    const standing = new Set(
      lintConfigSet(currentConfig, context)
        .filter((lintFinding) => !edited.has(lintFinding.source))
        .map((lintFinding) => lintFindingKey(lintFinding)),
    );
    const lint = lintConfigSet(proposedResolution.config, { ...context, previous: currentConfig })
      .filter((lintFinding) => !standing.has(lintFindingKey(lintFinding)))
      .map((lintFinding) =>
        finding(
          lintFinding.code,
          lintFinding.source,
          lintFinding.path,
          lintFinding.severity,
          lintFinding.message,
        ),
      );
    const findings = [...invalid, ...resolutionFindings, ...lint];
    if (invalid.length > 0 || resolutionFindings.length > 0) return { findings };
    const simulated = await simulate(currentConfig, proposedResolution.config, options);
    return { ...simulated, findings: [...findings, ...(simulated.findings ?? [])] };
  };
}

async function simulate(
  currentConfig: ConfigSet,
  proposedConfig: ConfigSet,
  options: LintAndSimulateOptions,
): Promise<{ findings?: ChangeFinding[] } & Omit<ProposalFindings, "findings">> {
  const proposed = buildSnapshot(proposedConfig, { version: 1, randomSeed: options.randomSeed });
  if (!proposed.ok) {
    return {
      findings: [finding(proposed.code, CONFIGURATION_SOURCE, "", "error", proposed.message)],
    };
  }
  // Before the first envelope is active nothing is granted: the current side runs the proposed
  // envelope with no campaigns, so the change's whole money shows as new.
  const currentOrEmpty =
    currentConfig.envelope === undefined
      ? { ...currentConfig, envelope: proposedConfig.envelope, campaigns: [] }
      : currentConfig;
  const current = buildSnapshot(currentOrEmpty, { version: 1, randomSeed: options.randomSeed });
  if (!current.ok) throw new Error(`the active configuration does not build: ${current.message}`);
  const report = await simulateChange({
    current: current.snapshot,
    proposed: proposed.snapshot,
    payments: options.payments(),
    ...(options.sampleRateBps === undefined ? {} : { sampleRateBps: options.sampleRateBps }),
    options: {
      currency: options.currency,
      ...(options.spendGrowthThresholdBps === undefined
        ? {}
        : { spendGrowthThresholdBps: options.spendGrowthThresholdBps }),
      ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
    },
  });
  const { byCampaign: _perCampaign, forecast, ...summary } = simulationReportToJson(report);
  const simulation: ChangeSimulation = summary;
  return {
    money: {
      currentSubsidyPerHourMinor: safeNumber(report.current.subsidyPerHourMinor),
      proposedSubsidyPerHourMinor: safeNumber(report.proposed.subsidyPerHourMinor),
      campaignsSubsidised: report.byCampaign
        .filter((row) => row.current.subsidisedPayments > 0 || row.proposed.subsidisedPayments > 0)
        .map((row) => row.key),
    },
    forecast: {
      subsidyPerPaymentMilliMinor: forecast.subsidyPerPaymentMilliMinor,
      subsidisedShareBps: forecast.subsidisedShareBps,
      // Every campaign that granted; the service keeps those the change touches.
      byCampaign: forecast.byCampaign,
    },
    simulation,
    sample: options.sample,
  };
}

/** `kind/id` of every document the proposal adds or changes. */
function editedKeys(
  current: readonly ConfigDocument[],
  proposed: readonly ConfigDocument[],
): Set<string> {
  const before = new Map(
    current.map((document) => [`${document.kind}/${document.id}`, JSON.stringify(document)]),
  );
  return new Set(
    proposed
      .filter(
        (document) => before.get(`${document.kind}/${document.id}`) !== JSON.stringify(document),
      )
      .map((document) => `${document.kind}/${document.id}`),
  );
}

/** Schema checks of every proposed document: edits made through the API arrive unvalidated too. */
function validationFindings(documents: readonly ConfigDocument[]): ChangeFinding[] {
  return documents.flatMap((document) =>
    validateDocument(document).issues.map((issue) =>
      finding(
        issue.code,
        `${document.kind}/${document.id}`,
        issue.path.join("."),
        issue.severity,
        issue.message,
      ),
    ),
  );
}

function resolved(documents: readonly ConfigDocument[]) {
  return resolveConfig(
    documents.map((document) => ({ source: `${document.kind}/${document.id}`, document })),
  );
}

function finding(
  code: string,
  source: string,
  path: string,
  severity: "error" | "warning",
  message: string,
): ChangeFinding {
  return { key: lintFindingKey({ code: code as never, source, path }), code, severity, message };
}

/** Subsidy per hour fits a number by far; a sum beyond 2^53 would be a bug upstream. */
function safeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Error(`simulated subsidy per hour ${value} is beyond a safe integer`);
  }
  return Number(value);
}
