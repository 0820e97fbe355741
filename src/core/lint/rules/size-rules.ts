/** Size limits on a whole configuration, so the evaluator's index and snapshot stay bounded. */
import { SNAPSHOT_LIMITS } from "../../evaluator/snapshot.ts";
import { SCOPE_LIST_FIELDS } from "../../model/scope.ts";
import type { LintRule } from "../lint-rule.ts";

export const CONFIG_SIZE_LIMITS = {
  campaignsMax: SNAPSHOT_LIMITS.campaignsMax,
  /** Scope list entries over all campaigns: what the evaluator's index holds. */
  scopeEntriesMax: 2_000_000,
} as const;

export const sizeRule: LintRule = {
  name: "configuration size",
  codes: ["lint.config_too_large"],
  check: (input, report) => {
    const { campaigns } = input.proposed;
    if (campaigns.length > CONFIG_SIZE_LIMITS.campaignsMax) {
      report({
        code: "lint.config_too_large",
        target: { kind: "set", id: "" },
        path: [],
        message: `${campaigns.length} campaigns; a snapshot holds at most ${CONFIG_SIZE_LIMITS.campaignsMax}`,
      });
    }
    let entries = 0;
    for (const effective of campaigns) {
      for (const field of SCOPE_LIST_FIELDS)
        entries += effective.campaign.scope[field]?.length ?? 0;
    }
    if (entries > CONFIG_SIZE_LIMITS.scopeEntriesMax) {
      report({
        code: "lint.config_too_large",
        target: { kind: "set", id: "" },
        path: ["scope"],
        message: `${entries} scope entries over all campaigns; the index holds at most ${CONFIG_SIZE_LIMITS.scopeEntriesMax}`,
      });
    }
  },
};
