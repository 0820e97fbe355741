/**
 * When a failed webhook delivery is tried again (docs/reference/webhooks.md, "Retries"):
 * exponential backoff with jitter, a bounded number of attempts, then the delivery is dead.
 * The randomness is an argument (a number in [0, 1)), so a schedule is reproducible.
 *
 * The default is 8 attempts: the first at once, then after about 30 s, 1, 2, 4, 8, 16 and
 * 32 min (each ±20 %), so the last comes about 63 minutes after the first: long enough to ride
 * out a receiver's deploy or a short outage, short enough that a page still matters when it
 * lands.
 */

export interface WebhookRetryPolicy {
  /** Attempts in all, the first one included; after the last failure the delivery is dead. */
  readonly attemptsMax: number;
  /** The wait after the first failure, before jitter. */
  readonly firstDelayMs: number;
  /** No wait is longer than this, before jitter. */
  readonly delayMsMax: number;
  /** Each wait is scaled by a factor drawn uniformly from [1 - jitter, 1 + jitter]. */
  readonly jitterPercent: number;
}

export const DEFAULT_WEBHOOK_RETRY_POLICY: WebhookRetryPolicy = {
  attemptsMax: 8,
  firstDelayMs: 30_000,
  delayMsMax: 32 * 60_000,
  jitterPercent: 20,
};

export const WEBHOOK_RETRY_LIMITS = {
  attemptsMax: 20,
  delayMsMax: 24 * 60 * 60_000,
  jitterPercent: 50,
} as const;

/** What is wrong with a policy, or undefined when it can be used. */
export function webhookRetryPolicyProblem(policy: WebhookRetryPolicy): string | undefined {
  const whole = (value: number, min: number, max: number) =>
    Number.isSafeInteger(value) && value >= min && value <= max;
  if (!whole(policy.attemptsMax, 1, WEBHOOK_RETRY_LIMITS.attemptsMax)) {
    return `attemptsMax ${policy.attemptsMax} is not within 1..${WEBHOOK_RETRY_LIMITS.attemptsMax}`;
  }
  if (!whole(policy.delayMsMax, 1, WEBHOOK_RETRY_LIMITS.delayMsMax)) {
    return `delayMsMax ${policy.delayMsMax} is not within 1..${WEBHOOK_RETRY_LIMITS.delayMsMax}`;
  }
  if (!whole(policy.firstDelayMs, 1, policy.delayMsMax)) {
    return `firstDelayMs ${policy.firstDelayMs} is not within 1..delayMsMax`;
  }
  if (!whole(policy.jitterPercent, 0, WEBHOOK_RETRY_LIMITS.jitterPercent)) {
    return `jitterPercent ${policy.jitterPercent} is not within 0..${WEBHOOK_RETRY_LIMITS.jitterPercent}`;
  }
  return undefined;
}

/**
 * The wait before the next attempt after attempt number `failedAttempt` (1 for the first)
 * failed, or undefined when it was the last: the delivery is dead. `random01` is in [0, 1).
 */
export function webhookRetryDelayMs(
  policy: WebhookRetryPolicy,
  failedAttempt: number,
  random01: number,
): number | undefined {
  if (failedAttempt >= policy.attemptsMax) return undefined;
  // Doubling stops at the cap; the exponent is bounded so the power never overflows.
  const exponent = Math.min(Math.max(failedAttempt - 1, 0), 40);
  const baseMs = Math.min(policy.firstDelayMs * 2 ** exponent, policy.delayMsMax);
  const draw = Math.min(Math.max(random01, 0), 1);
  const factor = 1 + (policy.jitterPercent / 100) * (2 * draw - 1);
  return Math.max(1, Math.round(baseMs * factor));
}

/** The waits between attempts without jitter: what the reference's table shows. */
export function webhookRetryDelaysWithoutJitterMs(policy: WebhookRetryPolicy): number[] {
  const delays: number[] = [];
  for (let attempt = 1; attempt < policy.attemptsMax; attempt += 1) {
    delays.push(webhookRetryDelayMs({ ...policy, jitterPercent: 0 }, attempt, 0.5)!);
  }
  return delays;
}
