/**
 * Which external campaigns the runtime guard treats as registered: those of its options, with the
 * served configuration's registrations (`GuardServing.externalCampaigns`, from registration
 * documents) over them for the same campaignRef; a registration no longer served falls back to
 * the options', or to none.
 */
import { describe, expect, test } from "vitest";
import type { ExternalCampaign } from "../../src/core/guard/proposal-input.ts";
import { RuntimeGuard } from "../../src/guard/runtime-guard.ts";

const T0 = Date.UTC(2025, 0, 16, 6, 0);

function registration(campaignRef: string, spendPerMinuteMaxMinor: number): ExternalCampaign {
  return {
    campaignRef,
    funding: "merchant",
    label: "merchant_offer",
    scope: { scenarios: ["merchant_qr"], regions: ["CN-SH"] },
    spendPerMinuteMaxMinor,
  };
}

describe("the runtime guard's registrations", () => {
  test("the served configuration's registration stands over the options' and falls back when retired", () => {
    const fromOptions = registration("lunch", 100_000);
    const served = registration("lunch", 50_000);
    const guard = new RuntimeGuard({ externalCampaigns: [fromOptions] });
    expect(guard.externalCampaign("ext:lunch")).toBe(fromOptions);
    guard.configure({ stable: [], externalCampaigns: [served] }, T0);
    expect(guard.externalCampaign("ext:lunch")).toBe(served);
    guard.configure({ stable: [] }, T0 + 1_000);
    expect(guard.externalCampaign("ext:lunch")).toBe(fromOptions);
  });

  test("a registration only served is registered while served", () => {
    const guard = new RuntimeGuard();
    const served = registration("flash", 300_000);
    guard.configure({ stable: [], externalCampaigns: [served] }, T0);
    expect(guard.externalCampaign("ext:flash")).toBe(served);
    expect(guard.externalCampaign("ext:other")).toBeUndefined();
    guard.configure({ stable: [], externalCampaigns: [] }, T0 + 1_000);
    expect(guard.externalCampaign("ext:flash")).toBeUndefined();
  });
});
