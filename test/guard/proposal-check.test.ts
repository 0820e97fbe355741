/**
 * Guard mode's pure check (src/core/guard/proposal-check.ts): payment-level refusals first, then
 * each proposal's label, program, kill and registration, then the per-payment bounds clamped in
 * the caller's order; bad input answered as a value; and, over generated payments, envelopes,
 * kills and proposals, the invariants: the sum allowed never exceeds the envelope's bound, a
 * protected scenario or a killed campaign never gets anything, the answer is deterministic, and
 * the hand-written input check accepts exactly what the schemas accept.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { FUNDING_SOURCES, LABEL_KINDS } from "../../src/core/funding.ts";
import { KillMatcher, type KillScope } from "../../src/core/guard/kill.ts";
import {
  checkGuardRequest,
  checkProposals,
  decisionOfCheck,
  type ProposalCheckContext,
} from "../../src/core/guard/proposal-check.ts";
import {
  checkProposalList,
  type ExternalCampaign,
  guardCheckRequestSchema,
  type Proposal,
  proposalListSchema,
} from "../../src/core/guard/proposal-input.ts";
import { type Envelope, envelopeSchema } from "../../src/core/model/envelope.ts";
import { CHANNELS, PAYMENT_METHODS } from "../../src/core/model/payment.ts";
import { programSchema } from "../../src/core/model/program.ts";
import { applyRateBpsFloor } from "../../src/core/money.ts";
import { CASH_EQUIVALENT_SCENARIOS, SCENARIOS } from "../../src/core/scenario.ts";
import { coffeePayment, validEnvelope, validProgram } from "../support/documents.ts";

const ENVELOPE = envelopeSchema.parse(validEnvelope());
const PROGRAM = programSchema.parse(validProgram());
const PROGRAMS = new Map([[PROGRAM.id, PROGRAM]]);

function killsOf(...scopes: KillScope[]): KillMatcher {
  return new KillMatcher({
    sequence: scopes.length,
    active: scopes.map((scope, index) => ({
      sequence: index + 1,
      scope,
      reason: "test",
      actor: "oncall",
      atMs: 0,
    })),
  });
}

function contextWith(overrides: Partial<ProposalCheckContext> = {}): ProposalCheckContext {
  return {
    envelope: ENVELOPE,
    programs: PROGRAMS,
    kills: killsOf(),
    killStateStale: false,
    whenUnhealthy: "refuse",
    ...overrides,
  };
}

function proposal(id: string, amountMinor: number, overrides: Partial<Proposal> = {}): Proposal {
  return {
    proposalId: id,
    campaignRef: `camp-${id}`,
    amountMinor,
    funding: "platform",
    label: "instant_discount",
    ...overrides,
  };
}

/** 35 yuan of coffee in Shanghai: bound min(20,000, 30 % = 1,050, 3,499) = 1,050. */
const PAYMENT = coffeePayment("pay-1");

