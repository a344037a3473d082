// The WatchProfiles fan-out (src/profile/live/watch.ts) against a fake ProfileFeed: one feed
// subscription, snapshots then changes in version order, duplicates dropped, a reader that does
// not read holds one pending state per user, limits, feed loss and shutdown end every watch.
import { describe, expect, it } from "vitest";
import {
  FeedLost,
  FeedNotLive,
  InstanceShuttingDown,
  WatchLimitReached,
  WatchTooLarge,
} from "../../src/profile/live/errors.js";
import type { ProfileFeed, ProfileFeedListener } from "../../src/profile/live/feed.js";
import {
  createWatchHub,
  type Watch,
  type WatchLimits,
  type WatchUpdate,
} from "../../src/profile/live/watch.js";
import { etagOf, type Profile } from "../../src/profile/profile.js";
import { parseUserId, type UserId } from "../../src/profile/user-id.js";
import {
  type Audience,
  defaultPrivacySettings,
  type Viewer,
} from "../../src/profile/visibility.js";

/** A feed the test drives: it says whether it is live and calls its listeners when told. */
function fakeFeed() {
  const listeners = new Set<ProfileFeedListener>();
  let live = true;
  const feed: ProfileFeed = {
    live: () => live,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    feed,
    listeners,
    changed: (profile: Profile) => {
      for (const listener of listeners) listener.changed(profile);
    },
    removed: (userId: UserId, version: number) => {
      for (const listener of listeners) listener.removed(userId, version);
    },
    block: (ownerId: UserId, otherUserId: UserId, present = true) => {
      for (const listener of listeners) {
        listener.relationChanged?.({ ownerId, otherUserId, kind: "block", present });
      }
    },
    befriend: (ownerId: UserId, otherUserId: UserId, present = true) => {
      for (const listener of listeners) {
        listener.relationChanged?.({ ownerId, otherUserId, kind: "contact", present });
      }
    },
    /** The owner's bio audience becomes `audience`, at `version` of their settings. */
    hideBio: (ownerId: UserId, version: number, audience: Audience = "nobody") => {
      const settings = { ...defaultPrivacySettings(ownerId), bioAudience: audience, version };
      for (const listener of listeners) listener.privacyChanged?.(settings);
    },
    lose() {
      live = false;
      for (const listener of listeners) listener.lost();
    },
    resume() {
      live = true;
      for (const listener of listeners) listener.resumed();
    },
  };
}

function countingMetrics() {
  const counts = { open: 0, delivered: 0, coalesced: 0 };
  return {
    counts,
    metrics: {
      watcherOpened: () => counts.open++,
      watcherClosed: () => counts.open--,
      delivered: () => counts.delivered++,
      coalesced: () => counts.coalesced++,
    },
  };
}

const roomy: WatchLimits = { maxIdsPerWatch: 1000, maxWatchesPerCaller: 100, maxWatchers: 100 };

function setUp(limits: WatchLimits = roomy) {
  const feed = fakeFeed();
  const { counts, metrics } = countingMetrics();
  return { ...feed, counts, hub: createWatchHub(feed.feed, limits, metrics) };
}

function newUserId(): UserId {
  const userId = parseUserId(crypto.randomUUID());
  if (userId === undefined) throw new Error("randomUUID gave no UUID");
  return userId;
}

function profileAt(userId: UserId, version: number, displayName = `v${version}`): Profile {
  const at = new Date(1_700_000_000_000 + version);
  return {
    userId,
    displayName,
    avatarUrl: "",
    bio: "",
    handle: "",
    createdAt: at,
    updatedAt: at,
    version,
    etag: etagOf(version),
  };
}

/** An update as the test compares it: kind, user, version, snapshot flag. */
function summary({ state, snapshot }: WatchUpdate) {
  return { kind: state.kind, userId: state.userId, version: state.version, snapshot };
}

/** What a message shows of the bio: its text, or "hidden". */
function bioOf({ state }: WatchUpdate): string | undefined {
  if (state.kind !== "profile") return undefined;
  const profile = state.profile;
  return "hiddenFields" in profile && profile.hiddenFields.includes("bio") ? "hidden" : profile.bio;
}

