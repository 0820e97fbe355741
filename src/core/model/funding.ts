import { z } from "zod";
import type { FindingCode } from "../findings.ts";
import { FUNDING_ALLOWED_BY_LABEL, FUNDING_SOURCES, type LabelKind } from "../funding.ts";
import { identifier } from "./fields.ts";

/** Who pays. Government funding must reference a registered subsidy program. */
export const fundingSchema = z.strictObject({
  source: z.enum(FUNDING_SOURCES),
  programId: identifier.optional(),
});

export type Funding = z.output<typeof fundingSchema>;

export interface FundingProblem {
  readonly path: readonly string[];
  readonly code: FindingCode;
  readonly message: string;
}

/** Funding on its own, and against the label it will be shown with when that is known. */
export function checkFunding(funding: Funding, label?: LabelKind): FundingProblem[] {
  const problems: FundingProblem[] = [];
  if (funding.source === "government" && funding.programId === undefined) {
    problems.push({
      path: ["programId"],
      code: "funding.program_required",
      message: "government funding must name the registered subsidy program that pays for it",
    });
  }
  if (funding.source !== "government" && funding.programId !== undefined) {
    problems.push({
      path: ["programId"],
      code: "funding.program_not_allowed",
      message: `programId is only for government funding, not ${funding.source}`,
    });
  }
  if (label !== undefined && !FUNDING_ALLOWED_BY_LABEL[label].includes(funding.source)) {
    problems.push({
      path: ["source"],
      code: "label.funding_mismatch",
      message: `label ${label} may only be shown for ${FUNDING_ALLOWED_BY_LABEL[label].join(" or ")} funding, not ${funding.source}`,
    });
  }
  return problems;
}
