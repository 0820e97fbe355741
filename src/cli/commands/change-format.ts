/**
 * A change request as a reviewer reads it in a terminal: the money first, then what forcing
 * skipped, then lint, then the campaigns the change reaches (inherited fields marked), then the
 * document fields. Principle 9: reviewers approve a money outcome, not a field diff.
 */
import type { ChangeRequest } from "../../core/change/change-request.ts";
import { formatMinor } from "../../core/money.ts";

/** Campaigns and fields listed in full; longer lists end with a count. */
const LIST_SHOWN_MAX = 30;

export function formatChange(change: ChangeRequest): string[] {
  const lines = [
    `${change.id}  ${change.state}  "${change.title}"`,
    `  author ${change.authorId}, created ${change.createdAt}, updated ${change.updatedAt}`,
    `  content hash ${change.contentHash}`,
    `  edits: ${change.edits.map((edit) => (edit.op === "put" ? `${edit.document.kind}/${edit.document.id}` : `retire ${edit.key}`)).join(", ")}`,
  ];
  if (change.operatorAction !== undefined) {
    lines.push(
      `  OPERATOR ACTION (${change.operatorAction.kind}): ${change.operatorAction.reason}`,
    );
  }
  for (const force of change.forced) {
    lines.push(
      `  FORCED past ${force.gate} by ${force.adminIds.join(" and ")}: ${force.reason.replaceAll("\n", " / ")}`,
    );
  }
  for (const force of change.pendingForces) {
    lines.push(
      `  force of ${force.gate} asked by ${force.adminIds.join(", ")}; waiting for a second administrator`,
    );
  }
  const assessment = change.assessment;
  if (assessment?.refused !== undefined) {
    // What follows is the refused submission's: the findings and money it was refused with.
    const { code, message, at } = assessment.refused;
    lines.push(`  REFUSED at the lint gate (${code}) at ${at}: ${message.replaceAll("\n", " / ")}`);
  }
  if (assessment !== undefined) {
    const before = assessment.currentSubsidyPerHourMinor;
    const after = assessment.proposedSubsidyPerHourMinor;
    if (before !== undefined && after !== undefined) {
      lines.push(
        `  money: subsidy per hour ${formatMinor(before, "CNY")} → ${formatMinor(after, "CNY")} CNY (${after >= before ? "+" : ""}${formatMinor(after - before, "CNY")})`,
      );
      if (assessment.sample !== undefined) lines.push(`  simulated on ${assessment.sample}`);
      const simulation = assessment.simulation;
      if (simulation !== undefined) {
        lines.push(
          `  payments subsidised: ${simulation.current.subsidisedShareBps / 100} % → ${simulation.proposed.subsidisedShareBps / 100} % of ${simulation.payments} simulated`,
        );
        for (const [title, rows] of [
          ["scenario", simulation.byScenario],
          ["region", simulation.byRegion],
          ["funding", simulation.byFunding],
        ] as const) {
          const moved = rows.filter((item) => item.deltaSubsidyPerHourMinor !== 0);
          if (moved.length > 0) lines.push(`  by ${title} (subsidy per hour, where it moves):`);
          for (const row of moved.slice(0, LIST_SHOWN_MAX)) {
            lines.push(
              `    ${row.key}: ${formatMinor(Number(row.current.subsidyPerHourMinor), "CNY")} → ${formatMinor(Number(row.proposed.subsidyPerHourMinor), "CNY")}`,
            );
          }
          if (moved.length > LIST_SHOWN_MAX)
            lines.push(`    … and ${moved.length - LIST_SHOWN_MAX} more`);
        }
        const worst = simulation.worstPayment.proposed;
        if (worst !== null) {
          lines.push(
            `  worst payment after the change: ${formatMinor(Number(worst.subsidyMinor), "CNY")} off ${formatMinor(Number(worst.paymentAmountMinor), "CNY")} (${worst.scenario}, ${worst.region})`,
          );
        }
        const worstUser = simulation.worstIdentity.user.proposed;
        if (worstUser !== null) {
          lines.push(
            `  most to one user after the change: ${formatMinor(Number(worstUser.subsidyMinor), "CNY")} over ${worstUser.subsidisedPayments} payments`,
          );
        }
        for (const flag of simulation.flags)
          lines.push(`  simulation flag ${flag.code}: ${flag.message}`);
      }
    } else {
      lines.push("  money: not simulated");
    }
    lines.push(
      `  risk: ${assessment.risk.level} (${assessment.risk.approvalsRequired} reviewer${assessment.risk.approvalsRequired > 1 ? "s" : ""})${assessment.risk.reasons.length === 0 ? "" : ":"}`,
    );
    for (const reason of assessment.risk.reasons)
      lines.push(`    ${reason.code}: ${reason.message}`);
    for (const finding of assessment.findings) {
      const acknowledged = change.acknowledgements.find((item) => item.findingKey === finding.key);
      lines.push(`  ${finding.severity} ${finding.code}: ${finding.message}`);
      lines.push(
        `    key ${finding.key}${acknowledged === undefined ? "" : ` — acknowledged by ${acknowledged.byId}: ${acknowledged.reason}`}`,
      );
    }
    const effects = assessment.diff?.campaigns ?? [];
    if (effects.length > 0) lines.push(`  campaigns reached: ${effects.length}`);
    for (const effect of effects.slice(0, LIST_SHOWN_MAX)) {
      const fields = effect.fields.map(
        (field) => `${field.field}${field.inherited ? " (inherited)" : ""}`,
      );
      lines.push(
        `    ${effect.campaignId} ${effect.operation}${fields.length > 0 ? `: ${fields.join(", ")}` : ""}`,
      );
    }
    if (effects.length > LIST_SHOWN_MAX)
      lines.push(`    … and ${effects.length - LIST_SHOWN_MAX} more`);
    for (const document of assessment.diff?.documents ?? []) {
      lines.push(`  ${document.operation} ${document.key}`);
      for (const field of document.fields.slice(0, LIST_SHOWN_MAX)) {
        lines.push(
          `    ${field.path}: ${JSON.stringify(field.before)} → ${JSON.stringify(field.after)}`,
        );
      }
      if (document.fields.length > LIST_SHOWN_MAX) {
        lines.push(`    … and ${document.fields.length - LIST_SHOWN_MAX} more fields`);
      }
    }
  }
  for (const approval of change.approvals) {
    lines.push(
      `  approved by ${approval.reviewerId}${approval.byPolicy ? " (auto-approval policy)" : ""} at ${approval.at}`,
    );
  }
  const rollout = change.rollout;
  if (rollout !== undefined) {
    const stage = rollout.plan.stages[rollout.stageIndex]!;
    lines.push(
      `  rollout stage ${rollout.stageIndex + 1}/${rollout.plan.stages.length}: ${stage.shareBps / 100} % of identities since ${rollout.stageStartedAt}; seen ${rollout.observation.payments} payments, ${formatMinor(rollout.observation.subsidyMinor, "CNY")} CNY (ceiling ${formatMinor(stage.moneyAtRiskMaxMinor, "CNY")})`,
    );
  }
  if (change.closingReason !== undefined) lines.push(`  closed: ${change.closingReason}`);
  return lines;
}
