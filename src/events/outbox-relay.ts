import type { Logger } from "pino";
import type { DatabaseHandle } from "../db/open-database.js";
import type { OutboxRow } from "../db/schema.js";
import {
  claimOutboxRows,
  markFailed,
  markPublished,
  purgePublished,
  releaseLeases,
  retryAllNow,
} from "./outbox-repository.js";
import { type EventEncoding, eventFromOutboxRow, type OutgoingEvent } from "./profile-events.js";

/** Sends one event to the broker and waits for its acknowledgement. */
export interface EventPublisher {
  /** Resolves once the broker stored the event; `duplicate` when it had it already. */
  publish(event: OutgoingEvent): Promise<{ duplicate: boolean }>;
  /** Whether publishing can succeed now; the relay does not try while it cannot. */
  isConnected(): boolean;
}

export interface RelayStats {
  published: number;
  duplicates: number;
  failures: number;
}

export interface OutboxRelayOptions {
  readonly database: DatabaseHandle;
  readonly publisher: EventPublisher;
  readonly encoding: EventEncoding;
  /** Fallback when a notification is missed (another instance, a lost LISTEN connection). */
  readonly pollIntervalMs: number;
  /** Published rows older than this are deleted. */
  readonly retentionSeconds: number;
  readonly logger: Logger;
  readonly stats: RelayStats;
}

export interface OutboxRelay {
  /** Starts a publishing round now, or right after the current one. */
  wake(): void;
  /** Ends the backoff of every waiting row and publishes them (the broker is back). */
  retryNow(): Promise<void>;
  /** Stops waking up and waits for the round in progress. */
  stop(): Promise<void>;
}

const BATCH_SIZE = 200;
/** A claimed row is left alone by other relays this long; a crashed relay's rows come back after. */
const LEASE_SECONDS = 30;
const PURGE_INTERVAL_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

/**
 * Publishes outbox rows to the broker: wakes on the `profile_outbox` notification, and polls.
 * Each round claims due rows, publishes each user's rows in order (users in parallel), waits for
 * every acknowledgement, then marks them published. A failed publish backs off exponentially and
 * holds back that user's later rows. A crash between publishing and marking publishes the row
 * again later with the same `Nats-Msg-Id`, which the broker drops as a duplicate.
 */
export async function startOutboxRelay(options: OutboxRelayOptions): Promise<OutboxRelay> {
  const { database, publisher, logger, stats } = options;
  const { db } = database;
  let stopped = false;
  let round: Promise<void> | undefined;
  let again = false;

  const publishUserRows = async (rows: OutboxRow[], published: string[], released: string[]) => {
    for (const [index, row] of rows.entries()) {
      try {
        const { duplicate } = await publisher.publish(eventFromOutboxRow(row, options.encoding));
        published.push(row.id);
        stats.published += 1;
        if (duplicate) stats.duplicates += 1;
      } catch (error) {
        stats.failures += 1;
        const retryAfterMs = backoffMs(row.attempts);
        logger.warn(
          { err: error, eventId: row.event_id, attempts: row.attempts + 1, retryAfterMs },
          "event publish failed; will retry",
        );
        await markFailed(db, row.id, String(error), retryAfterMs);
        released.push(...rows.slice(index + 1).map((later) => later.id));
        return;
      }
    }
  };

  const publishRound = async () => {
    while (!stopped && publisher.isConnected()) {
      const rows = await claimOutboxRows(db, BATCH_SIZE, LEASE_SECONDS);
      if (rows.length === 0) return;
      const published: string[] = [];
      const released: string[] = [];
      await Promise.all(
        [...groupByUser(rows).values()].map((userRows) =>
          publishUserRows(userRows, published, released),
        ),
      );
      await markPublished(db, published);
      await releaseLeases(db, released);
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
      const purged = await purgePublished(db, options.retentionSeconds);
      if (purged > 0) logger.debug({ purged }, "purged published outbox rows");
    } catch (error) {
      logger.warn({ err: error }, "outbox purge failed");
    }
  };

  const unlisten = await database.listen("profile_outbox", wake);
  const poll = setInterval(wake, options.pollIntervalMs);
  const purgeTimer = setInterval(() => void purge(), PURGE_INTERVAL_MS);
  wake();

  return {
    wake,
    async retryNow() {
      await retryAllNow(db);
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

/** 0.5 s, 1 s, 2 s, … up to 30 s, with ±20 % jitter so relays do not retry in step. */
function backoffMs(previousAttempts: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** previousAttempts);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
