/**
 * The responder (src/guard/guard-responder.ts) over the real change pipeline, kill store and
 * incident service on memory stores: the examples imported through the pipeline, changes forced
 * or approved and rolling out on top. A trip kills the blamed campaigns, rolls back the change
 * that made the blamed version (or the rolling change when no recent one did), else pauses the
 * campaign, and opens the incident with its timeline; a refused step is reported and the others
 * still happen.
 *
 * Trips are built by hand (what RuntimeGuard.check returns; test/guard/runtime-guard.test.ts
 * shows the guard producing them), naming the versions the pipeline actually serves.
 */
import { describe, expect, test } from "vitest";
import type { GuardTrip } from "../../src/core/guard/guard-monitors.ts";
import type { IncidentImpact } from "../../src/core/guard/severity-policy.ts";
import type { Campaign } from "../../src/core/model/campaign.ts";
import type { Template } from "../../src/core/model/template.ts";
import { INCIDENT_TEMPLATE_ID, incidentEdits } from "../../src/demo/incident-change.ts";
import type { TripContext } from "../../src/guard/guard-responder.ts";
import {
  campaignOf,
  HOUR_MS,
  MINUTE_MS,
  OPERATOR,
  ok,
  PipelineWorld,
  TWO_STAGES,
} from "./guard-test-fixtures.ts";

const COFFEE = "idc-coffee-afternoon-tea";
const CONVENIENCE = "idc-sh-convenience-qr";
/** A percent-off campaign: its template is not the one the 2025-01-16 change edits. */
const RESTAURANT = "pct-bj-restaurant-lunch";

/** ¥20,000 a minute at risk: P2 by the default policy; nothing else reaches P3. */
const IMPACT: IncidentImpact = {
  atRiskPerMinuteMinor: 2_000_000,
  cumulativeMinor: 500_000,
  paymentShareBps: 5,
  scenarios: 0,
  regions: 0,
  coreFlows: false,
};

function perPaymentTrip(campaignId: string, campaignVersion: number, atMs: number): GuardTrip {
  return {
    code: "per_payment.above_previous",
    subject: { kind: "campaign", id: campaignId, campaignVersion },
    window: "10s",
    observed: 3_000,
    limit: 500,
    atMs,
    campaignIds: [campaignId],
    blamedVersions: [{ campaignId, campaignVersion }],
  };
}

function ceilingTrip(campaignId: string, campaignVersion: number, atMs: number): GuardTrip {
  return {
    code: "velocity.above_ceiling",
    subject: { kind: "campaign", id: campaignId, campaignVersion },
    window: "1s",
    observed: 9_000,
    limit: 5_000,
    atMs,
    campaignIds: [campaignId],
    blamedVersions: [{ campaignId, campaignVersion }],
  };
}

/** What a server knows beside the trip: templates and funders from what it serves. */
async function contextOf(world: PipelineWorld, extra: Partial<TripContext> = {}) {
  const serving = await world.serving();
  const campaigns = [...(serving.rollout?.campaigns ?? []), ...serving.stable.campaigns];
  const find = (id: string) => campaigns.find((effective) => effective.campaign.id === id);
  return {
    impact: IMPACT,
    templateOf: (id: string) => find(id)?.template.id,
    fundingOf: (id: string) => find(id)?.funding.source,
    ...extra,
  } satisfies TripContext;
}

/** The forced 20 % template edit of 2025-01-16 (the variant inside the envelope), rolling out. */
async function forcedTemplateEdit(world: PipelineWorld): Promise<string> {
  return world.forcedRollout(
    "instant discount: 20 % off",
    incidentEdits(world.documents, "variant"),
    TWO_STAGES,
  );
}

function timelineKinds(incident: { timeline: readonly { kind: string }[] } | undefined) {
  return incident?.timeline.map((entry) => entry.kind);
}

