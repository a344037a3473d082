import { setTimeout as sleep } from "node:timers/promises";

/** How a wait grows with each failed attempt. */
export interface BackoffPolicy {
  /** The wait after the first failure. */
  readonly initialMs: number;
  /** No wait is longer than this. */
  readonly maxMs: number;
  /** Each wait is moved by up to this fraction either way (0.2: ±20 %), so peers do not retry in step. */
  readonly jitter?: number;
}

/**
 * The wait before the next attempt after `failures` failed ones (0: the first retry): `initialMs`
 * doubled per failure up to `maxMs`, jittered. The one backoff formula of the event side: the
 * relay's publish retries, the consumer's redelivery delays and the broker retry loops use it.
 */
export function backoffMs(policy: BackoffPolicy, failures: number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** failures);
  const jitter = policy.jitter ?? 0;
  return jitter === 0 ? base : Math.round(base * (1 - jitter + Math.random() * 2 * jitter));
}

/**
 * Runs `work` until it resolves, waiting as `backoff` says after each failure (reported to
 * `onFailure` first). Resolves with its value, or with undefined once `signal` aborts: a wait in
 * progress ends at once, and no attempt starts after.
 */
export async function retryUntilStopped<T>(
  work: () => Promise<T>,
  options: {
    readonly signal: AbortSignal;
    readonly backoff: BackoffPolicy;
    readonly onFailure: (error: unknown) => void;
  },
): Promise<T | undefined> {
  for (let failures = 0; !options.signal.aborted; failures += 1) {
    try {
      return await work();
    } catch (error) {
      if (options.signal.aborted) return undefined;
      options.onFailure(error);
    }
    await sleep(backoffMs(options.backoff, failures), undefined, {
      signal: options.signal,
    }).catch(() => {});
  }
  return undefined;
}
