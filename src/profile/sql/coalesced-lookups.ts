import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.js";
import type { ProfileRow } from "../../db/tables/profiles.js";
import type { UserId } from "../user-id.js";
import { findProfiles } from "./reads.js";

/** Most ids one coalesced statement looks up (a lookup with more gets a statement of its own). */
const MAX_COALESCED_IDS = 500;

interface PendingLookup {
  readonly userIds: readonly UserId[];
  readonly signal: AbortSignal | undefined;
  readonly resolve: (rows: ReadonlyMap<string, ProfileRow>) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * `findProfiles`, with the lookups asked during one turn of the event loop (GetProfile's one id,
 * BatchGetProfiles' list) answered together by one statement, sent at `setImmediate`, for at
 * most MAX_COALESCED_IDS ids. Each lookup gets the rows by id, its own among them.
 *
 * Why: under concurrent calls a statement per call was the largest cost left in the service's
 * profile (sending it to PostgreSQL, pooling, parsing its answer; bench/README.md, "Lean path"),
 * and PostgreSQL's own work per statement comes on top. A lone lookup still gets its own
 * statement, one turn later. The statement fails for all of its lookups together. Like a lookup
 * of its own, the statement is not sent when every lookup in it has had its call end (`signal`
 * aborted) before it got a connection; a lookup whose call ended still gets the answer, which
 * nobody reads.
 */
export function coalescedLookups(
  db: Kysely<Database>,
): (
  userIds: readonly UserId[],
  signal: AbortSignal | undefined,
) => Promise<ReadonlyMap<string, ProfileRow>> {
  let pending: PendingLookup[] = [];
  const send = async (lookups: readonly PendingLookup[]) => {
    const everyCallEnded = new AbortController();
    let open = lookups.length;
    const onEnded = () => {
      open -= 1;
      if (open === 0) everyCallEnded.abort();
    };
    for (const { signal } of lookups) {
      if (signal?.aborted) onEnded();
      else signal?.addEventListener("abort", onEnded, { once: true });
    }
    try {
      const ids = new Set(lookups.flatMap((lookup) => lookup.userIds));
      const rows = await findProfiles(db, [...ids], everyCallEnded.signal);
      const byId = new Map(rows.map((row) => [row.user_id, row]));
      for (const lookup of lookups) lookup.resolve(byId);
    } catch (error) {
      // Not sent because every call ended: each learns it as its own call's end.
      const unsent = everyCallEnded.signal.aborted;
      for (const { signal, reject } of lookups) reject(unsent ? signal?.reason : error);
    } finally {
      for (const { signal } of lookups) signal?.removeEventListener("abort", onEnded);
    }
  };
  const flush = () => {
    let statement: PendingLookup[] = [];
    let ids = 0;
    for (const lookup of pending) {
      if (ids > 0 && ids + lookup.userIds.length > MAX_COALESCED_IDS) {
        void send(statement);
        statement = [];
        ids = 0;
      }
      statement.push(lookup);
      ids += lookup.userIds.length;
    }
    pending = [];
    if (statement.length > 0) void send(statement);
  };
  return (userIds, signal) => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ userIds, signal, resolve, reject });
    });
  };
}