describe("payment-level refusals come first and refuse every proposal", () => {
  test.each([
    ["p2p_transfer", "envelope.protected_scenario"],
    ["credit_card_repayment", "envelope.protected_scenario"],
    ["balance_topup", "envelope.protected_scenario"],
  ])("scenario %s is %s", (scenario, reason) => {
    const check = checkProposals(
      coffeePayment("p", { scenario }),
      [proposal("a", 100), proposal("b", 200)],
      contextWith(),
    );
    expect(check.reason).toBe(reason);
    expect(check.allowedTotalMinor).toBe(0);
    expect(check.answers.map((answer) => [answer.outcome, answer.reason])).toEqual([
      ["refused", reason],
      ["refused", reason],
    ]);
  });

  test("an individual payee is a transfer whatever its scenario", () => {
    const check = checkProposals(
      coffeePayment("p", { payeeKind: "individual" }),
      [proposal("a", 100)],
      contextWith(),
    );
    expect(check.reason).toBe("envelope.individual_payee");
  });

  test("a currency without bounds, and an amount not above the minimum payable", () => {
    expect(
      checkProposals(coffeePayment("p", { currency: "USD" }), [proposal("a", 1)], contextWith())
        .reason,
    ).toBe("payment.currency_without_envelope");
    expect(
      checkProposals(coffeePayment("p", { amountMinor: 1 }), [proposal("a", 1)], contextWith())
        .reason,
    ).toBe("envelope.min_payable");
  });

  test("an invalid payment refuses every proposal with payment.invalid and says where", () => {
    const check = checkProposals(
      { ...PAYMENT, amountMinor: 12.5 },
      [proposal("a", 100)],
      contextWith(),
    );
    expect(check).toMatchObject({
      paymentId: "pay-1",
      reason: "payment.invalid",
      allowedTotalMinor: 0,
      problem: { path: "payment" },
    });
    expect(check.answers[0]).toMatchObject({ outcome: "refused", reason: "payment.invalid" });
  });

  test.each([
    ["not a list", { a: 1 }, "proposals"],
    [
      "33 proposals",
      Array.from({ length: 33 }, (_, index) => proposal(`p${index}`, 1)),
      "proposals",
    ],
    ["a duplicate proposalId", [proposal("a", 1), proposal("a", 2)], "proposals[1].proposalId"],
    ["an unknown field", [{ ...proposal("a", 1), extra: 1 }], "proposals[0].extra"],
    ["a zero amount", [proposal("a", 0)], "proposals[0].amountMinor"],
    ["a fractional amount", [proposal("a", 1.5)], "proposals[0].amountMinor"],
    ["an unknown funder", [{ ...proposal("a", 1), funding: "friend" }], "proposals[0].funding"],
    [
      "a long campaignRef",
      [proposal("a", 1, { campaignRef: "x".repeat(61) })],
      "proposals[0].campaignRef",
    ],
    ["a null entry", [null], "proposals[0]"],
  ])("a proposal list with %s is proposals.invalid, answered without throwing", (_, list, path) => {
    const check = checkProposals(PAYMENT, list, contextWith());
    expect(check).toMatchObject({
      reason: "proposals.invalid",
      answers: [],
      allowedTotalMinor: 0,
      problem: { path },
    });
  });

  test("an empty proposal list is valid: the payment is still counted, nothing allowed", () => {
    expect(checkProposals(PAYMENT, [], contextWith())).toMatchObject({
      reason: null,
      answers: [],
      allowedTotalMinor: 0,
    });
  });
});

describe("the per-payment bound clamps in the caller's order", () => {
  test("the rate bound: 30 % of 3,500 is 1,050 for all proposals together", () => {
    const check = checkProposals(
      PAYMENT,
      [proposal("a", 800), proposal("b", 500), proposal("c", 10)],
      contextWith(),
    );
    expect(check.answers.map((answer) => [answer.outcome, answer.amountMinor])).toEqual([
      ["allowed", 800],
      ["clamped", 250],
      ["refused", 0],
    ]);
    expect(check.answers[1]!.clampedBy).toBe("per_payment_rate");
    expect(check.answers[2]!.reason).toBe("envelope.total_bound_reached");
    expect(check.allowedTotalMinor).toBe(1_050);
  });

  test("the maximum per payment, and the minimum payable", () => {
    const large = checkProposals(
      coffeePayment("p", { amountMinor: 1_000_000 }),
      [proposal("a", 500_000)],
      contextWith(),
    );
    expect(large.answers[0]).toMatchObject({
      outcome: "clamped",
      amountMinor: 20_000,
      clampedBy: "per_payment_max",
    });
    const strict: Envelope = {
      ...ENVELOPE,
      currencies: [{ ...ENVELOPE.currencies[0]!, minPayableMinor: 3_400 }],
    };
    const small = checkProposals(PAYMENT, [proposal("a", 500)], contextWith({ envelope: strict }));
    expect(small.answers[0]).toMatchObject({ amountMinor: 100, clampedBy: "min_payable" });
  });
});

