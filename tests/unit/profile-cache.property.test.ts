import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createProfileCache, type FillTicket } from "../../src/profile/live/cache.js";
import type { UserId } from "../../src/profile/user-id.js";
import { manualClock, profileAt } from "./support/profiles.js";

const users = [1, 2, 3, 4].map((n) => `00000000-0000-4000-8000-00000000000${n}` as UserId);
const user = fc.constantFrom(...users);
const pick = fc.nat(1000);

/** What may happen to the cache, in any order. */
const step = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), userId: user }),
  fc.record({ kind: fc.constant("deliver" as const), pick }),
  fc.record({ kind: fc.constant("redeliver" as const), pick }),
  fc.record({ kind: fc.constant("readStart" as const), userIds: fc.subarray(users) }),
  fc.record({ kind: fc.constant("readEnd" as const), pick }),
  fc.record({ kind: fc.constant("get" as const), userId: user }),
  fc.record({ kind: fc.constant("lost" as const) }),
  fc.record({ kind: fc.constant("resumed" as const) }),
  fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 4000 }) }),
);

interface Event {
  readonly userId: UserId;
  readonly version: number;
}

/**
 * The model: the database's versions, the events on their way (written while the feed was live,
 * not yet delivered; a user's arrive in version order, as the outbox relay publishes them), the
 * ones delivered on the current connection (which may come again, in any order) and reads in
 * flight with the versions they saw. The cache may serve an older
 * version than the database's only while every newer one is still on its way: it then arrives
 * and replaces it. Anything else is a stale read that nothing would ever correct.
 */
describe("the profile cache against a model", () => {
  it("never serves a version that a delivered or missed change has superseded", () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 20, maxLength: 150, size: "max" }),
        fc.integer({ min: 100, max: 500 }),
        (steps, maxBytes) => {
          const clock = manualClock();
          const cache = createProfileCache({
            maxBytes,
            ttlMs: 10_000,
            weigh: () => 100,
            serving: true,
            clock,
          });
          const stored = new Map<UserId, number>(users.map((userId) => [userId, 1]));
          let live = true;
          let onTheWay: Event[] = [];
          /** Duplicates may come again in any order, on the same connection as their original. */
          let delivered: Event[] = [];
          const reads: { ticket: FillTicket | undefined; seen: Event[] }[] = [];
          const deliver = (event: Event) =>
            cache.listener.changed(profileAt(event.userId, event.version));

          for (const s of steps) {
            switch (s.kind) {
              case "write": {
                const version = (stored.get(s.userId) ?? 0) + 1;
                stored.set(s.userId, version);
                if (live) onTheWay.push({ userId: s.userId, version });
                break;
              }
              case "deliver": {
                // A user's events arrive in version order; users interleave in any order.
                const next = onTheWay[s.pick % Math.max(1, onTheWay.length)];
                const index = onTheWay.findIndex((event) => event.userId === next?.userId);
                const [event] = index < 0 ? [] : onTheWay.splice(index, 1);
                if (event !== undefined) {
                  deliver(event);
                  delivered.push(event);
                }
                break;
              }
              case "redeliver": {
                const event = delivered[s.pick % Math.max(1, delivered.length)];
                if (event !== undefined) deliver(event);
                break;
              }
              case "readStart":
                reads.push({
                  ticket: cache.ticket(),
                  seen: s.userIds.map((userId) => ({ userId, version: stored.get(userId) ?? 0 })),
                });
                break;
              case "readEnd": {
                const [read] = reads.splice(s.pick % Math.max(1, reads.length), 1);
                if (read !== undefined) {
                  cache.fill(
                    read.seen.map((event) => profileAt(event.userId, event.version)),
                    read.ticket,
                  );
                }
                break;
              }
              case "get": {
                const served = cache.get(s.userId)?.version;
                if (served === undefined) break;
                expect(live).toBe(true);
                const latest = stored.get(s.userId) ?? 0;
                for (let version = served + 1; version <= latest; version += 1) {
                  const pending = onTheWay.some(
                    (event) => event.userId === s.userId && event.version === version,
                  );
                  expect(pending, `v${served} served while v${version} cannot arrive`).toBe(true);
                }
                break;
              }
              case "lost":
                live = false;
                onTheWay = [];
                delivered = [];
                cache.listener.lost();
                break;
              case "resumed":
                // Also after a loss the instance did not see: what was on its way is missed.
                live = true;
                onTheWay = [];
                delivered = [];
                cache.listener.resumed();
                break;
              case "tick":
                clock.advance(s.ms);
                break;
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
