import type { z } from "zod";
import type { FindingCode } from "../findings.ts";

/** A problem an offer kind finds in its own parameters, beyond what its schema checks. */
export interface OfferProblem {
  readonly path: readonly (string | number)[];
  readonly code: FindingCode;
  readonly message: string;
}

/** What lint needs to know of an offer's parameters, declared by its kind (STYLE rule 6). */
export interface OfferLintFacts {
  /**
   * Parameters that are amounts off (not thresholds), with their paths inside the offer and the
   * smallest payment that receives them.
   */
  readonly amountsOff: readonly {
    path: readonly (string | number)[];
    valueMinor: number;
    fromPaymentMinor: number;
  }[];
  /** The share of the payment the offer gives, when it is a percentage. */
  readonly rateBps?: number;
  /** The per-payment cap of a percentage offer. */
  readonly capMinor?: number;
}

/**
 * One offer kind, declared in one place (STYLE rule 6): its parameter schema, the parameters a
 * template may band, its own consistency checks, and how it computes a subsidy. Shared code
 * looks kinds up in `OFFER_KINDS` and never switches on the kind.
 */
export interface OfferKind<Schema extends z.ZodObject, Params = z.output<Schema>> {
  readonly kind: string;
  readonly description: string;
  /** The parameters, without `kind`. Unknown fields are refused. */
  readonly params: Schema;
  /** Parameters a template may constrain with a band `{min, max}`; each is an integer. */
  readonly bandableParams: readonly (keyof Params & string)[];
  readonly check: (params: Params) => OfferProblem[];
  /** Whether `subsidyMinor` reads its `unitRandom` draw; evaluators skip the hash otherwise. */
  readonly drawsRandom: boolean;
  /** The most this offer can give on a payment of `amountMinor`: budgets reserve this much. */
  readonly maxSubsidyMinor: (params: Params, amountMinor: number) => number;
  /**
   * The subsidy on a payment of `amountMinor`. `unitRandom` in [0, 1) is drawn by the caller
   * from a seeded source, so the result is deterministic; kinds that are not random ignore it.
   */
  readonly subsidyMinor: (params: Params, amountMinor: number, unitRandom: number) => number;
  /** The offer's amounts and rate as lint rules judge them (units, magnitudes, display). */
  readonly lintFacts: (params: Params) => OfferLintFacts;
}