describe("each proposal: label, program, kill, registration", () => {
  test("a label claiming another funder is refused", () => {
    const check = checkProposals(
      PAYMENT,
      [proposal("a", 100, { label: "bank_offer", funding: "platform" })],
      contextWith(),
    );
    expect(check.answers[0]!.reason).toBe("proposal.label_not_allowed");
  });

  test("government money needs a registered program that covers the payment", () => {
    const government = { funding: "government", label: "government_subsidy" } as const;
    const groceries = coffeePayment("p", { merchantCategory: "5411" });
    const answers = checkProposals(
      groceries,
      [
        proposal("none", 100, government),
        proposal("unknown", 100, { ...government, programId: "elsewhere" }),
        proposal("ok", 100, { ...government, programId: PROGRAM.id }),
      ],
      contextWith(),
    ).answers;
    expect(answers.map((answer) => answer.reason ?? answer.outcome)).toEqual([
      "envelope.program_missing",
      "envelope.program_missing",
      "allowed",
    ]);
    const coffee = checkProposals(
      PAYMENT,
      [proposal("ok", 100, { ...government, programId: PROGRAM.id })],
      contextWith(),
    );
    expect(coffee.answers[0]!.reason).toBe("envelope.program_mismatch");
  });

  test("kills by external campaign, funder, the external template and all", () => {
    const proposals = [
      proposal("a", 100, { campaignRef: "runaway" }),
      proposal("b", 100, { campaignRef: "steady", funding: "merchant", label: "merchant_offer" }),
      proposal("c", 100, { campaignRef: "other" }),
    ];
    const reasons = (kills: KillMatcher) =>
      checkProposals(PAYMENT, proposals, contextWith({ kills })).answers.map(
        (answer) => answer.reason,
      );
    expect(reasons(killsOf({ kind: "campaigns", campaignIds: ["ext:runaway"] }))).toEqual([
      "guard.killed",
      null,
      null,
    ]);
    // A native campaign with the same name is another campaign.
    expect(reasons(killsOf({ kind: "campaigns", campaignIds: ["runaway"] }))).toEqual([
      null,
      null,
      null,
    ]);
    expect(reasons(killsOf({ kind: "funding", funding: "merchant" }))).toEqual([
      null,
      "guard.killed",
      null,
    ]);
    expect(reasons(killsOf({ kind: "template", templateId: "ext:*" }))).toEqual([
      "guard.killed",
      "guard.killed",
      "guard.killed",
    ]);
    expect(reasons(killsOf({ kind: "all" }))).toEqual([
      "guard.killed",
      "guard.killed",
      "guard.killed",
    ]);
  });

  test("a proposal outside its registration is refused, and its own maximum clamps", () => {
    const registered: ExternalCampaign = {
      campaignRef: "coffee",
      funding: "platform",
      label: "instant_discount",
      scope: { scenarios: ["merchant_qr"], regions: ["CN-SH"] },
      perPaymentMaxMinor: 300,
    };
    const externalCampaigns = new Map([[registered.campaignRef, registered]]);
    const context = contextWith({ externalCampaigns });
    const of = (overrides: Partial<Proposal>, payment = PAYMENT) =>
      checkProposals(
        payment,
        [proposal("a", 100, { campaignRef: "coffee", ...overrides })],
        context,
      ).answers[0]!;
    expect(of({ funding: "merchant" }).reason).toBe("registration.funding_mismatch");
    expect(of({ label: "coupon" }).reason).toBe("registration.label_mismatch");
    expect(of({}, coffeePayment("p", { scenario: "online_checkout" })).reason).toBe(
      "registration.scenario_outside",
    );
    expect(of({}, coffeePayment("p", { region: "CN-BJ" })).reason).toBe(
      "registration.region_outside",
    );
    expect(of({}).outcome).toBe("allowed");
    // Split into three proposals, it still gets its maximum once.
    const split = checkProposals(
      PAYMENT,
      [
        proposal("a", 200, { campaignRef: "coffee" }),
        proposal("b", 200, { campaignRef: "coffee" }),
        proposal("c", 200, { campaignRef: "coffee" }),
        proposal("d", 200, { campaignRef: "unregistered" }),
      ],
      context,
    );
    expect(
      split.answers.map((answer) => answer.reason ?? answer.clampedBy ?? answer.outcome),
    ).toEqual(["allowed", "registered_max", "registration.cap_reached", "allowed"]);
    expect(split.allowedTotalMinor).toBe(500);
  });
});

