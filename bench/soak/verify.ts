// The soak's end checks: every acknowledged update is stored with the value sent, and every
// committed version reached the PROFILE stream in order per user, with no gap.
import { profileOf, type ReceivedEvent } from "../../tests/support/nats.js";
import type { SentUpdate } from "./load.js";

/** A profile as the database holds it at the end. */
export interface StoredProfile {
  readonly userId: string;
  readonly bio: string;
  readonly version: number;
}

export interface Verdict {
  readonly summary: string;
  readonly breaches: string[];
}

/** Shows at most a few examples of a long list. */
function examples(items: readonly string[], max = 5): string {
  return items.length <= max
    ? items.join("; ")
    : `${items.slice(0, max).join("; ")}; … ${items.length - max} more`;
}

/**
 * Each user has one writer, so its updates are in send order: the stored bio must be the last
 * acknowledged one, or that of a later update whose outcome the writer could not know (an error
 * after the request went out may still have committed), and no older than its version.
 */
export function verifyUpdates(
  updates: readonly SentUpdate[],
  stored: ReadonlyMap<string, StoredProfile>,
): Verdict {
  const byUser = new Map<string, SentUpdate[]>();
  for (const update of updates) {
    const list = byUser.get(update.userId) ?? [];
    list.push(update);
    byUser.set(update.userId, list);
  }
  const wrong: string[] = [];
  let acknowledged = 0;
  for (const [userId, list] of byUser) {
    const lastAck = list.findLastIndex((update) => update.code === "OK");
    acknowledged += list.filter((update) => update.code === "OK").length;
    if (lastAck === -1) continue;
    const ack = list[lastAck];
    const row = stored.get(userId);
    if (ack === undefined) continue;
    const possible = new Set([
      ack.bio,
      ...list.slice(lastAck + 1).flatMap((update) => (update.code === "OK" ? [] : [update.bio])),
    ]);
    if (row === undefined) {
      wrong.push(`${userId}: acknowledged "${ack.bio}" (v${ack.version}), no row stored`);
    } else if (!possible.has(row.bio) || row.version < (ack.version ?? 0)) {
      wrong.push(
        `${userId}: acknowledged "${ack.bio}" (v${ack.version}), stored "${row.bio}" (v${row.version})`,
      );
    }
  }
  return {
    summary: `${updates.length} updates sent, ${acknowledged} acknowledged, over ${byUser.size} users; ${wrong.length} users whose stored value is not the last acknowledged one`,
    breaches:
      wrong.length === 0
        ? []
        : [`${wrong.length} acknowledged updates not stored as sent: ${examples(wrong)}`],
  };
}

/**
 * Per user, in stream order: versions rise one by one from the first event the user should have
 * (2 for a seeded profile, which was inserted without an event; 1 otherwise) to the committed
 * version. A version seen again is a duplicate and allowed. Each acknowledged update's event
 * carries the value sent.
 */
export function verifyEvents(
  events: readonly ReceivedEvent[],
  stored: ReadonlyMap<string, StoredProfile>,
  isSeeded: (userId: string) => boolean,
  updates: readonly SentUpdate[],
): Verdict {
  const seen = new Map<string, Set<number>>();
  const bioAt = new Map<string, string>();
  const outOfOrder: string[] = [];
  const uncommitted: string[] = [];
  let duplicates = 0;
  for (const received of events) {
    const profile = profileOf(received);
    const userId = profile?.userId ?? received.subject.split(".").at(-1) ?? "";
    const version = Number(received.event.version);
    const versions = seen.get(userId) ?? new Set<number>();
    seen.set(userId, versions);
    if (versions.has(version)) {
      duplicates += 1;
      continue;
    }
    const highest = Math.max(0, ...versions);
    if (version < highest) outOfOrder.push(`${userId}: v${version} after v${highest}`);
    versions.add(version);
    bioAt.set(`${userId} ${version}`, profile?.bio ?? "");
    if (version > (stored.get(userId)?.version ?? 0)) {
      uncommitted.push(`${userId}: v${version} is not committed`);
    }
  }
  const missing: string[] = [];
  let expected = 0;
  for (const row of stored.values()) {
    const first = isSeeded(row.userId) ? 2 : 1;
    const versions = seen.get(row.userId) ?? new Set<number>();
    const absent: number[] = [];
    for (let version = first; version <= row.version; version++) {
      expected += 1;
      if (!versions.has(version)) absent.push(version);
    }
    if (absent.length > 0) {
      const shown = absent.length > 3 ? `${absent.slice(0, 3).join(", ")}, …` : absent.join(", ");
      missing.push(`${row.userId}: v${shown} of v${first}..v${row.version}`);
    }
  }
  const mismatched: string[] = [];
  for (const update of updates) {
    if (update.code !== "OK" || update.version === undefined) continue;
    const bio = bioAt.get(`${update.userId} ${update.version}`);
    if (bio !== undefined && bio !== update.bio) {
      mismatched.push(`${update.userId} v${update.version}: sent "${update.bio}", event "${bio}"`);
    }
  }
  const breaches: string[] = [];
  if (missing.length > 0) {
    breaches.push(
      `${missing.length} users with committed versions missing from the stream: ${examples(missing)}`,
    );
  }
  if (outOfOrder.length > 0) {
    breaches.push(`${outOfOrder.length} events out of order: ${examples(outOfOrder)}`);
  }
  if (uncommitted.length > 0) {
    breaches.push(
      `${uncommitted.length} events of versions never committed: ${examples(uncommitted)}`,
    );
  }
  if (mismatched.length > 0) {
    breaches.push(
      `${mismatched.length} acknowledged updates whose event carries another value: ${examples(mismatched)}`,
    );
  }
  return {
    summary: `${events.length} events in the stream (${duplicates} duplicates), ${expected} committed versions expected over ${stored.size} changed profiles; ${missing.length} users with gaps, ${outOfOrder.length} out of order`,
    breaches,
  };
}
