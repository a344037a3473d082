import type { OutboxRow } from "../../../src/db/tables/outbox.js";
import type { OutboxStore } from "../../../src/events/outbox/outbox-relay.js";

/** An OutboxStore in an array, on a clock the test moves, for tests of the relay without a database. */
export interface InMemoryOutboxStore extends OutboxStore {
  /**
   * Adds an event of `userId` (as the trigger would, with the `traceparent` of the write that
   * caused it, if any) and notifies the relay.
   */
  add(userId: string, traceparent?: string): OutboxRow;
  /** Every row, in id order. */
  readonly rows: readonly OutboxRow[];
  /** Every wait a failed publish was given, in order: `retryAfterMs` by event id. */
  readonly retries: Array<{ readonly eventId: string; readonly retryAfterMs: number }>;
  /** Moves the clock on, then notifies the relay, as a poll would find the rows due. */
  advance(ms: number): void;
}

/**
 * Keeps the outbox as the repository's statements do: `claim` leases due rows in id order and
 * never one behind an earlier unpublished row of its user that it does not return too.
 */
export function createInMemoryOutboxStore(): InMemoryOutboxStore {
  const rows: OutboxRow[] = [];
  const retries: Array<{ eventId: string; retryAfterMs: number }> = [];
  const listeners = new Set<() => void>();
  let now = Date.parse("2026-01-01T00:00:00Z");
  const notify = () => {
    for (const listener of listeners) listener();
  };
  const byId = (ids: readonly string[]) => rows.filter((row) => ids.includes(row.id));
  const versions = new Map<string, number>();

  return {
    rows,
    retries,
    add(userId, traceparent) {
      const version = (versions.get(userId) ?? 0) + 1;
      versions.set(userId, version);
      const at = new Date(now);
      const row: OutboxRow = {
        id: String(rows.length + 1),
        event_id: crypto.randomUUID(),
        user_id: userId,
        event_type: version === 1 ? "created" : "updated",
        version,
        changed_fields: ["bio"],
        profile: {
          user_id: userId,
          display_name: "",
          avatar_url: "",
          bio: `version ${version}`,
          version,
          created_at: at.toISOString(),
          updated_at: at.toISOString(),
        },
        payload: null,
        occurred_at: at,
        traceparent: traceparent ?? null,
        attempts: 0,
        next_attempt_at: at,
        lease_until: null,
        last_error: null,
        published_at: null,
      };
      rows.push(row);
      notify();
      return row;
    },
    advance(ms) {
      now += ms;
      notify();
    },
    async claim(limit, leaseSeconds) {
      const candidates = rows
        .filter(
          (row) =>
            row.published_at === null &&
            row.next_attempt_at.getTime() <= now &&
            (row.lease_until === null || row.lease_until.getTime() < now),
        )
        .slice(0, limit);
      const claimable = candidates.filter(
        (row) =>
          !rows.some(
            (earlier) =>
              earlier.user_id === row.user_id &&
              earlier.published_at === null &&
              Number(earlier.id) < Number(row.id) &&
              !candidates.includes(earlier),
          ),
      );
      for (const row of claimable) row.lease_until = new Date(now + leaseSeconds * 1000);
      return claimable.map((row) => ({ ...row }));
    },
    async markPublished(ids) {
      for (const row of byId(ids)) {
        row.published_at = new Date(now);
        row.lease_until = null;
        row.last_error = null;
      }
    },
    async releaseLeases(ids) {
      for (const row of byId(ids)) row.lease_until = null;
    },
    async markFailed(id, error, retryAfterMs) {
      for (const row of byId([id])) {
        row.attempts += 1;
        row.next_attempt_at = new Date(now + retryAfterMs);
        row.lease_until = null;
        row.last_error = error;
        retries.push({ eventId: row.event_id, retryAfterMs });
      }
    },
    async retryAllNow() {
      for (const row of rows) {
        if (row.published_at === null && row.next_attempt_at.getTime() > now) {
          row.next_attempt_at = new Date(now);
        }
      }
    },
    async purgePublished() {
      return 0;
    },
    async onNewRows(onNotify) {
      listeners.add(onNotify);
      return async () => {
        listeners.delete(onNotify);
      };
    },
  };
}