describe("when Bursar is unhealthy, the caller's default decides", () => {
  const proposals = [
    proposal("a", 5_000),
    proposal("gov", 100, { funding: "government", label: "government_subsidy" }),
  ];

  test("refuse: no envelope, or a stale kill state, refuses everything", () => {
    expect(checkProposals(PAYMENT, proposals, contextWith({ envelope: undefined }))).toMatchObject({
      reason: "guard.envelope_unavailable",
      unhealthy: "guard.envelope_unavailable",
      allowedTotalMinor: 0,
    });
    expect(checkProposals(PAYMENT, proposals, contextWith({ killStateStale: true }))).toMatchObject(
      {
        reason: "guard.snapshot_stale",
        unhealthy: "guard.snapshot_stale",
        allowedTotalMinor: 0,
      },
    );
  });

  test("pass: what can still be checked is, and the answer says Bursar was unhealthy", () => {
    const noEnvelope = checkProposals(
      PAYMENT,
      proposals,
      contextWith({ envelope: undefined, programs: new Map(), whenUnhealthy: "pass" }),
    );
    expect(noEnvelope).toMatchObject({ reason: null, unhealthy: "guard.envelope_unavailable" });
    expect(noEnvelope.answers.map((answer) => [answer.outcome, answer.amountMinor])).toEqual([
      ["allowed", 5_000],
      ["refused", 0],
    ]);
    // Cash-equivalent scenarios are code, not configuration: protected even without an envelope.
    expect(
      checkProposals(
        coffeePayment("p", { scenario: "p2p_transfer" }),
        proposals,
        contextWith({ envelope: undefined, whenUnhealthy: "pass" }),
      ).reason,
    ).toBe("envelope.protected_scenario");
    const stale = checkProposals(
      PAYMENT,
      [proposal("a", 5_000), proposal("b", 10, { campaignRef: "killed" })],
      contextWith({
        killStateStale: true,
        whenUnhealthy: "pass",
        kills: killsOf({ kind: "campaigns", campaignIds: ["ext:killed"] }),
      }),
    );
    expect(stale.unhealthy).toBe("guard.snapshot_stale");
    expect(stale.answers.map((answer) => answer.reason ?? answer.clampedBy)).toEqual([
      "per_payment_rate",
      "guard.killed",
    ]);
  });

  test("a payment-level refusal wins over staleness", () => {
    const check = checkProposals(
      coffeePayment("p", { scenario: "red_packet" }),
      proposals,
      contextWith({ killStateStale: true }),
    );
    expect(check).toMatchObject({ reason: "envelope.protected_scenario", unhealthy: null });
  });
});

describe("a whole request", () => {
  test.each([
    ["not an object", "payment", ""],
    ["an unknown field", { payment: PAYMENT, proposals: [], extra: 1 }, "extra"],
    [
      "an unknown whenUnhealthy",
      { payment: PAYMENT, proposals: [], whenUnhealthy: "maybe" },
      "whenUnhealthy",
    ],
  ])("with %s is request.invalid", (_, input, path) => {
    expect(checkGuardRequest(input, contextWith())).toMatchObject({
      reason: "request.invalid",
      answers: [],
      problem: { path },
    });
  });

  test("the request's whenUnhealthy replaces the context's", () => {
    const stale = contextWith({ killStateStale: true });
    const request = { payment: PAYMENT, proposals: [proposal("a", 100)] };
    expect(checkGuardRequest(request, stale).reason).toBe("guard.snapshot_stale");
    expect(checkGuardRequest({ ...request, whenUnhealthy: "pass" }, stale)).toMatchObject({
      reason: null,
      unhealthy: "guard.snapshot_stale",
      allowedTotalMinor: 100,
    });
  });

  test("the recorded decision names allowed proposals as external campaigns", () => {
    const proposals = [proposal("a", 800), proposal("b", 500), proposal("c", 10)];
    const check = checkProposals(PAYMENT, proposals, contextWith());
    const decision = decisionOfCheck(check, proposals, 7);
    expect(decision).toMatchObject({ snapshotVersion: 7, totalSubsidyMinor: 1_050 });
    expect(decision.subsidies).toEqual([
      expect.objectContaining({ campaignId: "ext:camp-a", templateId: "ext:*", amountMinor: 800 }),
      expect.objectContaining({ campaignId: "ext:camp-b", amountMinor: 250, offerMinor: 500 }),
    ]);
  });
});

// --- Properties over generated inputs ---

const REFS = ["alpha", "beta", "gamma", "delta"] as const;

const proposalArbitrary = fc.record(
  {
    proposalId: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,8}$/),
    campaignRef: fc.constantFrom(...REFS),
    amountMinor: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 1e15 })),
    funding: fc.constantFrom(...FUNDING_SOURCES),
    label: fc.constantFrom(...LABEL_KINDS),
    programId: fc.constantFrom(PROGRAM.id, "other-program"),
  },
  { requiredKeys: ["proposalId", "campaignRef", "amountMinor", "funding", "label"] },
);

