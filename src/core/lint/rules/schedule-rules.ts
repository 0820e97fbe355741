/** Schedules with an end, and no longer than their template allows. */
import { campaignTarget, type LintRule } from "../lint-rule.ts";

const DAY_MS = 86_400_000;

/** Longer than a year and a month is not a campaign but a standing subsidy nobody reviews. */
export const SCHEDULE_DAYS_WITHOUT_END = 400;

export const scheduleRule: LintRule = {
  name: "schedules",
  codes: ["lint.schedule_without_end", "lint.schedule_longer_than_template"],
  check: (input, report) => {
    for (const effective of input.proposed.campaigns) {
      const { schedule } = effective.campaign;
      const { startMs, endMs } = input.instantsOf(schedule);
      const days = (endMs - startMs) / DAY_MS;
      const daysMax = effective.template.campaignDaysMax;
      const target = campaignTarget(effective);
      if (daysMax !== undefined && days > daysMax) {
        report({
          code: "lint.schedule_longer_than_template",
          target,
          path: ["schedule", "end"],
          message: `the schedule runs ${Math.ceil(days)} days; template ${effective.template.id} allows at most ${daysMax}`,
        });
      } else if (days > SCHEDULE_DAYS_WITHOUT_END) {
        report({
          code: "lint.schedule_without_end",
          target,
          path: ["schedule", "end"],
          message: `the schedule runs ${Math.ceil(days)} days (until ${schedule.end}): in effect it has no end; campaigns run at most ${SCHEDULE_DAYS_WITHOUT_END} days`,
        });
      }
    }
  },
};