describe("a trip blaming a version the rolling change made", () => {
  test("kills the campaign, rolls the change back, and opens the incident with how the change got there", async () => {
    const world = await PipelineWorld.withExamples();
    const changeId = await forcedTemplateEdit(world);
    const serving = await world.serving();
    const coffee = campaignOf(serving.rollout!, COFFEE);
    // The template edit made coffee's new effective version.
    expect(coffee.version).toBeGreaterThan(campaignOf(serving.stable, COFFEE).version);
    const context = await contextOf(world, {
      firstAnomaly: { paymentId: "pay-1", atMs: world.clock.nowMs + 1_000, subsidyMinor: 3_000 },
    });
    const trip = perPaymentTrip(COFFEE, coffee.version, world.clock.nowMs + 4_000);
    world.clock.nowMs = trip.atMs + 100;
    const respondedAtMs = world.clock.nowMs;

    const response = await world.responder().respond(trip, context);

    const breakerId = `campaign:${COFFEE}@${coffee.version}`;
    expect(response).toEqual({
      breakerId,
      killSequence: 1,
      killedCampaignIds: [COFFEE],
      rolledBack: [changeId],
      paused: [],
      incidentId: expect.any(String),
      problems: [],
    });
    const kills = await world.kills.readState();
    expect(kills.active).toEqual([
      {
        sequence: 1,
        scope: { kind: "campaigns", campaignIds: [COFFEE] },
        reason: `breaker ${breakerId} tripped: per_payment.above_previous (3000 > 500 over 10s)`,
        actor: "guard",
        atMs: respondedAtMs,
      },
    ]);
    expect((await world.service.show(changeId))?.state).toBe("rolled_back");
    // The rollback restored the template everyone is served.
    const template = (await world.latest("template", INCIDENT_TEMPLATE_ID)) as Template;
    expect(template.offer).toEqual({ kind: "fixed", amountMinor: 50 });
    expect((await world.serving()).rollout).toBeUndefined();

    const incident = await world.incidents.get(response.incidentId!);
    expect(incident).toMatchObject({
      state: "open",
      severity: "P2",
      openedBy: { kind: "breaker", breakerId, tripCode: "per_payment.above_previous" },
      blame: {
        changeIds: [changeId],
        campaignVersions: [{ campaignId: COFFEE, version: coffee.version }],
        templateIds: [INCIDENT_TEMPLATE_ID],
        funders: ["platform"],
      },
      windowStartMs: context.firstAnomaly!.atMs,
    });
    // In time order: two administrators forced lint, then approval; the stage started; the first
    // anomalous subsidy; the trip; the opening, the kill and the rollback, as the responder acted.
    expect(timelineKinds(incident)).toEqual([
      "change_forced",
      "change_forced",
      "rollout_stage",
      "first_anomalous_subsidy",
      "trip",
      "opened",
      "kill_published",
      "rollback",
    ]);
    expect(incident?.timeline.filter((entry) => entry.kind === "change_forced")).toMatchObject([
      { byId: "admin.chen+admin.liu", details: { changeId, gate: "lint" } },
      { byId: "admin.chen+admin.liu", details: { changeId, gate: "approval" } },
    ]);
    expect(incident?.timeline.find((entry) => entry.kind === "rollout_stage")).toMatchObject({
      details: { changeId, shareBps: 1_000 },
    });
    expect(incident?.timeline.find((entry) => entry.kind === "trip")).toMatchObject({
      atMs: trip.atMs,
      details: { breakerId, code: "per_payment.above_previous", observed: 3_000, limit: 500 },
    });
    expect(incident?.timeline.find((entry) => entry.kind === "kill_published")).toMatchObject({
      atMs: respondedAtMs,
      details: { killSequence: 1 },
    });
    expect(incident?.timeline.find((entry) => entry.kind === "rollback")).toMatchObject({
      atMs: respondedAtMs,
      details: { changeId },
    });
  }, 30_000);
});