const proposalsArbitrary = fc
  .uniqueArray(proposalArbitrary, { maxLength: 12, selector: (item) => item.proposalId })
  .map((list) => list as Proposal[]);

const paymentArbitrary = fc
  .record({
    amountMinor: fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 1e15 })),
    scenario: fc.constantFrom(...SCENARIOS),
    payeeKind: fc.constantFrom("merchant", "individual"),
    region: fc.constantFrom("CN-SH", "CN-BJ"),
    merchantCategory: fc.constantFrom("5411", "5814"),
    channel: fc.constantFrom(...CHANNELS),
    paymentMethod: fc.constantFrom(...PAYMENT_METHODS),
    currency: fc.constantFrom("CNY", "CNY", "USD"),
  })
  .map((fields) => coffeePayment("gen", fields));

const envelopeArbitrary: fc.Arbitrary<Envelope> = fc
  .record({
    perPaymentMaxRateBps: fc.integer({ min: 0, max: 10_000 }),
    perPaymentMaxMinor: fc.integer({ min: 0, max: 1e15 }),
    minPayableMinor: fc.integer({ min: 0, max: 10_000 }),
  })
  .map((bounds) => ({
    ...ENVELOPE,
    currencies: [{ ...ENVELOPE.currencies[0]!, ...bounds }],
  }));

const killScopeArbitrary: fc.Arbitrary<KillScope> = fc.oneof(
  fc.record({
    kind: fc.constant("campaigns" as const),
    campaignIds: fc.uniqueArray(
      fc.constantFrom(...REFS).map((ref) => `ext:${ref}`),
      { minLength: 1, maxLength: 2 },
    ),
  }),
  fc.record({
    kind: fc.constant("funding" as const),
    funding: fc.constantFrom(...FUNDING_SOURCES),
  }),
);

const registrationsArbitrary = fc
  .uniqueArray(
    fc.record(
      {
        campaignRef: fc.constantFrom(...REFS),
        funding: fc.constantFrom(...FUNDING_SOURCES),
        label: fc.constantFrom(...LABEL_KINDS),
        scope: fc.record({
          scenarios: fc.subarray([...SCENARIOS]),
          regions: fc.subarray(["CN-SH", "CN-BJ"] as const),
        }),
        perPaymentMaxMinor: fc.integer({ min: 1, max: 3_000 }),
      },
      { requiredKeys: ["campaignRef", "funding", "label", "scope"] },
    ),
    { maxLength: 3, selector: (registration) => registration.campaignRef },
  )
  .map((list) => new Map(list.map((registration) => [registration.campaignRef, registration])));

const contextArbitrary = fc
  .record({
    envelope: envelopeArbitrary,
    kills: fc.array(killScopeArbitrary, { maxLength: 2 }),
    externalCampaigns: registrationsArbitrary,
    killStateStale: fc.boolean(),
    whenUnhealthy: fc.constantFrom("refuse" as const, "pass" as const),
  })
  .map(({ kills, ...rest }) => contextWith({ ...rest, kills: killsOf(...kills) }));

function boundOf(payment: Record<string, unknown>, envelope: Envelope): number {
  const bounds = envelope.currencies[0]!;
  const amountMinor = payment.amountMinor as number;
  return Math.min(
    bounds.perPaymentMaxMinor,
    applyRateBpsFloor(amountMinor, bounds.perPaymentMaxRateBps),
    amountMinor - bounds.minPayableMinor,
  );
}

