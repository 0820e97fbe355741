/**
 * The life of a reservation as a transition table (STYLE rule 7): for each state and request,
 * the next state and the answer. An illegal move is an answer code, never an exception.
 */
import type { LedgerCode } from "./ledger-codes.ts";

export const RESERVATION_STATES = ["reserved", "committed", "released", "expired"] as const;
export type ReservationState = (typeof RESERVATION_STATES)[number];

export const RESERVATION_REQUESTS = ["commit", "release", "expire", "refund"] as const;
export type ReservationRequestKind = (typeof RESERVATION_REQUESTS)[number];

export interface Transition {
  /** The state afterwards; the same state when nothing changes. */
  readonly next: ReservationState;
  readonly answer: LedgerCode;
  /** Whether the request changes money or counters (and so is written). */
  readonly effective: boolean;
}

export const RESERVATION_TRANSITIONS: Readonly<
  Record<ReservationState, Readonly<Record<ReservationRequestKind, Transition>>>
> = {
  reserved: {
    commit: { next: "committed", answer: "committed", effective: true },
    release: { next: "released", answer: "released", effective: true },
    expire: { next: "expired", answer: "expired", effective: true },
    refund: { next: "reserved", answer: "refund_not_committed", effective: false },
  },
  committed: {
    // Retried commits get the stored answer; the amount check happens before the table is read.
    commit: { next: "committed", answer: "already_committed", effective: false },
    release: { next: "committed", answer: "already_committed", effective: false },
    expire: { next: "committed", answer: "already_committed", effective: false },
    refund: { next: "committed", answer: "refunded", effective: true },
  },
  released: {
    commit: { next: "released", answer: "reservation_released", effective: false },
    // A retried release is answered as the first one was.
    release: { next: "released", answer: "released", effective: false },
    expire: { next: "released", answer: "reservation_released", effective: false },
    refund: { next: "released", answer: "refund_not_committed", effective: false },
  },
  expired: {
    commit: { next: "expired", answer: "reservation_expired", effective: false },
    release: { next: "expired", answer: "reservation_expired", effective: false },
    expire: { next: "expired", answer: "expired", effective: false },
    refund: { next: "expired", answer: "refund_not_committed", effective: false },
  },
};

export function transition(state: ReservationState, request: ReservationRequestKind): Transition {
  return RESERVATION_TRANSITIONS[state][request];
}