describe("a trip on a campaign no recent change made", () => {
  test("with no rollout in progress: the campaign is paused, nothing is rolled back", async () => {
    const world = await PipelineWorld.withExamples(2 * HOUR_MS);
    const trip = ceilingTrip(CONVENIENCE, 1, world.clock.nowMs);
    const response = await world.responder().respond(trip, await contextOf(world));

    expect(response).toMatchObject({
      killSequence: 1,
      killedCampaignIds: [CONVENIENCE],
      rolledBack: [],
      paused: [CONVENIENCE],
      problems: [],
    });
    expect(((await world.latest("campaign", CONVENIENCE)) as Campaign).paused).toBe(true);
    // Only that campaign: its neighbour in the exclusive group still runs.
    expect(((await world.latest("campaign", COFFEE)) as Campaign).paused).toBeUndefined();
    // The import that made it two hours ago is not undone.
    expect((await world.service.show(world.importId))?.state).toBe("active");
    const incident = await world.incidents.get(response.incidentId!);
    expect(incident?.blame.changeIds).toEqual([]);
    expect(timelineKinds(incident)).toEqual(["trip", "opened", "kill_published"]);
  }, 30_000);

  test("while an unrelated approved change rolls out: that change is rolled back first, nothing is paused", async () => {
    const world = await PipelineWorld.withExamples(2 * HOUR_MS);
    const coffee = world.documents.find((document) => document.id === COFFEE) as Campaign;
    const changeId = await world.approved("coffee: 0.80 yuan off", [
      { op: "put", document: { ...coffee, offer: { amountMinor: 80 } } },
    ]);
    world.clock.nowMs += MINUTE_MS;
    ok(await world.service.startRollout(OPERATOR, changeId, TWO_STAGES));
    // The risk policy asks for as many approvals as it asks (one, here): each is on the timeline.
    const approvals = (await world.service.show(changeId))!.approvals;
    expect(approvals.length).toBeGreaterThan(0);

    world.clock.nowMs += 30_000;
    const trip = ceilingTrip(RESTAURANT, 1, world.clock.nowMs);
    const response = await world.responder().respond(trip, await contextOf(world));

    expect(response).toMatchObject({
      killSequence: 1,
      killedCampaignIds: [RESTAURANT],
      rolledBack: [changeId],
      paused: [],
      problems: [],
    });
    expect((await world.service.show(changeId))?.state).toBe("rolled_back");
    expect(((await world.latest("campaign", RESTAURANT)) as Campaign).paused).toBeUndefined();
    expect((await world.service.show(world.importId))?.state).toBe("active");
    const incident = await world.incidents.get(response.incidentId!);
    expect(incident?.blame.changeIds).toEqual([changeId]);
    expect(timelineKinds(incident)).toEqual([
      ...approvals.map(() => "change_approved"),
      "rollout_stage",
      "trip",
      "opened",
      "kill_published",
      "rollback",
    ]);
    expect(
      incident?.timeline.filter((entry) => entry.kind === "change_approved").map((e) => e.byId),
    ).toEqual(approvals.map((approval) => approval.reviewerId));
  }, 30_000);

  test("a campaign whose limits an operator lowered minutes ago is paused (a lowering is never rolled back)", async () => {
    const world = await PipelineWorld.withExamples(2 * HOUR_MS);
    const convenience = (await world.latest("campaign", CONVENIENCE)) as Campaign;
    world.clock.nowMs += MINUTE_MS;
    ok(
      await world.service.lowerLimits(
        OPERATOR,
        { ...convenience, limits: { ...convenience.limits, spendPerMinuteMaxMinor: 100_000 } },
        "lunch peak: a lower ceiling until the merchant's promotion ends",
      ),
    );
    world.clock.nowMs += 10 * MINUTE_MS;
    const trip = ceilingTrip(CONVENIENCE, 2, world.clock.nowMs);
    const response = await world.responder().respond(trip, await contextOf(world));

    expect(response).toMatchObject({ rolledBack: [], paused: [CONVENIENCE], problems: [] });
    const paused = (await world.latest("campaign", CONVENIENCE)) as Campaign;
    expect(paused).toMatchObject({ paused: true, limits: { spendPerMinuteMaxMinor: 100_000 } });
  }, 30_000);
});

