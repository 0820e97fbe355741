/**
 * The life of a breaker as a transition table (STYLE rule 7): armed → tripped → acknowledged →
 * armed again by a reset. A trip is the monitors' doing; acknowledging and resetting are an
 * on-call engineer's. Any other move is refused with `illegal_breaker_transition`.
 */

export const BREAKER_STATES = ["armed", "tripped", "acknowledged"] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

export const BREAKER_ACTIONS = ["trip", "acknowledge", "reset"] as const;
export type BreakerAction = (typeof BREAKER_ACTIONS)[number];

export const BREAKER_TRANSITIONS: Readonly<
  Record<BreakerAction, { readonly from: readonly BreakerState[]; readonly to: BreakerState }>
> = {
  // A tripped breaker stays tripped: a second anomaly adds to the incident, it is not a new trip.
  trip: { from: ["armed"], to: "tripped" },
  acknowledge: { from: ["tripped"], to: "acknowledged" },
  // Reset re-arms only after someone has looked: never straight from tripped.
  reset: { from: ["acknowledged"], to: "armed" },
};

export type BreakerMove =
  | { readonly ok: true; readonly state: BreakerState }
  | { readonly ok: false; readonly code: "illegal_breaker_transition"; readonly message: string };

export function nextBreakerState(state: BreakerState, action: BreakerAction): BreakerMove {
  const transition = BREAKER_TRANSITIONS[action];
  if (!transition.from.includes(state)) {
    return {
      ok: false,
      code: "illegal_breaker_transition",
      message: `a ${state} breaker cannot ${action} (allowed from ${transition.from.join(", ")})`,
    };
  }
  return { ok: true, state: transition.to };
}
