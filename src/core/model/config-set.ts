/**
 * A set of validated documents resolved against each other: campaigns joined with their
 * templates into effective campaigns, references to templates and programs checked.
 */
import type { LabelKind } from "../funding.ts";
import type { Offer } from "../offers/registry.ts";
import { offerKindOf } from "../offers/registry.ts";
import type { Scenario } from "../scenario.ts";
import type { Campaign } from "./campaign.ts";
import type { ConfigDocument, DocumentIssue } from "./document.ts";
import { issueToDocumentIssues } from "./document.ts";
import type { Envelope } from "./envelope.ts";
import type { ExternalCampaignDocument } from "./external-campaign.ts";
import { checkFunding, type Funding } from "./funding.ts";
import type { Program } from "./program.ts";
import type { Template } from "./template.ts";

/** A campaign with everything it inherits from its template filled in. */
export interface EffectiveCampaign {
  readonly campaign: Campaign;
  readonly template: Template;
  readonly offer: Offer;
  readonly funding: Funding;
  readonly label: LabelKind;
  readonly scenarios: readonly Scenario[];
  /** The program paying for a government-funded campaign. */
  readonly program?: Program;
}

export interface ConfigSet {
  readonly templates: ReadonlyMap<string, Template>;
  readonly programs: ReadonlyMap<string, Program>;
  readonly campaigns: readonly EffectiveCampaign[];
  readonly envelope?: Envelope;
  /**
   * External campaigns registered with guard mode, by `campaignRef` (their id in the external
   * engine). Absent in sets built before registrations were documents; read as none.
   */
  readonly externalCampaigns?: ReadonlyMap<string, ExternalCampaignDocument>;
  /** Where each document came from, so later checks (lint) can point findings at files. */
  readonly sources?: ConfigSources;
}

/** Sources of a set's documents by id, per kind. */
export interface ConfigSources {
  readonly templates: ReadonlyMap<string, string>;
  readonly programs: ReadonlyMap<string, string>;
  readonly campaigns: ReadonlyMap<string, string>;
  readonly envelope?: string;
  /** By document id (not `campaignRef`), as the other kinds. */
  readonly externalCampaigns?: ReadonlyMap<string, string>;
}

export interface SourcedDocument {
  /** Where the document came from, e.g. its file name; findings carry it back. */
  readonly source: string;
  readonly document: ConfigDocument;
}

export interface SourcedIssue {
  readonly source: string;
  readonly issue: DocumentIssue;
}

export function resolveConfig(documents: readonly SourcedDocument[]): {
  config: ConfigSet;
  issues: SourcedIssue[];
} {
  const issues: SourcedIssue[] = [];
  const report = (
    source: string,
    path: DocumentIssue["path"],
    code: DocumentIssue["code"],
    message: string,
  ) => issues.push({ source, issue: { path, code, severity: "error", message } });

  const templates = new Map<string, Template>();
  const programs = new Map<string, Program>();
  const campaigns: SourcedDocument[] = [];
  const campaignIds = new Set<string>();
  let envelope: Envelope | undefined;
  const templateSources = new Map<string, string>();
  const programSources = new Map<string, string>();
  const campaignSources = new Map<string, string>();
  let envelopeSource: string | undefined;
  const externalCampaigns = new Map<string, ExternalCampaignDocument>();
  const externalIds = new Set<string>();
  const externalSources = new Map<string, string>();

  for (const { source, document } of documents) {
    switch (document.kind) {
      case "template":
        if (templates.has(document.id))
          report(
            source,
            ["id"],
            "ref.duplicate_id",
            `another template already has id ${document.id}`,
          );
        else {
          templates.set(document.id, document);
          templateSources.set(document.id, source);
        }
        break;
      case "program":
        if (programs.has(document.id))
          report(
            source,
            ["id"],
            "ref.duplicate_id",
            `another program already has id ${document.id}`,
          );
        else {
          programs.set(document.id, document);
          programSources.set(document.id, source);
        }
        break;
      case "campaign":
        if (campaignIds.has(document.id))
          report(
            source,
            ["id"],
            "ref.duplicate_id",
            `another campaign already has id ${document.id}`,
          );
        else {
          campaignIds.add(document.id);
          campaignSources.set(document.id, source);
          campaigns.push({ source, document });
        }
        break;
      case "envelope":
        if (envelope !== undefined)
          report(
            source,
            [],
            "envelope.duplicate",
            `envelope ${document.id} is a second envelope; there is exactly one`,
          );
        else {
          envelope = document;
          envelopeSource = source;
        }
        break;
      case "external-campaign":
        // Two registrations may not share a document id, nor the external engine's campaign id:
        // the check and the kills know a campaign by the latter alone.
        if (externalIds.has(document.id))
          report(
            source,
            ["id"],
            "ref.duplicate_id",
            `another external campaign already has id ${document.id}`,
          );
        else if (externalCampaigns.has(document.campaignRef))
          report(
            source,
            ["campaignRef"],
            "ref.duplicate_id",
            `another external campaign already registers campaignRef ${document.campaignRef}`,
          );
        else {
          externalIds.add(document.id);
          externalCampaigns.set(document.campaignRef, document);
          externalSources.set(document.id, source);
        }
        break;
    }
  }

  const effective: EffectiveCampaign[] = [];
  for (const { source, document } of campaigns) {
    const resolved = resolveCampaign(document as Campaign, templates, programs);
    for (const issue of resolved.issues) issues.push({ source, issue });
    if (resolved.campaign !== undefined) effective.push(resolved.campaign);
  }
  // Programs referenced by templates must exist too, whether or not a campaign uses them.
  for (const { source, document } of documents) {
    if (document.kind !== "template" || document.funding.programId === undefined) continue;
    const program = programs.get(document.funding.programId);
    if (program === undefined) {
      report(
        source,
        ["funding", "programId"],
        "ref.unknown_program",
        `no program ${document.funding.programId} among the validated files`,
      );
    } else if (program.currency !== document.currency) {
      report(
        source,
        ["currency"],
        "ref.currency_mismatch",
        `template is in ${document.currency} but program ${program.id} is in ${program.currency}`,
      );
    }
  }

  return {
    config: {
      templates,
      programs,
      campaigns: effective,
      ...(envelope === undefined ? {} : { envelope }),
      externalCampaigns,
      sources: {
        templates: templateSources,
        programs: programSources,
        campaigns: campaignSources,
        ...(envelopeSource === undefined ? {} : { envelope: envelopeSource }),
        externalCampaigns: externalSources,
      },
    },
    issues,
  };
}

