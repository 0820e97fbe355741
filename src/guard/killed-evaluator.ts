/**
 * An evaluator whose every decision passes through the kill watcher: the staleness gate, then the
 * kills (src/core/guard/kill.ts). `LedgerService.apply` quotes before it reserves, so a service
 * built over this evaluator withdraws a subsidy an earlier quote showed once a kill names it.
 */
import type { Decision } from "../core/evaluator/decision.ts";
import { createFastEvaluator, type FastEvaluator } from "../core/evaluator/fast-evaluator.ts";
import type { Snapshot } from "../core/evaluator/snapshot.ts";

/** What the wrapper needs of a watcher (`KillWatcher`). */
export interface KillGuard {
  guard(decision: Decision): Decision;
}

/** `evaluator` with `guard` applied to every decision, `quoteChecked` included. */
export function killedEvaluator(evaluator: FastEvaluator, guard: KillGuard): FastEvaluator {
  const { quoteChecked } = evaluator;
  return {
    snapshot: evaluator.snapshot,
    compiled: evaluator.compiled,
    quote: (input, options) => guard.guard(evaluator.quote(input, options)),
    ...(quoteChecked === undefined
      ? {}
      : {
          quoteChecked: (payment, options) =>
            guard.guard(quoteChecked.call(evaluator, payment, options)),
        }),
  };
}

/**
 * What a composition passes where a snapshot becomes an evaluator (the fast evaluator, guarded):
 * a new snapshot keeps obeying the same watcher.
 */
export function killedEvaluatorFactory(guard: KillGuard): (snapshot: Snapshot) => FastEvaluator {
  return (snapshot) => killedEvaluator(createFastEvaluator(snapshot), guard);
}
