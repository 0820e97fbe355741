/**
 * `bursar serve --demo` seeds the examples the way any configuration becomes active: one change
 * request by a demo author, assessed (lint and simulation), approved by demo reviewers, and rolled
 * out in two stages that the live demo traffic then judges — 10 % of identities for a minute,
 * then everyone. Seeding is idempotent across restarts: once the import exists (in any state but
 * rejected or rolled back), or any configuration is active, nothing is seeded again.
 */
import { loadConfig } from "../config/load-config.ts";
import type { ChangeService, ProposalFindings } from "../control/change-service.ts";
import type { Principal } from "../core/change/change-request.ts";
import { observationAsForecast, type RolloutPlan } from "../core/change/rollout.ts";

export const DEMO_IMPORT_TITLE = "demo: the example configuration";

const AUTHOR: Principal = { id: "demo.author", roles: ["author"] };
const REVIEWERS: readonly Principal[] = [
  { id: "demo.reviewer-risk", roles: ["reviewer"] },
  { id: "demo.reviewer-finance", roles: ["reviewer"] },
];
const OPERATOR: Principal = { id: "demo.operator", roles: ["operator"] };

/** How long before the server's start the import begins: its stages dwell in that time. */
export const DEMO_IMPORT_LEAD_MS = 5 * 60_000;

export const DEMO_IMPORT_PLAN: RolloutPlan = {
  stages: [
    { shareBps: 1_000, moneyAtRiskMaxMinor: 1_000_000_000_000, dwellMinMs: 60_000 },
    { shareBps: 10_000, moneyAtRiskMaxMinor: 1_000_000_000_000, dwellMinMs: 0 },
  ],
  toleranceBps: 5_000,
  paymentsMin: 100,
};

export type DemoSeedResult =
  | { readonly seeded: true; readonly changeId: string }
  | { readonly seeded: false; readonly reason: string };

/**
 * Seeds `examplesDirectory` through `changes`, whose clock reads `clock.nowMs` (set here, starting
 * `DEMO_IMPORT_LEAD_MS` before `startMs`). `lastAssessment` reads the findings of the last
 * assessment the service ran, for the warnings the import acknowledges.
 */
export async function seedDemo(
  changes: ChangeService,
  clock: { nowMs: number },
  startMs: number,
  examplesDirectory: string,
  lastAssessment: () => ProposalFindings | undefined,
): Promise<DemoSeedResult> {
  clock.nowMs = startMs - DEMO_IMPORT_LEAD_MS;
  const earlier = (await changes.list({ limit: 1_000 })).find(
    (change) =>
      change.title === DEMO_IMPORT_TITLE &&
      change.state !== "rejected" &&
      change.state !== "rolled_back",
  );
  if (earlier !== undefined) {
    return {
      seeded: false,
      reason: `the examples were imported before (${earlier.id}, ${earlier.state})`,
    };
  }
  if ((await changes.activeDocuments()).length > 0) {
    return { seeded: false, reason: "a configuration is already active" };
  }
  const loaded = await loadConfig([examplesDirectory]);
  const errors = loaded.documentFindings.filter((finding) => finding.severity === "error");
  if (loaded.documents.length === 0 || errors.length > 0) {
    throw new Error(
      `the examples in ${examplesDirectory} cannot be imported: ${loaded.documents.length} documents, ${errors.length} errors`,
    );
  }
  const created = must(
    await changes.create(
      AUTHOR,
      DEMO_IMPORT_TITLE,
      loaded.documents.map(({ document }) => ({ op: "put" as const, document })),
    ),
  );
  const id = created.change.id;
  const submitted = await changes.submit(AUTHOR, id, []);
  if (!submitted.ok) {
    // The examples' standing warnings, acknowledged once at import, as a team importing its
    // existing configuration would.
    const warnings = (lastAssessment()?.findings ?? []).filter(
      (finding) => finding.severity === "warning",
    );
    must(
      await changes.submit(
        AUTHOR,
        id,
        warnings.map((finding) => ({
          findingKey: finding.key,
          reason: "reviewed when the example configuration was imported",
          byId: AUTHOR.id,
        })),
      ),
    );
  }
  for (const reviewer of REVIEWERS) {
    const latest = await changes.show(id);
    if (latest?.state !== "in_review") break;
    must(await changes.approve(reviewer, id, latest.contentHash));
  }
  must(await changes.startRollout(OPERATOR, id, DEMO_IMPORT_PLAN));
  const asForecast = observationAsForecast((await changes.show(id))?.assessment?.forecast, 10_000);
  for (const stage of DEMO_IMPORT_PLAN.stages) {
    must(await changes.observe(id, asForecast, new Date(clock.nowMs).toISOString()));
    clock.nowMs += stage.dwellMinMs;
    const judged = must(await changes.judge(id));
    if (judged.verdict.verdict === "hold") must(await changes.judge(id));
  }
  const imported = await changes.show(id);
  if (imported?.state !== "active") {
    throw new Error(`the demo's import did not become active (${imported?.state})`);
  }
  return { seeded: true, changeId: id };
}

function must<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) {
    const refusal = result as unknown as { code: string; message: string };
    throw new Error(`seeding the demo was refused: ${refusal.code}: ${refusal.message}`);
  }
  return result as Extract<T, { ok: true }>;
}
