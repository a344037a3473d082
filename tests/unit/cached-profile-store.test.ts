import { describe, expect, it } from "vitest";
import type { Caller } from "../../src/auth/caller.js";
import { EtagMismatch } from "../../src/profile/errors.js";
import { announcingProfileStore } from "../../src/profile/live/announcing-store.js";
import { createProfileCache } from "../../src/profile/live/cache.js";
import { cachedProfileStore } from "../../src/profile/live/cached-store.js";
import { createProfileFeed } from "../../src/profile/live/feed.js";
import type { Profile } from "../../src/profile/profile.js";
import { createProfileService } from "../../src/profile/service.js";
import { createInMemoryPrivacyStore } from "./support/in-memory-privacy-store.js";
import { createInMemoryProfileStore } from "./support/in-memory-profile-store.js";
import { createInMemorySearchStore } from "./support/in-memory-search-store.js";
import { alice, bob, profileAt } from "./support/profiles.js";

/** The store stack of the service: cache in front, announcing writes to the feed behind it. */
function setUp(options: { live: boolean }) {
  const database = createInMemoryProfileStore();
  const hub = createProfileFeed({ alwaysLive: false });
  const cache = createProfileCache({
    maxBytes: 1e6,
    ttlMs: 60_000,
    weigh: () => 100,
    serving: false,
  });
  hub.feed.subscribe(cache.listener);
  if (options.live) hub.source.resumed();
  const store = cachedProfileStore(announcingProfileStore(database, hub.source), cache);
  const service = createProfileService(
    store,
    { allowHttpAvatarUrls: false },
    createInMemoryPrivacyStore(),
    createInMemorySearchStore(),
  );
  return { database, hub, cache, store, service };
}

const owner = (userId: string): Caller => ({ subject: userId, scopes: new Set() });

describe("the cached profile store", () => {
  it("asks the database only for the ids the cache does not hold, and keeps what it finds", async () => {
    const { database, store, hub } = setUp({ live: true });
    await database.apply({ userId: alice, fields: { bio: "a" } });
    await database.apply({ userId: bob, fields: { bio: "b" } });
    hub.source.changed(profileAt(alice, 1));
    database.calls.length = 0;

    const found = await store.findMany([alice, bob]);
    expect(found.map((profile) => profile.userId).sort()).toEqual([alice, bob].sort());
    expect(database.calls.map((call) => call.method)).toEqual(["findMany"]);
    await store.findMany([alice, bob]);
    await store.find(bob);
    expect(database.calls).toHaveLength(1);
  });

  it("reads everything from the database while the feed is not live", async () => {
    const { database, store, hub } = setUp({ live: false });
    await database.apply({ userId: alice, fields: { bio: "a" } });
    hub.source.changed(profileAt(alice, 9));
    database.calls.length = 0;
    expect((await store.find(alice))?.version).toBe(1);
    expect((await store.findMany([alice]))[0]?.version).toBe(1);
    expect(database.calls.map((call) => call.method)).toEqual(["find", "findMany"]);
  });

  it("serves the instance's own write at once, through the feed, before the call answers", async () => {
    const { service, database } = setUp({ live: true });
    const heard: Profile[] = [];
    const updated = await service.updateProfile({
      caller: owner(alice),
      userId: alice,
      fields: { bio: "mine" },
    });
    heard.push(...(await service.batchGetProfiles([alice])).profiles);
    expect(heard[0]).toBe(updated);
    expect(database.calls.map((call) => call.method)).toEqual(["apply"]);
  });

  it("checks an etag against the database, not against a cached copy that a newer version superseded", async () => {
    const { service, database, hub } = setUp({ live: true });
    const first = await service.updateProfile({
      caller: owner(alice),
      userId: alice,
      fields: { bio: "1" },
    });
    // Another instance writes version 2; its event has not arrived here yet.
    await database.apply({ userId: alice, fields: { bio: "2" } });
    expect((await service.getProfile(alice)).version).toBe(1);

    const stale = service.updateProfile({
      caller: owner(alice),
      userId: alice,
      fields: { bio: "1" },
      etag: first.etag,
    });
    await expect(stale).rejects.toBeInstanceOf(EtagMismatch);
    expect(hub.feed.live()).toBe(true);
  });
});
