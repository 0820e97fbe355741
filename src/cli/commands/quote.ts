import { readFile } from "node:fs/promises";
import type { Command } from "@commander-js/extra-typings";
import { loadSnapshot } from "../../config/load-snapshot.ts";
import type { Decision } from "../../core/evaluator/decision.ts";
import { createFastEvaluator } from "../../core/evaluator/fast-evaluator.ts";
import { formatFinding, formatPath } from "../../core/findings.ts";
import { issueToDocumentIssues } from "../../core/model/document.ts";
import { paymentSchema } from "../../core/model/payment.ts";
import { formatMinor, isCurrency } from "../../core/money.ts";
import { EXIT_FINDINGS, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";
import { parseSeed } from "../options.ts";

/** A payment document is small; anything larger is not a payment. */
const PAYMENT_INPUT_BYTES_MAX = 65_536;

export function registerQuoteCommand(program: Command, outcome: ExitCodeHolder): void {
  program
    .command("quote")
    .description(
      "Quote one payment against a configuration: which subsidies apply, and why the others do not.",
    )
    .argument("[payment]", "the payment as JSON, a file holding it, or - for standard input")
    .option("--campaigns <dir>", "configuration files or directory", "examples")
    .option("--seed <n>", "seed for random offers", "0")
    .option("--explain", "list every campaign with its outcome")
    .option("--json", "print the decision as JSON")
    .action(async (paymentArgument, options) => {
      const seed = parseSeed(options.seed);
      if (seed === undefined)
        return fail(outcome, `--seed must be an integer 0..4294967295, got ${options.seed}`);
      const input = await readPaymentInput(paymentArgument ?? "-");
      if (!input.ok) return fail(outcome, input.message);
      const loaded = await loadSnapshot([options.campaigns], seed);
      if (!loaded.ok) {
        for (const finding of loaded.findings) process.stderr.write(`${formatFinding(finding)}\n`);
        process.stderr.write(`bursar quote: ${loaded.message}\n`);
        outcome.exitCode = EXIT_FINDINGS;
        return;
      }
      const decision = createFastEvaluator(loaded.snapshot).quote(input.value, {
        explain: options.explain === true,
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(decision)}\n`);
        return;
      }
      process.stdout.write(renderDecision(decision, input.value));
      if (decision.reason === "payment.invalid")
        process.stdout.write(describePaymentProblems(input.value));
    });
}

function fail(outcome: ExitCodeHolder, message: string): void {
  process.stderr.write(`bursar quote: ${message}\n`);
  outcome.exitCode = EXIT_UNUSABLE_INPUT;
}

async function readPaymentInput(
  argument: string,
): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  let text: string;
  try {
    if (argument === "-") text = await readStream(process.stdin);
    else if (argument.trimStart().startsWith("{")) text = argument;
    else text = await readFile(argument, "utf8");
  } catch (cause) {
    return {
      ok: false,
      message: `cannot read the payment: ${cause instanceof Error ? cause.message : String(cause)}`,
    };
  }
  if (text.length > PAYMENT_INPUT_BYTES_MAX)
    return { ok: false, message: `the payment is over ${PAYMENT_INPUT_BYTES_MAX} bytes` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (cause) {
    return {
      ok: false,
      message: `the payment is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`,
    };
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    bytes += buffer.length;
    // Stop reading early: the size check after parsing would otherwise buffer anything.
    if (bytes > PAYMENT_INPUT_BYTES_MAX) return "x".repeat(PAYMENT_INPUT_BYTES_MAX + 1);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Which fields made a payment invalid: the decision carries only the code, people need the field. */
function describePaymentProblems(input: unknown): string {
  const parsed = paymentSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return "";
  const issues = parsed.error.issues.flatMap(issueToDocumentIssues);
  return issues
    .map(
      (issue) => `    ${formatPath(issue.path) || "(payment)"}: ${issue.message} [${issue.code}]\n`,
    )
    .join("");
}

/** The decision for people: the subsidies first, then why the other candidates did not apply. */
export function renderDecision(decision: Decision, input: unknown): string {
  const payment = input as {
    amountMinor?: unknown;
    currency?: unknown;
    scenario?: unknown;
    region?: unknown;
  };
  const currency = isCurrency(payment.currency) ? payment.currency : undefined;
  const money = (amountMinor: number) =>
    currency === undefined
      ? `${amountMinor} minor units`
      : `${formatMinor(amountMinor, currency)} ${currency}`;
  const lines: string[] = [];
  const described =
    typeof payment.amountMinor === "number" &&
    typeof payment.scenario === "string" &&
    typeof payment.region === "string"
      ? `${money(payment.amountMinor)} ${payment.scenario} ${payment.region}`
      : "";
  lines.push(`payment ${decision.paymentId ?? "(no id)"} ${described}`.trimEnd());
  if (decision.reason !== null) {
    lines.push(`  no subsidy: ${decision.reason}`);
  } else {
    lines.push(
      `  subsidy ${money(decision.totalSubsidyMinor)} from ${decision.subsidies.length} campaign(s)`,
    );
    for (const subsidy of decision.subsidies) {
      const clamped =
        subsidy.amountMinor < subsidy.offerMinor
          ? ` (offer ${money(subsidy.offerMinor)}, clamped by the envelope)`
          : "";
      const funder =
        subsidy.programId === undefined
          ? subsidy.funding
          : `${subsidy.funding} ${subsidy.programId}`;
      lines.push(
        `  + ${subsidy.campaignId} v${subsidy.campaignVersion}  ${money(subsidy.amountMinor)}${clamped}  ${funder}  ${subsidy.label}`,
      );
    }
    for (const rejection of decision.rejected)
      lines.push(`  - ${rejection.campaignId}  ${rejection.reason}`);
    lines.push(`  ${decision.excludedByIndex} campaign(s) excluded by scope`);
    if (decision.subjectToBudget)
      lines.push("  subject to budgets and caps: the ledger may still refuse a subsidy");
  }
  if (decision.explanation !== undefined) {
    lines.push("  every campaign:");
    for (const entry of decision.explanation)
      lines.push(`    ${entry.campaignId}  ${entry.outcome}`);
  }
  return `${lines.join("\n")}\n`;
}
