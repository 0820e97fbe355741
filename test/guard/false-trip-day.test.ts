/**
 * Issue 7's "no false trips" target: 24 simulated hours of normal traffic (a mean of 200
 * payments/s on a daily curve whose peak hour is five times that) over the example campaigns,
 * with a legitimate
 * festival launch at 20:00 — assessed on traffic of its own hour, approved by two reviewers,
 * rolled out by the default staged plan — trips nothing in the runtime guard.
 *
 * One pass over 17.28 million payments: the longest test in the suite (see
 * docs/reference/guard.md "No false trips: the normal day" for its wall time).
 */
import { describe, expect, test } from "vitest";
import {
  FESTIVAL_CAMPAIGN_ID,
  festivalDocuments,
  loadExampleDocuments,
  NORMAL_DAY_DEFAULTS,
  NORMAL_DAY_HOURLY_WEIGHTS,
  type NormalDayResult,
  peakHourOverMean,
  runNormalDay,
} from "../../src/demo/normal-day.ts";
import { HOURLY_WEIGHTS } from "../../src/traffic/traffic-model.ts";

describe("a normal day under the guard", () => {
  test("the day's curve peaks at five times its mean, where the traffic model's peaks at 1.9×", () => {
    // The issue says "peaks five times higher"; the model's curve peaks at 19:00 with 1.86× the
    // mean, so the day runs on a sharpened curve of the same shape.
    expect(peakHourOverMean(HOURLY_WEIGHTS)).toBeCloseTo(1.86, 2);
    expect(peakHourOverMean(NORMAL_DAY_HOURLY_WEIGHTS)).toBe(5);
    const hours = NORMAL_DAY_HOURLY_WEIGHTS.map((_, hour) => hour);
    const busiest = (from: number, to: number) =>
      hours
        .slice(from, to)
        .reduce((best, hour) =>
          NORMAL_DAY_HOURLY_WEIGHTS[hour]! > NORMAL_DAY_HOURLY_WEIGHTS[best]! ? hour : best,
        );
    // Its shape: a morning rush, lunch, the evening peak, a night trough.
    expect([busiest(6, 11), busiest(11, 15), busiest(15, 24)]).toEqual([8, 12, 19]);
    expect(busiest(0, 24)).toBe(19);
    expect(Math.min(...NORMAL_DAY_HOURLY_WEIGHTS)).toBe(NORMAL_DAY_HOURLY_WEIGHTS[4]);
  });

  test("24 hours at a mean of 200 payments/s with the festival launch at 20:00 trip nothing", {
    timeout: 900_000,
  }, async () => {
    const examples = await loadExampleDocuments();
    let lastProgressMs = 0;
    const day: NormalDayResult = await runNormalDay({
      examples,
      festival: { documents: festivalDocuments(), atMs: NORMAL_DAY_DEFAULTS.festivalAtMs },
      onProgress: (doneMs) => {
        lastProgressMs = doneMs;
      },
    });

    const { trips, festival: outcome, ...figures } = day;
    // The figures docs/reference/guard.md quotes, for whoever runs it.
    console.log(
      JSON.stringify({
        ...figures,
        trips: trips.length,
        festival: outcome && {
          state: outcome.state,
          forecast: outcome.forecast,
          proposedSubsidyPerHourMinor: outcome.proposedSubsidyPerHourMinor,
          currentSubsidyPerHourMinor: outcome.currentSubsidyPerHourMinor,
          rollout: outcome.rolloutEvents.map((event) => [
            new Date(event.atMs).toISOString(),
            event.verdict.verdict,
            event.shareBpsAfter,
          ]),
          grants: outcome.grants,
        },
      }),
    );

    // Every trip, with what tripped: a failure message that says why.
    expect(
      day.trips.map(
        (trip) =>
          `${new Date(trip.atMs).toISOString()} ${trip.code} ${trip.subject.id} ${trip.window} ${trip.observed} > ${trip.limit}`,
      ),
    ).toEqual([]);

    // The run saw the whole day's payments: the generator's total, every one quoted and
    // recorded, and the guard checked every 100 ms of it.
    expect(day.expectedPayments).toBe(200 * 86_400);
    expect(day.payments).toBe(day.expectedPayments);
    expect(day.checks).toBeGreaterThanOrEqual(864_000);
    expect(lastProgressMs).toBe(86_400_000);
    expect(day.subsidisedPayments).toBeGreaterThan(day.payments / 10);
    // The busiest hour (19:00) ran at five times the day's mean (±10 %): about 1,000 a second.
    const meanPerHour = day.payments / 24;
    const busiestHour = Math.max(...day.hourlyPayments);
    expect(day.hourlyPayments.indexOf(busiestHour)).toBe(19);
    expect(busiestHour / meanPerHour).toBeGreaterThan(4.5);
    expect(busiestHour / meanPerHour).toBeLessThan(5.5);

    // The festival went through the whole pipeline and the default plan to active.
    const festival = day.festival!;
    expect(festival.lintErrors).toBe(0);
    expect(festival.lintWarnings).toBe(0);
    expect(festival.approvals).toEqual(["risk.wang", "finance.zhao"]);
    expect(festival.forecast?.byCampaign?.map((campaign) => campaign.campaignId)).toEqual([
      FESTIVAL_CAMPAIGN_ID,
    ]);
    expect(festival.plan?.stages.map((stage) => stage.shareBps)).toEqual([
      100, 1_000, 5_000, 10_000,
    ]);
    expect(
      festival.rolloutEvents.map((event) => [event.verdict.verdict, event.shareBpsAfter]),
    ).toEqual([
      ["advance", 1_000],
      ["advance", 5_000],
      ["advance", 10_000],
      ["complete", 10_000],
    ]);
    expect(festival.state).toBe("active");
    // It opened at 20:00 and granted from then on.
    expect(festival.rolloutEvents[0]!.atMs).toBeGreaterThan(NORMAL_DAY_DEFAULTS.festivalAtMs);
    expect(festival.grants.payments).toBeGreaterThan(10_000);
    expect(festival.grants.subsidyMinor).toBeGreaterThan(festival.grants.payments * 100);
  });
});
