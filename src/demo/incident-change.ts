/**
 * The change of 2025-01-16 as Bursar's documents (DESIGN §1 and §5): an operator edits the
 * routine "instant discount" template. Fixed 0.50 yuan off becomes 20 % off; in the original, the
 * funds type becomes government with the government-subsidy label, and the template allows every
 * scenario, which the incident platform's campaigns inherited as their scope. The back office
 * re-saved the campaigns using the template with it, dropping their own amounts (which a percent
 * offer has no place for): one change, every campaign of the template.
 *
 * The variant is the same edit kept inside the envelope's vocabulary: platform-funded 20 % on
 * the ordinary merchant payments the template always allowed — the change the staged rollout and
 * the breakers must stop, since nothing in the envelope refuses it outright.
 */
import type { ChangeEdit } from "../core/change/document-versions.ts";
import type { Campaign } from "../core/model/campaign.ts";
import type { ConfigDocument } from "../core/model/document.ts";
import type { Template } from "../core/model/template.ts";
import { SCENARIOS } from "../core/scenario.ts";

export const INCIDENT_TEMPLATE_ID = "instant-discount";
/** The programme the back office's "government" funds type pointed at: Shanghai's. */
export const INCIDENT_PROGRAM_ID = "sh-consumption-2025";
export const INCIDENT_RATE_BPS = 2_000;
/**
 * A percent offer must carry a cap in Bursar's model; the operator typed the envelope's own
 * per-payment maximum (200.00 yuan), which bounds nothing the envelope does not.
 */
export const INCIDENT_CAP_MINOR = 20_000;

export type IncidentChangeKind = "original" | "variant";

export function incidentTemplate(template: Template, kind: IncidentChangeKind): Template {
  const { bands: _bands, ...rest } = template;
  const percent = {
    ...rest,
    offer: { kind: "percent" as const, rateBps: INCIDENT_RATE_BPS, capMinor: INCIDENT_CAP_MINOR },
  };
  if (kind === "variant") return percent;
  return {
    ...percent,
    funding: { source: "government", programId: INCIDENT_PROGRAM_ID },
    label: "government_subsidy",
    allowedScenarios: [...SCENARIOS],
  };
}

/** The change request's edits against `documents` (the configuration in force before it). */
export function incidentEdits(
  documents: readonly ConfigDocument[],
  kind: IncidentChangeKind,
): ChangeEdit[] {
  const template = documents.find(
    (document): document is Template =>
      document.kind === "template" && document.id === INCIDENT_TEMPLATE_ID,
  );
  if (template === undefined) {
    throw new Error(`the configuration has no template ${INCIDENT_TEMPLATE_ID}`);
  }
  const resaved = documents
    .filter(
      (document): document is Campaign =>
        document.kind === "campaign" &&
        document.template === INCIDENT_TEMPLATE_ID &&
        document.offer !== undefined,
    )
    .map((campaign): ChangeEdit => {
      const { offer: _offer, ...rest } = campaign;
      return { op: "put", document: rest };
    });
  return [{ op: "put", document: incidentTemplate(template, kind) }, ...resaved];
}

/** The documents with the edits applied (puts only: the incident retires nothing). */
export function withEdits(
  documents: readonly ConfigDocument[],
  edits: readonly ChangeEdit[],
): ConfigDocument[] {
  const replaced = new Map<string, ConfigDocument>();
  for (const edit of edits) {
    if (edit.op === "put") replaced.set(`${edit.document.kind}/${edit.document.id}`, edit.document);
  }
  return documents.map((document) => replaced.get(`${document.kind}/${document.id}`) ?? document);
}