describe("a refused step is reported and the others still happen", () => {
  test("a rollback refused (the change's documents were written again since) leaves the kill and the incident", async () => {
    // The import is recent (30 minutes): it is the change that made coffee's version.
    const world = await PipelineWorld.withExamples(30 * MINUTE_MS);
    const convenience = (await world.latest("campaign", CONVENIENCE)) as Campaign;
    // Since then an operator lowered another campaign the import wrote.
    ok(
      await world.service.lowerLimits(
        OPERATOR,
        { ...convenience, limits: { ...convenience.limits, spendPerMinuteMaxMinor: 100_000 } },
        "lunch peak: a lower ceiling until the merchant's promotion ends",
      ),
    );
    const trip = ceilingTrip(COFFEE, 1, world.clock.nowMs);
    const response = await world.responder().respond(trip, await contextOf(world));

    expect(response).toMatchObject({
      killSequence: 1,
      killedCampaignIds: [COFFEE],
      rolledBack: [],
      paused: [],
      incidentId: expect.any(String),
    });
    expect(response.problems).toEqual([
      expect.stringMatching(new RegExp(`^rollback ${world.importId}: superseded: `)),
    ]);
    expect((await world.service.show(world.importId))?.state).toBe("active");
    expect((await world.kills.readState()).active.map((kill) => kill.scope)).toEqual([
      { kind: "campaigns", campaignIds: [COFFEE] },
    ]);
    const incident = await world.incidents.get(response.incidentId!);
    expect(incident?.blame.changeIds).toEqual([world.importId]);
    // How the import got there (two approvals, its last stage), then the trip; no rollback.
    expect(timelineKinds(incident)).toEqual([
      "change_approved",
      "change_approved",
      "rollout_stage",
      "trip",
      "opened",
      "kill_published",
    ]);
  }, 30_000);

  test("a trip arriving after someone else rolled the change back: nothing is left to roll back, so the campaign is paused", async () => {
    // Not a refused step: the responder only looks among changes rolling out or active, and the
    // rolled-back change is neither. It matches by campaign, not by version, so the import that
    // made coffee two hours ago is the maker it finds, too old to roll back: coffee is paused,
    // although the version the trip blames is no longer served.
    const world = await PipelineWorld.withExamples();
    const changeId = await forcedTemplateEdit(world);
    const coffee = campaignOf((await world.serving()).rollout!, COFFEE);
    const context = await contextOf(world);
    ok(await world.service.rollBack(OPERATOR, changeId, "the on-call engineer saw it first"));
    const trip = perPaymentTrip(COFFEE, coffee.version, world.clock.nowMs);
    const response = await world.responder().respond(trip, context);

    expect(response).toMatchObject({
      killSequence: 1,
      rolledBack: [],
      paused: [COFFEE],
      problems: [],
    });
    expect((await world.service.show(changeId))?.state).toBe("rolled_back");
    expect(((await world.latest("campaign", COFFEE)) as Campaign).paused).toBe(true);
  }, 30_000);

  test("a kill refused (the store holds its most active kills) leaves the rollback and the incident", async () => {
    const world = await PipelineWorld.withExamples();
    const changeId = await forcedTemplateEdit(world);
    for (let index = 0; index < 1_000; index += 1) {
      ok(
        await world.kills.publishKill({
          scope: { kind: "campaigns", campaignIds: [`old-${index}`] },
          reason: "left over from drills nobody cleared",
          actor: OPERATOR.id,
          atMs: world.clock.nowMs,
        }),
      );
    }
    const coffee = campaignOf((await world.serving()).rollout!, COFFEE);
    const trip = perPaymentTrip(COFFEE, coffee.version, world.clock.nowMs);
    const response = await world.responder().respond(trip, await contextOf(world));

    expect(response).toMatchObject({
      killSequence: null,
      killedCampaignIds: [],
      rolledBack: [changeId],
      paused: [],
      incidentId: expect.any(String),
    });
    expect(response.problems).toEqual([expect.stringMatching(/^kill: too_many_kills: /)]);
    expect((await world.service.show(changeId))?.state).toBe("rolled_back");
    const incident = await world.incidents.get(response.incidentId!);
    expect(timelineKinds(incident)).not.toContain("kill_published");
    expect(timelineKinds(incident)).toContain("rollback");
  }, 30_000);
});

describe("a funder's runaway that blames no campaign", () => {
  // What the funder monitor trips when none of the external campaigns granting that money lately
  // is one it still remembers (src/core/guard/guard-monitors.ts, grantersPerFunderMax).
  function funderTripBlamingNone(atMs: number): GuardTrip {
    return {
      code: "velocity.above_forecast",
      subject: { kind: "funder", id: "platform" },
      window: "60s",
      observed: 900_000,
      limit: 100_000,
      atMs,
      campaignIds: [],
      blamedVersions: [],
    };
  }

  test("kills all of that funder's money, blames the funder, and leaves a native change rolling out alone", async () => {
    const world = await PipelineWorld.withExamples();
    const changeId = await forcedTemplateEdit(world);
    const trip = funderTripBlamingNone(world.clock.nowMs);
    const response = await world.responder().respond(trip, await contextOf(world));

    expect(response).toMatchObject({
      breakerId: "funder:platform",
      killSequence: 1,
      killedCampaignIds: [],
      rolledBack: [],
      paused: [],
      problems: [],
    });
    const kills = await world.kills.readState();
    expect(kills.active.map((kill) => kill.scope)).toEqual([
      { kind: "funding", funding: "platform" },
    ]);
    // The funder monitor watches the external engine's spend only: no native change is a suspect.
    expect((await world.service.show(changeId))?.state).toBe("rolling_out");
    const incident = await world.incidents.get(response.incidentId!);
    expect(incident?.blame).toMatchObject({
      changeIds: [],
      campaignVersions: [],
      funders: ["platform"],
    });
    expect(incident?.timeline.find((entry) => entry.kind === "kill_published")).toMatchObject({
      summary: "kill 1 of every subsidy funded by platform",
      details: { killSequence: 1, campaigns: 0 },
    });
  }, 30_000);

  test("a subject that is no funding source kills nothing rather than guess", async () => {
    const world = await PipelineWorld.withExamples();
    const trip = {
      ...funderTripBlamingNone(world.clock.nowMs),
      subject: { kind: "funder", id: "nobody" },
    } as GuardTrip;
    const response = await world.responder().respond(trip, await contextOf(world));
    expect(response.killSequence).toBeNull();
    expect((await world.kills.readState()).active).toEqual([]);
  }, 30_000);
});
