import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CHANNELS, PAYMENT_METHODS } from "../../src/core/model/payment.ts";
import { NDJSON_READ_LIMITS } from "../../src/traffic/read-payments-ndjson.ts";
import {
  CHANNEL_MIXES,
  HOURLY_WEIGHTS,
  METHOD_MIXES,
  POPULATION_MODEL,
  REGION_WEIGHTS_BPS,
  SCENARIO_PROFILES,
} from "../../src/traffic/traffic-model.ts";
import { TRAFFIC_LIMITS, TRAFFIC_OPTION_CODES } from "../../src/traffic/traffic-options.ts";
import { TRAFFIC_SUMMARY_LIMITS } from "../../src/traffic/traffic-summary.ts";

const DOC = readFileSync(new URL("../../docs/reference/traffic.md", import.meta.url), "utf8");

/** The cells of the table row whose first cell is `key`. */
function row(key: string): string[] {
  const line = DOC.split("\n").find((candidate) => candidate.startsWith(`| ${key} |`));
  expect(line, `a table row for ${key}`).toBeDefined();
  return line!
    .split("|")
    .slice(1, -1)
    .map((cell) => cell.trim());
}

/** The rows of the table whose header starts with `header`, by first cell. */
function table(header: string): Map<string, string[]> {
  const lines = DOC.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`| ${header} |`));
  expect(start, `a table headed ${header}`).toBeGreaterThanOrEqual(0);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line
      .split("|")
      .slice(1, -1)
      .map((cell) => cell.trim());
    rows.set(cells[0]!, cells);
  }
  return rows;
}

const thousands = (value: number) => value.toLocaleString("en-US");
const percent = (value: number | undefined) => (value === undefined ? "" : `${value} %`);

describe("docs/reference/traffic.md", () => {
  it("documents every option error code", () => {
    for (const code of Object.keys(TRAFFIC_OPTION_CODES)) expect(DOC).toContain(`| \`${code}\` |`);
  });

  it("states the limits the code enforces", () => {
    for (const value of [
      TRAFFIC_LIMITS.tpsMax,
      TRAFFIC_LIMITS.secondsMax,
      TRAFFIC_LIMITS.paymentsMax,
      TRAFFIC_LIMITS.usersMax,
      TRAFFIC_LIMITS.merchantsMin,
      TRAFFIC_LIMITS.merchantsMax,
      TRAFFIC_LIMITS.seedMax,
      TRAFFIC_LIMITS.startMsMax,
      NDJSON_READ_LIMITS.lineBytesMax,
      TRAFFIC_SUMMARY_LIMITS.distinctUsersMax,
    ]) {
      expect(DOC).toContain(thousands(value));
    }
  });

  it("has the scenario table of traffic-model.ts", () => {
    for (const profile of SCENARIO_PROFILES) {
      const [, share, median, sigma, max, payee, merchants, location, channels, methods] = row(
        profile.scenario,
      );
      expect(share).toBe(`${profile.sharePercent} %`);
      expect(median).toBe((profile.amountMedianMinor / 100).toFixed(2));
      expect(Number(sigma)).toBe(profile.amountSigma);
      expect(Number(max)).toBe(profile.amountMinorMax / 100);
      if (profile.individualPayeeBps === 10_000) expect(payee).toBe("individual");
      else if (profile.individualPayeeBps > 0)
        expect(payee).toContain(`${profile.individualPayeeBps / 100} % individual`);
      else expect(payee).toMatch(/^merchant/);
      expect(merchants).toBe(`${profile.merchantSharePercent} %`);
      expect(location).toBe(profile.merchantLocation);
      expect(channels).toBe(profile.channelMix);
      expect(methods).toBe(profile.methodMix);
    }
  });

  it("lists each scenario's merchant categories with their weights", () => {
    const rows = table("scenario | categories (weight)");
    for (const profile of SCENARIO_PROFILES) {
      const cell = rows.get(profile.scenario)?.[1];
      if (profile.merchantCategories.length === 0) {
        expect(cell, profile.scenario).toBeUndefined();
        continue;
      }
      const documented = cell!.split(", ").map((entry) => {
        const match = /^(\d{4}) [^(]*(?:\((\d+)\))?$/.exec(entry);
        return [match?.[1], match?.[2] === undefined ? 1 : Number(match[2])];
      });
      expect(documented, profile.scenario).toEqual(
        profile.merchantCategories.map(([code, weight]) => [code, weight]),
      );
    }
  });

  it("has every region weight", () => {
    for (const [region, bps] of Object.entries(REGION_WEIGHTS_BPS))
      expect(DOC).toContain(`| ${region} | ${bps} |`);
  });

  it("has the channel and method mixes", () => {
    const channels = table("channel mix");
    expect(channels.get("channel mix")).toBeUndefined();
    for (const [name, mix] of Object.entries(CHANNEL_MIXES)) {
      expect(channels.get(name)!.slice(1)).toEqual(
        CHANNELS.map((channel) => percent(mix[channel])),
      );
    }
    const methods = table("method mix");
    for (const [name, mix] of Object.entries(METHOD_MIXES)) {
      expect(methods.get(name)!.slice(1)).toEqual(
        PAYMENT_METHODS.map((method) => percent(mix[method])),
      );
    }
  });

  it("has the daily curve", () => {
    const weights = DOC.split("\n")
      .filter((line) => line.startsWith("| weight |"))
      .flatMap((line) =>
        line
          .split("|")
          .slice(2, -1)
          .map((cell) => Number(cell.trim())),
      );
    expect(weights).toEqual([...HOURLY_WEIGHTS]);
  });

  it("has the population parameters", () => {
    const { segmentBps, devicesPercent, cardsPercent } = POPULATION_MODEL;
    expect(DOC).toContain(
      `\`new_user\` ${segmentBps.new_user / 100} %, \`vip\` ${segmentBps.vip / 100} %`,
    );
    expect(DOC).toContain(
      `\`student\` ${segmentBps.student / 100} % or \`senior\` ${segmentBps.senior / 100} %`,
    );
    expect(DOC).toContain(
      devicesPercent.map((share, index) => `${index + 1} (${share} %)`).join(", "),
    );
    expect(DOC).toContain(cardsPercent.map((share, index) => `${index} (${share} %)`).join(", "));
    expect(DOC).toContain(`**${POPULATION_MODEL.travelBps / 100} %** of payments (travel)`);
    expect(DOC).toContain(`used for ${POPULATION_MODEL.primaryDeviceBps / 100} % of payments`);
    expect(DOC).toContain(`used ${POPULATION_MODEL.primaryCardBps / 100} % of the time`);
    expect(DOC).toContain(
      `\`floor(users · u${POPULATION_MODEL.userSkewExponent === 3 ? "³" : "?"})\``,
    );
    expect(DOC).toContain(
      `\`floor(size · u${POPULATION_MODEL.merchantSkewExponent === 2 ? "²" : "?"})\``,
    );
    expect(DOC).toContain(`\`users\` (default ${thousands(POPULATION_MODEL.usersDefault)})`);
    expect(DOC).toContain(
      `\`merchants\` (default ${thousands(POPULATION_MODEL.merchantsDefault)})`,
    );
  });
});