function resolveCampaign(
  campaign: Campaign,
  templates: ReadonlyMap<string, Template>,
  programs: ReadonlyMap<string, Program>,
): { campaign?: EffectiveCampaign; issues: DocumentIssue[] } {
  const issues: DocumentIssue[] = [];
  const error = (path: DocumentIssue["path"], code: DocumentIssue["code"], message: string) =>
    issues.push({ path, code, severity: "error", message });

  const template = templates.get(campaign.template);
  if (template === undefined) {
    error(
      ["template"],
      "ref.unknown_template",
      `no template ${campaign.template} among the validated files`,
    );
    return { issues };
  }
  if (template.currency !== campaign.currency) {
    error(
      ["currency"],
      "ref.currency_mismatch",
      `campaign is in ${campaign.currency} but template ${template.id} is in ${template.currency}`,
    );
  }

  const offer = effectiveOffer(campaign, template, issues);

  const funding = campaign.funding ?? template.funding;
  if (campaign.funding !== undefined) {
    for (const problem of checkFunding(funding, template.label)) {
      if (problem.code === "label.funding_mismatch")
        error(["funding", ...problem.path], problem.code, problem.message);
    }
  }
  let program: Program | undefined;
  if (funding.programId !== undefined) {
    program = programs.get(funding.programId);
    if (program === undefined) {
      if (campaign.funding !== undefined) {
        error(
          ["funding", "programId"],
          "ref.unknown_program",
          `no program ${funding.programId} among the validated files`,
        );
      }
    } else if (program.currency !== campaign.currency) {
      error(
        ["currency"],
        "ref.currency_mismatch",
        `campaign is in ${campaign.currency} but program ${program.id} is in ${program.currency}`,
      );
    }
  }

  const scenarios = campaign.scope.scenarios ?? template.allowedScenarios;
  campaign.scope.scenarios?.forEach((scenario, index) => {
    if (!template.allowedScenarios.includes(scenario)) {
      error(
        ["scope", "scenarios", index],
        "ref.scenario_not_allowed",
        `template ${template.id} does not allow scenario ${scenario}`,
      );
    }
  });

  if (offer === undefined || issues.length > 0) return { issues };
  return {
    campaign: {
      campaign,
      template,
      offer,
      funding,
      label: template.label,
      scenarios,
      ...(program === undefined ? {} : { program }),
    },
    issues,
  };
}

/** The template's offer with the campaign's overrides applied, validated as its kind. */
function effectiveOffer(
  campaign: Campaign,
  template: Template,
  issues: DocumentIssue[],
): Offer | undefined {
  const kind = offerKindOf(template.offer);
  const overrides = campaign.offer ?? {};
  const allowed = Object.keys(kind.params.shape);
  let valid = true;
  for (const key of Object.keys(overrides)) {
    if (!allowed.includes(key)) {
      valid = false;
      issues.push({
        path: ["offer", key],
        code: "offer.param_not_in_kind",
        severity: "error",
        message: `template ${template.id} makes a ${template.offer.kind} offer, which has no parameter "${key}" (it has ${allowed.join(", ")})`,
      });
    }
  }
  if (!valid) return undefined;
  const { kind: kindName, ...defaults } = template.offer;
  const parsed = kind.params.safeParse({ ...defaults, ...overrides }, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const mapped of issueToDocumentIssues(issue))
        issues.push({ ...mapped, path: ["offer", ...mapped.path] });
    }
    return undefined;
  }
  const offer = { kind: kindName, ...parsed.data } as Offer;
  for (const problem of kind.check(offer)) {
    issues.push({
      path: ["offer", ...problem.path],
      code: problem.code,
      severity: "error",
      message: problem.message,
    });
  }
  return offer;
}
