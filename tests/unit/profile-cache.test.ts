import { describe, expect, it } from "vitest";
import {
  createProfileCache,
  type ProfileCacheOptions,
  REMEMBERED_REMOVALS,
} from "../../src/profile/live/cache.js";
import { createProfileFeed } from "../../src/profile/live/feed.js";
import type { Profile } from "../../src/profile/profile.js";
import type { UserId } from "../../src/profile/user-id.js";
import { alice, bob, manualClock, profileAt } from "./support/profiles.js";

function newCache(options: Partial<ProfileCacheOptions> = {}) {
  return createProfileCache({
    maxBytes: 10_000,
    ttlMs: 60_000,
    weigh: () => 100,
    serving: true,
    ...options,
  });
}

describe("the profile cache", () => {
  it("never replaces a profile by an older version, from the feed or from a read", () => {
    const cache = newCache();
    cache.listener.changed(profileAt(alice, 3));
    cache.listener.changed(profileAt(alice, 2));
    cache.fill([profileAt(alice, 1)], cache.ticket());
    expect(cache.get(alice)?.version).toBe(3);
    cache.listener.changed(profileAt(alice, 4));
    expect(cache.get(alice)?.version).toBe(4);
  });

  it("does not store a read begun before the feed was lost, even after it returns", () => {
    const cache = newCache();
    const ticket = cache.ticket();
    cache.listener.lost();
    cache.listener.resumed();
    cache.fill([profileAt(alice, 1)], ticket);
    expect(cache.get(alice)).toBeUndefined();
  });

  it("empties and stops serving when the feed is lost, and serves again empty on its return", () => {
    const cache = newCache();
    cache.listener.changed(profileAt(alice, 1));
    cache.listener.lost();
    expect(cache.serving()).toBe(false);
    expect(cache.stats().entries).toBe(0);
    expect(cache.ticket()).toBeUndefined();
    cache.listener.changed(profileAt(bob, 1));
    cache.listener.resumed();
    expect(cache.serving()).toBe(true);
    expect(cache.get(alice)).toBeUndefined();
    expect(cache.get(bob)).toBeUndefined();
    expect(cache.stats().entries).toBe(0);
  });

  it("remembers the version of an evicted profile, so that a late older read stays out", () => {
    const cache = newCache({ maxBytes: 200 });
    const ticket = cache.ticket();
    cache.listener.changed(profileAt(alice, 5));
    cache.listener.changed(profileAt(bob, 1));
    cache.listener.changed(profileAt("00000000-0000-4000-8000-00000000000c" as UserId, 1));
    expect(cache.stats().evictions).toBe(1);
    cache.fill([profileAt(alice, 4)], ticket);
    expect(cache.get(alice)).toBeUndefined();
    cache.fill([profileAt(alice, 5)], ticket);
    expect(cache.get(alice)?.version).toBe(5);
  });

  it("does not store a read that saw more removals than it can remember", () => {
    const cache = newCache({ maxBytes: 100 });
    const ticket = cache.ticket();
    for (let index = 0; index <= REMEMBERED_REMOVALS + 1; index += 1) {
      const userId = `00000000-0000-4000-8000-${String(index).padStart(12, "0")}` as UserId;
      cache.listener.changed(profileAt(userId, 1));
    }
    cache.fill([profileAt(alice, 1)], ticket);
    expect(cache.get(alice)).toBeUndefined();
    cache.fill([profileAt(alice, 1)], cache.ticket());
    expect(cache.get(alice)?.version).toBe(1);
  });

  it("empties when the feed returns without a loss it saw", () => {
    const cache = newCache();
    cache.listener.changed(profileAt(alice, 1));
    cache.listener.resumed();
    expect(cache.get(alice)).toBeUndefined();
  });

  it("keeps within its byte budget and counts what it evicts", () => {
    const cache = newCache({ maxBytes: 1000, weigh: () => 300 });
    for (let index = 0; index < 10; index += 1) {
      const userId = `00000000-0000-4000-8000-${String(index).padStart(12, "0")}` as UserId;
      cache.listener.changed(profileAt(userId, 1));
      expect(cache.stats().bytes).toBeLessThanOrEqual(1000);
    }
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 900, evictions: 7 });
  });

  it("stops serving an entry once its TTL has passed", () => {
    const clock = manualClock();
    const cache = newCache({ ttlMs: 5000, clock });
    cache.listener.changed(profileAt(alice, 1));
    clock.advance(4999);
    expect(cache.get(alice)?.version).toBe(1);
    clock.advance(2);
    expect(cache.get(alice)).toBeUndefined();
  });

  it("drops a removed profile, and an older read of it stays out", () => {
    const cache = newCache();
    const ticket = cache.ticket();
    cache.listener.changed(profileAt(alice, 2));
    cache.listener.removed(alice, 3);
    expect(cache.get(alice)).toBeUndefined();
    cache.fill([profileAt(alice, 2)], ticket);
    cache.listener.changed(profileAt(alice, 2));
    expect(cache.get(alice)).toBeUndefined();
  });

  it("counts hits and misses only while serving", () => {
    const cache = newCache({ serving: false });
    expect(cache.get(alice)).toBeUndefined();
    cache.listener.resumed();
    cache.listener.changed(profileAt(alice, 1));
    cache.get(alice);
    cache.get(bob);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, serving: true });
  });
});

describe("the profile feed hub", () => {
  it("tells every listener of changes, and of loss and return unless always live", () => {
    const heard: string[] = [];
    const listener = (name: string) => ({
      changed: (profile: Profile) => heard.push(`${name} changed v${profile.version}`),
      removed: () => heard.push(`${name} removed`),
      lost: () => heard.push(`${name} lost`),
      resumed: () => heard.push(`${name} resumed`),
    });
    const hub = createProfileFeed({ alwaysLive: false });
    expect(hub.feed.live()).toBe(false);
    const unsubscribe = hub.feed.subscribe(listener("a"));
    hub.feed.subscribe(listener("b"));
    hub.source.resumed();
    hub.source.changed(profileAt(alice, 1));
    unsubscribe();
    hub.source.lost();
    hub.source.lost();
    expect(hub.feed.live()).toBe(false);
    expect(heard).toEqual(["a resumed", "b resumed", "a changed v1", "b changed v1", "b lost"]);

    const embedded = createProfileFeed({ alwaysLive: true });
    embedded.feed.subscribe(listener("c"));
    embedded.source.lost();
    embedded.source.resumed();
    expect(embedded.feed.live()).toBe(true);
    expect(heard).toHaveLength(5);
  });
});