describe("properties", () => {
  test.prop([paymentArbitrary, proposalsArbitrary, contextArbitrary], { numRuns: 500 })(
    "the sum allowed never exceeds the per-payment bound, nor any answer its proposal",
    (payment, proposals, context) => {
      const check = checkProposals(payment, proposals, context);
      expect(check.answers).toHaveLength(proposals.length);
      let sum = 0;
      for (const [index, answer] of check.answers.entries()) {
        expect(Number.isSafeInteger(answer.amountMinor)).toBe(true);
        expect(answer.amountMinor).toBeGreaterThanOrEqual(0);
        expect(answer.amountMinor).toBeLessThanOrEqual(proposals[index]!.amountMinor);
        expect(answer.outcome === "refused").toBe(answer.amountMinor === 0);
        expect(answer.outcome === "clamped").toBe(
          answer.amountMinor > 0 && answer.amountMinor < proposals[index]!.amountMinor,
        );
        sum += answer.amountMinor;
      }
      expect(check.allowedTotalMinor).toBe(sum);
      if (sum > 0) {
        expect(payment.currency).toBe("CNY");
        expect(sum).toBeLessThanOrEqual(boundOf(payment, context.envelope!));
      }
    },
  );

  test.prop([paymentArbitrary, proposalsArbitrary, contextArbitrary], { numRuns: 300 })(
    "protected scenarios and individual payees never get anything, healthy or not",
    (payment, proposals, context) => {
      const unhealthy = { ...context, envelope: undefined, whenUnhealthy: "pass" as const };
      for (const each of [context, unhealthy]) {
        const check = checkProposals(payment, proposals, each);
        const protectedScenario =
          each.envelope?.protectedScenarios.includes(payment.scenario as never) ??
          (CASH_EQUIVALENT_SCENARIOS as readonly unknown[]).includes(payment.scenario);
        if (protectedScenario || payment.payeeKind === "individual") {
          expect(check.allowedTotalMinor).toBe(0);
        }
      }
    },
  );

  test.prop([paymentArbitrary, proposalsArbitrary, contextArbitrary, fc.constantFrom(...REFS)], {
    numRuns: 300,
  })("a killed external campaign never gets anything", (payment, proposals, context, killed) => {
    const kills = killsOf({ kind: "campaigns", campaignIds: [`ext:${killed}`] });
    for (const whenUnhealthy of ["refuse", "pass"] as const) {
      const check = checkProposals(payment, proposals, { ...context, kills, whenUnhealthy });
      for (const [index, answer] of check.answers.entries()) {
        if (proposals[index]!.campaignRef === killed) expect(answer.amountMinor).toBe(0);
      }
    }
  });

  test.prop([paymentArbitrary, proposalsArbitrary, contextArbitrary], { numRuns: 200 })(
    "deterministic: the same inputs give the same answer",
    (payment, proposals, context) => {
      const first = checkProposals(structuredClone(payment), structuredClone(proposals), context);
      expect(checkProposals(payment, proposals, context)).toEqual(first);
    },
  );
});

const ODD_VALUES = [
  null,
  undefined,
  0,
  -1,
  1.5,
  2 ** 60,
  "",
  "x".repeat(70),
  "a b",
  [],
  {},
  true,
  "bank",
];

const corruptedListArbitrary = fc.oneof(
  proposalsArbitrary.map((list): unknown => list),
  fc
    .tuple(
      proposalsArbitrary.filter((list) => list.length > 0),
      fc.nat(),
      fc.constantFrom(
        "proposalId",
        "campaignRef",
        "amountMinor",
        "funding",
        "label",
        "programId",
        "extra",
      ),
      fc.constantFrom(...ODD_VALUES),
    )
    .map(([list, at, key, value]): unknown =>
      list.map((item, index) => (index === at % list.length ? { ...item, [key]: value } : item)),
    ),
  proposalsArbitrary
    .filter((list) => list.length > 0)
    .map((list): unknown => [...list, { ...list[0]! }]),
  fc.constantFrom<unknown>(
    null,
    "list",
    3,
    {},
    Array.from({ length: 33 }, (_, index) => proposal(`p${index}`, 1)),
  ),
);

describe("the hand-written input check agrees with the schemas", () => {
  test.prop([corruptedListArbitrary], { numRuns: 1_000 })("proposal lists", (list) => {
    expect(checkProposalList(list) === undefined).toBe(proposalListSchema.safeParse(list).success);
  });

  test.prop(
    [
      paymentArbitrary,
      corruptedListArbitrary,
      fc.constantFrom<unknown>(undefined, "refuse", "pass", "maybe", 1),
      fc.boolean(),
    ],
    { numRuns: 500 },
  )("whole requests", (payment, proposals, whenUnhealthy, extra) => {
    const request: Record<string, unknown> = { payment, proposals };
    if (whenUnhealthy !== undefined) request.whenUnhealthy = whenUnhealthy;
    if (extra) request.extra = 1;
    const check = checkGuardRequest(request, contextWith());
    const invalid =
      check.reason === "request.invalid" ||
      check.reason === "proposals.invalid" ||
      check.reason === "payment.invalid";
    expect(!invalid).toBe(guardCheckRequestSchema.safeParse(request).success);
  });
});