/** The next `count` updates, failing the test if they do not come. */
async function take(watch: Watch, count: number) {
  const updates: ReturnType<typeof summary>[] = [];
  for (let i = 0; i < count; i++) {
    updates.push(summary(await watch.next(AbortSignal.timeout(5000))));
  }
  return updates;
}

/** Whether a next() is still waiting after the feed had every chance to deliver. */
async function nothingPending(watch: Watch): Promise<boolean> {
  const controller = new AbortController();
  const next = watch.next(controller.signal).then(
    () => false,
    () => true,
  );
  await new Promise((resolve) => setTimeout(resolve, 10));
  controller.abort();
  return next;
}

describe("profile watch hub", () => {
  it("sends the snapshot in request order (profile or missing), then changes", async () => {
    const { hub, changed } = setUp();
    const [a, b, c] = [newUserId(), newUserId(), newUserId()];
    const watch = hub.open("caller", [a, b, c]);
    watch.start([profileAt(c, 3), profileAt(a, 1)]);

    expect(await take(watch, 3)).toEqual([
      { kind: "profile", userId: a, version: 1, snapshot: true },
      { kind: "missing", userId: b, version: 0, snapshot: true },
      { kind: "profile", userId: c, version: 3, snapshot: true },
    ]);
    changed(profileAt(b, 1));
    changed(profileAt(a, 2));
    expect(await take(watch, 2)).toEqual([
      { kind: "profile", userId: b, version: 1, snapshot: false },
      { kind: "profile", userId: a, version: 2, snapshot: false },
    ]);
  });

  it("folds a change that comes before the snapshot was read into it", async () => {
    const { hub, changed } = setUp();
    const a = newUserId();
    const watch = hub.open("caller", [a]);
    watch.start([]);
    changed(profileAt(a, 1));

    expect(await take(watch, 1)).toEqual([
      { kind: "profile", userId: a, version: 1, snapshot: true },
    ]);
  });

  it("sends nothing before the snapshot is given", async () => {
    const { hub, changed } = setUp();
    const a = newUserId();
    const watch = hub.open("caller", [a]);
    changed(profileAt(a, 4));

    expect(await nothingPending(watch)).toBe(true);
  });

  it("lets a change seen while the snapshot was read stand for the snapshot when it is newer", async () => {
    const { hub, changed } = setUp();
    const [a, b] = [newUserId(), newUserId()];
    const watch = hub.open("caller", [a, b]);
    changed(profileAt(a, 5));
    changed(profileAt(b, 1));
    watch.start([profileAt(a, 4), profileAt(b, 2)]);

    expect(await take(watch, 2)).toEqual([
      { kind: "profile", userId: a, version: 5, snapshot: true },
      { kind: "profile", userId: b, version: 2, snapshot: true },
    ]);
    expect(await nothingPending(watch)).toBe(true);
  });

  it("drops duplicates and versions older than the one sent", async () => {
    const { hub, changed } = setUp();
    const a = newUserId();
    const watch = hub.open("caller", [a]);
    watch.start([profileAt(a, 2)]);
    await take(watch, 1);

    changed(profileAt(a, 2));
    changed(profileAt(a, 1));
    expect(await nothingPending(watch)).toBe(true);
    changed(profileAt(a, 3));
    expect(await take(watch, 1)).toEqual([
      { kind: "profile", userId: a, version: 3, snapshot: false },
    ]);
    changed(profileAt(a, 3));
    expect(await nothingPending(watch)).toBe(true);
  });

  it("sends a deletion, and nothing older after it", async () => {
    const { hub, changed, removed } = setUp();
    const a = newUserId();
    const watch = hub.open("caller", [a]);
    watch.start([profileAt(a, 2)]);
    await take(watch, 1);

    removed(a, 2);
    changed(profileAt(a, 2));
    expect(await take(watch, 1)).toEqual([
      { kind: "deleted", userId: a, version: 2, snapshot: false },
    ]);
    expect(await nothingPending(watch)).toBe(true);
  });

  it("keeps one pending state per user for a reader that does not read, and the newest arrives", async () => {
    const { hub, changed, counts } = setUp();
    const [a, b] = [newUserId(), newUserId()];
    const watch = hub.open("caller", [a, b]);
    watch.start([]);
    await take(watch, 2);

    for (let version = 1; version <= 10_000; version++) {
      changed(profileAt(version % 2 === 0 ? a : b, version));
    }

    expect(await take(watch, 2)).toEqual([
      { kind: "profile", userId: b, version: 9999, snapshot: false },
      { kind: "profile", userId: a, version: 10_000, snapshot: false },
    ]);
    expect(counts.coalesced).toBe(9998);
    expect(await nothingPending(watch)).toBe(true);
  });

  it("fans one feed subscription out to every watch of a user", async () => {
    const { hub, changed, listeners } = setUp();
    const a = newUserId();
    const watches = [hub.open("one", [a]), hub.open("two", [a]), hub.open("three", [a])];
    for (const watch of watches) {
      watch.start([]);
      await take(watch, 1);
    }
    changed(profileAt(a, 1));

    expect(listeners.size).toBe(1);
    for (const watch of watches) {
      expect((await take(watch, 1))[0]).toEqual({
        kind: "profile",
        userId: a,
        version: 1,
        snapshot: false,
      });
    }
  });

  it("refuses more ids than a watch may name", () => {
    const { hub } = setUp({ ...roomy, maxIdsPerWatch: 2 });

    expect(() => hub.open("caller", [newUserId(), newUserId(), newUserId()])).toThrow(
      WatchTooLarge,
    );
  });

  it("refuses a caller's watch past its limit, until one of its watches closes", () => {
    const { hub } = setUp({ ...roomy, maxWatchesPerCaller: 2 });
    const first = hub.open("caller", [newUserId()]);
    hub.open("caller", [newUserId()]);

    expect(() => hub.open("caller", [newUserId()])).toThrow(WatchLimitReached);
    expect(hub.open("someone else", [newUserId()])).toBeDefined();
    first.close();
    expect(hub.open("caller", [newUserId()])).toBeDefined();
  });

  it("refuses a watch past the instance's limit, and counts open watches", () => {
    const { hub, counts } = setUp({ ...roomy, maxWatchers: 2 });
    const first = hub.open("one", [newUserId()]);
    hub.open("two", [newUserId()]);

    expect(() => hub.open("three", [newUserId()])).toThrow(WatchLimitReached);
    expect(counts.open).toBe(2);
    first.close();
    first.close();
    expect(counts.open).toBe(1);
    expect(hub.open("three", [newUserId()])).toBeDefined();
  });

  it("ends every watch when the feed is lost, and refuses new ones until it is live", async () => {
    const { hub, lose, resume, counts } = setUp();
    const a = newUserId();
    const watch = hub.open("caller", [a]);
    watch.start([]);
    await take(watch, 1);
    const waiting = watch.next(AbortSignal.timeout(5000));

    lose();

    await expect(waiting).rejects.toBeInstanceOf(FeedLost);
    expect(counts.open).toBe(0);
    expect(() => hub.open("caller", [a])).toThrow(FeedNotLive);
    resume();
    expect(hub.open("caller", [a])).toBeDefined();
  });

  it("ends every watch at shutdown, pending updates unsent", async () => {
    const { hub, changed, listeners } = setUp();
    const a = newUserId();
    const watch = hub.open("caller", [a]);
    watch.start([]);
    changed(profileAt(a, 1));

    hub.close();

    await expect(watch.next(AbortSignal.timeout(5000))).rejects.toBeInstanceOf(
      InstanceShuttingDown,
    );
    expect(listeners.size).toBe(0);
    expect(() => hub.open("caller", [a])).toThrow(InstanceShuttingDown);
  });

  it("stops waiting with the signal's reason (deadline, client gone)", async () => {
    const { hub } = setUp();
    const watch = hub.open("caller", [newUserId()]);
    watch.start([]);
    await take(watch, 1);
    const controller = new AbortController();
    const waiting = watch.next(controller.signal);

    controller.abort(new Error("deadline"));

    await expect(waiting).rejects.toThrow("deadline");
  });
});

