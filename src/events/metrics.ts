/** What became of one outbox row handed to the broker (`duplicate`: the stream had it already). */
export const publishResults = ["published", "duplicate", "failed"] as const;
export type PublishResult = (typeof publishResults)[number];

/**
 * What became of one consumed `auth.user.*` message: a default profile was `provisioned`; it was
 * `already_present` (repeated event, UpdateProfile came first, or the account was deleted); an
 * account was `deleted`, or was `already_deleted` (no profile left); `terminated`, as it can never
 * succeed (undecodable, bad user id); `retried`, as processing failed (database down) and it is
 * redelivered later; or `ignored`, another `auth.user.*` event acknowledged without use.
 */
export const consumeOutcomes = [
  "provisioned",
  "already_present",
  "deleted",
  "already_deleted",
  "terminated",
  "retried",
  "ignored",
] as const;
export type ConsumeOutcome = (typeof consumeOutcomes)[number];

/**
 * Where the event side counts what it does, as it happens (src/ops/metrics.ts
 * implements it with Prometheus counters and a gauge).
 */
export interface EventMetrics {
  /** The relay handed a row to the broker with this result. */
  published(result: PublishResult): void;
  /** The registration consumer settled a message with this outcome. */
  consumed(outcome: ConsumeOutcome): void;
  /** The bus is up (connected, streams set up, relay and consumer running) or not. */
  busUp(up: boolean): void;
  /** A profile event arrived this many seconds after it occurred. */
  feedLag(seconds: number): void;
}
