import type { Logger } from "pino";
import type { OutboxRow } from "../../db/tables/outbox.js";
import type { EventMetrics } from "../metrics.js";
import { type BackoffPolicy, backoffMs } from "../retry.js";
import { type EventEncoding, eventFromOutboxRow, type OutgoingEvent } from "./outbox-events.js";

/** Sends one event to the broker and waits for its acknowledgement. */
export interface EventPublisher {
  /** Resolves once the broker stored the event; `duplicate` when it had it already. */
  publish(event: OutgoingEvent): Promise<{ duplicate: boolean }>;
  /** Whether publishing can succeed now; the relay does not try while it cannot. */
  isConnected(): boolean;
}

/** Where the relay finds the events to publish and records what became of them. */
export interface OutboxStore {
  /**
   * Leases up to `limit` due, unpublished rows for `leaseSeconds`, in id order, never one behind
   * an earlier unpublished row of the same user that it does not return too.
   */
  claim(limit: number, leaseSeconds: number): Promise<OutboxRow[]>;
  markPublished(ids: readonly string[]): Promise<void>;
  /** Gives leased rows back unattempted (an earlier event of their user failed). */
  releaseLeases(ids: readonly string[]): Promise<void>;
  /** Records a failed publish; the row is due again after `retryAfterMs`. */
  markFailed(id: string, error: string, retryAfterMs: number): Promise<void>;
  /** Makes every waiting row due now. */
  retryAllNow(): Promise<void>;
  /** Deletes rows published more than `retentionSeconds` ago; returns how many. */
  purgePublished(retentionSeconds: number): Promise<number>;
  /** Calls `onNotify` when rows are added, until the returned function is called. */
  onNewRows(onNotify: () => void): Promise<() => Promise<void>>;
}

export interface OutboxRelayOptions {
  readonly store: OutboxStore;
  readonly publisher: EventPublisher;
  readonly encoding: EventEncoding;
  /** Fallback when a notification is missed (another instance, a lost LISTEN connection). */
  readonly pollIntervalMs: number;
  /** Published rows older than this are deleted. */
  readonly retentionSeconds: number;
  readonly logger: Logger;
  readonly metrics: Pick<EventMetrics, "published">;
}

export interface OutboxRelay {
  /** Ends the backoff of every waiting row and publishes them (the broker is back). */
  retryNow(): Promise<void>;
  /** Stops waking up and waits for the round in progress. */
  stop(): Promise<void>;
}

const BATCH_SIZE = 200;
/** A claimed row is left alone by other relays this long; a crashed relay's rows come back after. */
const LEASE_SECONDS = 30;
const PURGE_INTERVAL_MS = 60_000;
/** 0.5 s, 1 s, 2 s, … up to 30 s, with ±20 % jitter so relays do not retry in step. */
const PUBLISH_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };

/**
 * Publishes outbox rows to the broker: wakes on the `profile_outbox` notification, and polls.
 * Each round claims due rows, publishes each user's rows in order (users in parallel), waits for
 * every acknowledgement, then marks them published. A failed publish backs off exponentially and
 * holds back that user's later rows. A crash between publishing and marking publishes the row
 * again later with the same `Nats-Msg-Id`, which the broker drops as a duplicate.
 */
export async function startOutboxRelay(options: OutboxRelayOptions): Promise<OutboxRelay> {
  const { store, publisher, logger, metrics } = options;
  let stopped = false;
  let round: Promise<void> | undefined;
  let again = false;

  const publishUserRows = async (rows: OutboxRow[], published: string[], released: string[]) => {
    for (const [index, row] of rows.entries()) {
      try {
        const { duplicate } = await publisher.publish(eventFromOutboxRow(row, options.encoding));
        published.push(row.id);
        metrics.published(duplicate ? "duplicate" : "published");
      } catch (error) {
        metrics.published("failed");
        const retryAfterMs = backoffMs(PUBLISH_BACKOFF, row.attempts);
        logger.warn(
          { err: error, eventId: row.event_id, attempts: row.attempts + 1, retryAfterMs },
          "event publish failed; will retry",
        );
        await store.markFailed(row.id, String(error), retryAfterMs);
        released.push(...rows.slice(index + 1).map((later) => later.id));
        return;
      }
    }
  };

  const publishRound = async () => {
    while (!stopped && publisher.isConnected()) {
      const rows = await store.claim(BATCH_SIZE, LEASE_SECONDS);
      if (rows.length === 0) return;
      const published: string[] = [];
      const released: string[] = [];
      await Promise.all(
        [...groupByUser(rows).values()].map((userRows) =>
          publishUserRows(userRows, published, released),
        ),
      );
      await store.markPublished(published);
      await store.releaseLeases(released);
      if (published.length === 0) return;
    }
  };

  const wake = () => {
    if (stopped) return;
    if (round !== undefined) {
      again = true;
      return;
    }
    round = publishRound()
      .catch((error: unknown) => logger.warn({ err: error }, "outbox relay round failed"))
      .finally(() => {
        round = undefined;
        if (again) {
          again = false;
          wake();
        }
      });
  };

  const purge = async () => {
    try {
      const purged = await store.purgePublished(options.retentionSeconds);
      if (purged > 0) logger.debug({ purged }, "purged published outbox rows");
    } catch (error) {
      logger.warn({ err: error }, "outbox purge failed");
    }
  };

  const unlisten = await store.onNewRows(wake);
  const poll = setInterval(wake, options.pollIntervalMs);
  const purgeTimer = setInterval(() => void purge(), PURGE_INTERVAL_MS);
  wake();

  return {
    async retryNow() {
      await store.retryAllNow();
      wake();
    },
    async stop() {
      stopped = true;
      clearInterval(poll);
      clearInterval(purgeTimer);
      await unlisten();
      await round;
    },
  };
}

function groupByUser(rows: readonly OutboxRow[]): Map<string, OutboxRow[]> {
  const byUser = new Map<string, OutboxRow[]>();
  for (const row of rows) {
    const userRows = byUser.get(row.user_id);
    if (userRows === undefined) byUser.set(row.user_id, [row]);
    else userRows.push(row);
  }
  return byUser;
}
