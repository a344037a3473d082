import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.js";
import type { ProfileRow } from "../../db/tables/profiles.js";
import type { UserId } from "../user-id.js";
import { findProfiles } from "./reads.js";

/** Most ids one coalesced statement looks up (a lookup with more gets a statement of its own). */
const MAX_COALESCED_IDS = 500;

interface PendingLookup<Row> {
  readonly keys: readonly string[];
  readonly signal: AbortSignal | undefined;
  readonly resolve: (rows: ReadonlyMap<string, Row>) => void;
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
  return coalesced(
    (ids, signal) => findProfiles(db, ids as UserId[], signal),
    (row) => row.user_id,
  );
}

/**
 * Lookups by string key answered together, as coalescedLookups explains: `read` gets the
 * distinct keys of the lookups of one turn (at most MAX_COALESCED_IDS per statement) and returns
 * rows, each of which `keyOf` names; each lookup gets every row by key, its own among them.
 */
export function coalesced<Row>(
  read: (keys: string[], signal: AbortSignal) => Promise<Row[]>,
  keyOf: (row: Row) => string,
): (keys: readonly string[], signal: AbortSignal | undefined) => Promise<ReadonlyMap<string, Row>> {
  let pending: PendingLookup<Row>[] = [];
  const send = async (lookups: readonly PendingLookup<Row>[]) => {
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
      const keys = new Set(lookups.flatMap((lookup) => lookup.keys));
      const rows = await read([...keys], everyCallEnded.signal);
      const byKey = new Map(rows.map((row) => [keyOf(row), row]));
      for (const lookup of lookups) lookup.resolve(byKey);
    } catch (error) {
      // Not sent because every call ended: each learns it as its own call's end.
      const unsent = everyCallEnded.signal.aborted;
      for (const { signal, reject } of lookups) reject(unsent ? signal?.reason : error);
    } finally {
      for (const { signal } of lookups) signal?.removeEventListener("abort", onEnded);
    }
  };
  const flush = () => {
    let statement: PendingLookup<Row>[] = [];
    let count = 0;
    for (const lookup of pending) {
      if (count > 0 && count + lookup.keys.length > MAX_COALESCED_IDS) {
        void send(statement);
        statement = [];
        count = 0;
      }
      statement.push(lookup);
      count += lookup.keys.length;
    }
    pending = [];
    if (statement.length > 0) void send(statement);
  };
  return (keys, signal) => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ keys, signal, resolve, reject });
    });
  };
}
