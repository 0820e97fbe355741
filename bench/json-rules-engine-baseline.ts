/**
 * The same campaigns as json-rules-engine rules, a popular way to write promotion rules in
 * Node.js, for the comparison in quote.vs_json_rules_engine.ratio.
 *
 * Each campaign becomes one rule whose conditions are the campaign's scope and schedule (currency,
 * scenario, region, channel, method, category, merchant, segment, amount range, period, daily
 * window, weekday). The engine only finds matching rules: it computes no offer, no stacking and
 * no envelope, so the comparison flatters it.
 */
import { Engine, type TopLevelCondition } from "json-rules-engine";
import type { Snapshot } from "../src/core/evaluator/snapshot.ts";
import { minutesOfDay } from "../src/core/model/fields.ts";
import type { Payment } from "../src/core/model/payment.ts";
import { periodInstants } from "../src/core/model/schedule.ts";
import { zonedParts } from "../src/core/time-zone.ts";

type Condition = { fact: string; operator: string; value: unknown };

export function jsonRulesEngineFor(snapshot: Snapshot): Engine {
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addOperator(
    "intersects",
    (factValue: unknown, jsonValue: unknown) =>
      Array.isArray(factValue) &&
      Array.isArray(jsonValue) &&
      factValue.some((value) => jsonValue.includes(value)),
  );
  engine.addOperator(
    "inWindows",
    (minute: unknown, windows: unknown) =>
      typeof minute === "number" &&
      Array.isArray(windows) &&
      windows.some(([from, to]) => from <= minute && minute < to),
  );
  for (const effective of snapshot.campaigns) {
    const { campaign } = effective;
    const scope = campaign.scope;
    const { startMs, endMs } = periodInstants(campaign.schedule);
    const all: Condition[] = [
      { fact: "currency", operator: "equal", value: campaign.currency },
      { fact: "scenario", operator: "in", value: [...effective.scenarios] },
      { fact: "region", operator: "in", value: [...scope.regions] },
      { fact: "atMs", operator: "greaterThanInclusive", value: startMs },
      { fact: "atMs", operator: "lessThan", value: endMs },
    ];
    if (scope.channels) all.push({ fact: "channel", operator: "in", value: [...scope.channels] });
    if (scope.paymentMethods)
      all.push({ fact: "paymentMethod", operator: "in", value: [...scope.paymentMethods] });
    if (scope.merchantCategories)
      all.push({ fact: "merchantCategory", operator: "in", value: [...scope.merchantCategories] });
    if (scope.merchantIds)
      all.push({ fact: "merchantId", operator: "in", value: [...scope.merchantIds] });
    if (scope.segments)
      all.push({ fact: "segments", operator: "intersects", value: [...scope.segments] });
    if (scope.amountRange?.minMinor !== undefined) {
      all.push({
        fact: "amountMinor",
        operator: "greaterThanInclusive",
        value: scope.amountRange.minMinor,
      });
    }
    if (scope.amountRange?.maxMinor !== undefined) {
      all.push({
        fact: "amountMinor",
        operator: "lessThanInclusive",
        value: scope.amountRange.maxMinor,
      });
    }
    if (campaign.schedule.daily) {
      const windows = campaign.schedule.daily.map((window) => [
        minutesOfDay(window.from),
        minutesOfDay(window.to),
      ]);
      all.push({ fact: "localMinute", operator: "inWindows", value: windows });
    }
    if (campaign.schedule.weekdays)
      all.push({ fact: "weekday", operator: "in", value: [...campaign.schedule.weekdays] });
    engine.addRule({ conditions: { all } as TopLevelCondition, event: { type: campaign.id } });
  }
  return engine;
}

/** The facts the engine reads: the payment plus its local minute and weekday in Beijing time. */
export function factsFor(payment: Payment): Record<string, unknown> {
  const local = zonedParts(payment.atMs, "Asia/Shanghai");
  return {
    ...payment,
    segments: payment.segments ?? [],
    localMinute: local.hour * 60 + local.minute,
    weekday: local.weekday,
  };
}