describe("profile watch hub, per viewer", () => {
  const withBio = (userId: UserId, version: number) => ({
    ...profileAt(userId, version, "Owner"),
    createdAt: new Date(1_700_000_000_000),
    bio: `bio ${version}`,
  });
  const open = (hub: ReturnType<typeof setUp>["hub"], owner: UserId, viewer: UserId) =>
    hub.open("caller", [owner], { kind: "user", userId: viewer } satisfies Viewer);

  it("sends the new view at once when the owner blocks and unblocks the watcher", async () => {
    const { hub, changed, block } = setUp();
    const [owner, viewer] = [newUserId(), newUserId()];
    const watch = open(hub, owner, viewer);
    watch.start([withBio(owner, 3)]);
    expect(bioOf(await watch.next(AbortSignal.timeout(5000)))).toBe("bio 3");

    block(owner, viewer);
    const blocked = await watch.next(AbortSignal.timeout(5000));
    expect(bioOf(blocked)).toBe("hidden");
    expect(summary(blocked)).toEqual({
      kind: "profile",
      userId: owner,
      version: 4,
      snapshot: false,
    });
    changed(withBio(owner, 4));
    changed(withBio(owner, 5));
    expect(await nothingPending(watch)).toBe(true);

    block(owner, viewer, false);
    const unblocked = await watch.next(AbortSignal.timeout(5000));
    expect(bioOf(unblocked)).toBe("bio 5");
    expect(summary(unblocked).version).toBe(5);
  });

  it("never sends a change of a hidden field, and sends a visible one without its version", async () => {
    const { hub, changed, hideBio } = setUp();
    const [owner, viewer] = [newUserId(), newUserId()];
    const watch = open(hub, owner, viewer);
    watch.start(
      [withBio(owner, 7)],
      new Map([
        [
          owner,
          {
            settings: { ...defaultPrivacySettings(owner), bioAudience: "nobody", version: 2 },
            facts: { isContact: false, blocked: false },
          },
        ],
      ]),
    );
    const snapshot = await watch.next(AbortSignal.timeout(5000));
    expect(bioOf(snapshot)).toBe("hidden");
    expect(summary(snapshot).version).toBe(1);

    changed(withBio(owner, 8));
    expect(await nothingPending(watch)).toBe(true);
    changed({ ...withBio(owner, 9), displayName: "renamed" });
    const renamed = await watch.next(AbortSignal.timeout(5000));
    expect(summary(renamed).version).toBe(2);
    expect(bioOf(renamed)).toBe("hidden");
    // A settings event older than the snapshot's settings changes nothing.
    hideBio(owner, 1, "everyone");
    expect(await nothingPending(watch)).toBe(true);
  });

  it("shows a contacts-only bio to a watcher once the owner adds them, and hides it on removal", async () => {
    const { hub, befriend, hideBio } = setUp();
    const [owner, viewer, other] = [newUserId(), newUserId(), newUserId()];
    const watch = open(hub, owner, viewer);
    watch.start([withBio(owner, 2)]);
    expect(bioOf(await watch.next(AbortSignal.timeout(5000)))).toBe("bio 2");

    hideBio(owner, 2, "contacts");
    expect(bioOf(await watch.next(AbortSignal.timeout(5000)))).toBe("hidden");
    befriend(owner, other);
    expect(await nothingPending(watch)).toBe(true);
    befriend(owner, viewer);
    expect(bioOf(await watch.next(AbortSignal.timeout(5000)))).toBe("bio 2");
    befriend(owner, viewer, false);
    expect(bioOf(await watch.next(AbortSignal.timeout(5000)))).toBe("hidden");
  });

  it("lets what the feed said during the snapshot's read win over the read", async () => {
    const { hub, block } = setUp();
    const [owner, viewer] = [newUserId(), newUserId()];
    const watch = open(hub, owner, viewer);
    block(owner, viewer);
    // The read began before the block: it found no relation.
    watch.start([withBio(owner, 1)], new Map());

    expect(bioOf(await watch.next(AbortSignal.timeout(5000)))).toBe("hidden");
  });

  it("shows the owner their whole profile, whatever their settings", async () => {
    const { hub, changed, hideBio } = setUp();
    const owner = newUserId();
    const watch = open(hub, owner, owner);
    watch.start([withBio(owner, 1)]);
    await take(watch, 1);
    hideBio(owner, 2);
    expect(await nothingPending(watch)).toBe(true);
    changed(withBio(owner, 2));
    expect(bioOf(await watch.next(AbortSignal.timeout(5000)))).toBe("bio 2");
  });
});
