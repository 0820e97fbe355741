/**
 * Test and internal campaigns stay away from real users: marked ones must name the merchants
 * they run at, and ones named like tests must be marked (the 2022 0.01-yuan test link).
 */
import { campaignTarget, type LintRule } from "../lint-rule.ts";

const TEST_WORDS = /(?:^|[^a-z])(?:test|testing|qa|staging|sandbox|internal|dummy)(?:[^a-z]|$)/i;
const TEST_WORDS_ZH = /测试|内测|内部/;

export const audienceRule: LintRule = {
  name: "test and internal campaigns",
  codes: ["lint.test_campaign_public", "lint.test_campaign_unmarked"],
  check: (input, report) => {
    for (const effective of input.proposed.campaigns) {
      const { campaign } = effective;
      const audience = campaign.audience ?? "public";
      const target = campaignTarget(effective);
      if (audience !== "public") {
        if ((campaign.scope.merchantIds?.length ?? 0) === 0) {
          report({
            code: "lint.test_campaign_public",
            target,
            path: ["scope", "merchantIds"],
            message: `a ${audience} campaign must name the merchants it runs at (scope.merchantIds); as it is, real users reach it`,
          });
        }
        continue;
      }
      const text = `${campaign.id} ${campaign.name} ${campaign.display.title}`;
      if (TEST_WORDS.test(text) || TEST_WORDS_ZH.test(text)) {
        report({
          code: "lint.test_campaign_unmarked",
          target,
          path: ["audience"],
          message: `"${campaign.name}" reads like a test or internal campaign; mark it audience: test or internal, or rename it`,
        });
      }
    }
  },
};
