/**
 * The entry point of lint: every rule over a proposed configuration, findings as values with
 * codes from the catalog, each pointed at its document's source. Pure: what rules need from
 * outside (the active configuration, typical amounts, program balances, the instant) comes in
 * the context.
 */
import { formatPath } from "../findings.ts";
import type { ConfigSet, EffectiveCampaign } from "../model/config-set.ts";
import type { EnvelopeCurrency } from "../model/envelope.ts";
import { periodInstants } from "../model/schedule.ts";
import type { Currency } from "../money.ts";
import { lintSeverityOf } from "./lint-codes.ts";
import { type LintFinding, lintFindingKey } from "./lint-finding.ts";
import type { LintContext, LintInput, LintReport, LintTarget } from "./lint-rule.ts";
import { LINT_RULES } from "./lint-rules.ts";
import { sizeRule } from "./rules/size-rules.ts";

/** The source of findings about the set as a whole, not one document. */
export const CONFIGURATION_SOURCE = "(configuration)";

export function lintConfigSet(proposed: ConfigSet, context: LintContext): LintFinding[] {
  const input = lintInputOf(proposed, context);
  const findings: LintFinding[] = [];
  const seen = new Set<string>();
  const report = (found: LintReport) => {
    const source = sourceOf(proposed, found.target);
    const path = formatPath(found.path);
    const key = lintFindingKey({ code: found.code, source, path });
    // One finding per identity: acknowledgements are keyed on it.
    if (seen.has(key)) return;
    seen.add(key);
    const position = context.locate?.(source, found.path);
    findings.push({
      file: source,
      source,
      path,
      code: found.code,
      severity: lintSeverityOf(found.code),
      message: found.message,
      ...(position === undefined ? {} : { line: position.line, column: position.column }),
      ...(found.campaignIds === undefined ? {} : { campaignIds: found.campaignIds }),
    });
  };
  sizeRule.check(input, report);
  // A set over the size limits is refused whole; the other rules need not spend time on it.
  if (findings.length > 0) return findings;
  for (const rule of LINT_RULES) rule.check(input, report);
  return findings;
}

function lintInputOf(proposed: ConfigSet, context: LintContext): LintInput {
  const campaignsByTemplate = new Map<string, EffectiveCampaign[]>();
  for (const effective of proposed.campaigns) {
    const list = campaignsByTemplate.get(effective.template.id) ?? [];
    list.push(effective);
    campaignsByTemplate.set(effective.template.id, list);
  }
  const bounds = new Map<Currency, EnvelopeCurrency>();
  for (const currency of proposed.envelope?.currencies ?? [])
    bounds.set(currency.currency, currency);
  const instants = new Map<string, { startMs: number; endMs: number }>();
  return {
    proposed,
    context,
    campaignsByTemplate,
    envelopeFor: (currency) => bounds.get(currency),
    instantsOf: (period) => {
      const key = `${period.timeZone} ${period.start} ${period.end}`;
      let found = instants.get(key);
      if (found === undefined) {
        found = periodInstants(period);
        instants.set(key, found);
      }
      return found;
    },
  };
}

function sourceOf(config: ConfigSet, target: LintTarget): string {
  const sources = config.sources;
  switch (target.kind) {
    case "template":
      return sources?.templates.get(target.id) ?? `template/${target.id}`;
    case "campaign":
      return sources?.campaigns.get(target.id) ?? `campaign/${target.id}`;
    case "program":
      return sources?.programs.get(target.id) ?? `program/${target.id}`;
    case "envelope":
      return sources?.envelope ?? `envelope/${target.id}`;
    case "external-campaign":
      return sources?.externalCampaigns?.get(target.id) ?? `external-campaign/${target.id}`;
    case "set":
      return CONFIGURATION_SOURCE;
  }
}
