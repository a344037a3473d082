import { describe, expect, it } from "vitest";
import type { Caller } from "../../src/auth/caller.js";
import type { Clock } from "../../src/profile/clock.js";
import {
  EtagMismatch,
  HandleClaimTooSoon,
  HandleNotFound,
  HandleTaken,
  InvalidHandle,
  InvalidHandleChange,
  NotProfileOwner,
  ProfileNotFound,
} from "../../src/profile/errors.js";
import { DEFAULT_HANDLE_RULES } from "../../src/profile/handle.js";
import { createProfileService } from "../../src/profile/service.js";
import { parseUserId, type UserId } from "../../src/profile/user-id.js";
import { createInMemoryPrivacyStore } from "./support/in-memory-privacy-store.js";
import { createInMemoryProfileStore } from "./support/in-memory-profile-store.js";
import { createInMemorySearchStore } from "./support/in-memory-search-store.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function newUserId(): UserId {
  const userId = parseUserId(crypto.randomUUID());
  if (userId === undefined) throw new Error("randomUUID gave no UUID");
  return userId;
}

const as = (userId: string): Caller => ({ subject: userId, scopes: new Set() });

/** A service on in-memory stores whose clock moves only when the test says. */
function setUp() {
  let at = Date.UTC(2027, 0, 1);
  const clock: Clock = { now: () => new Date(at) };
  const store = createInMemoryProfileStore(clock.now);
  const privacy = createInMemoryPrivacyStore();
  const service = createProfileService(
    store,
    { allowHttpAvatarUrls: false },
    privacy,
    createInMemorySearchStore(),
    { rules: DEFAULT_HANDLE_RULES, clock },
  );
  const user = async (displayName = "someone") => {
    const userId = newUserId();
    await store.createIfMissing(userId, displayName);
    return userId;
  };
  const setHandle = (userId: UserId, handle: string, etag?: string) =>
    service.setHandle({ caller: as(userId), userId, handle, etag });
  const pass = (ms: number) => {
    at += ms;
  };
  return { store, privacy, service, user, setHandle, pass };
}

async function failure(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

describe("SetHandle", () => {
  it("claims the canonical form, bumps the version, and changes nothing when claimed again", async () => {
    const { setHandle, user, store } = setUp();
    const ada = await user();
    const claimed = await setHandle(ada, "@Ada");
    expect(claimed).toMatchObject({ handle: "ada", version: 2 });
    const writes = store.writes.length;
    expect(await setHandle(ada, "ADA")).toMatchObject({ handle: "ada", version: 2 });
    expect(store.writes.length).toBe(writes);
  });

  it("refuses a stranger before looking at the handle, and an invalid handle with its reason", async () => {
    const { setHandle, service, user } = setUp();
    const ada = await user();
    const stranger = newUserId();
    expect(
      await failure(service.setHandle({ caller: as(stranger), userId: ada, handle: "x" })),
    ).toBeInstanceOf(NotProfileOwner);
    const invalid = await failure(setHandle(ada, "\u0430da"));
    expect(invalid).toBeInstanceOf(InvalidHandleChange);
    expect((invalid as InvalidHandleChange).violations).toEqual([
      expect.objectContaining({ field: "handle", reason: "INVALID_CHARACTER" }),
    ]);
    const noId = await failure(
      service.setHandle({ caller: as(ada), userId: "nope", handle: "ab" }),
    );
    expect((noId as InvalidHandleChange).violations.map((v) => v.reason)).toEqual([
      "INVALID_USER_ID",
      "TOO_SHORT",
    ]);
  });

  it("answers a handle held by another, and a reserved one, alike: taken", async () => {
    const { setHandle, user } = setUp();
    const ada = await user();
    const bob = await user();
    await setHandle(ada, "ada");
    expect(await failure(setHandle(bob, "ada"))).toBeInstanceOf(HandleTaken);
    expect(await failure(setHandle(bob, "@Admin"))).toBeInstanceOf(HandleTaken);
  });

  it("refuses a second claim within 24 hours with the wait, and allows it after", async () => {
    const { setHandle, user, pass } = setUp();
    const ada = await user();
    await setHandle(ada, "ada");
    pass(23 * HOUR);
    const tooSoon = await failure(setHandle(ada, "ada_l"));
    expect(tooSoon).toBeInstanceOf(HandleClaimTooSoon);
    expect((tooSoon as HandleClaimTooSoon).retryAfterMs).toBe(HOUR);
    // Releasing is always allowed, and reclaiming is a claim like any other.
    expect(await setHandle(ada, "")).toMatchObject({ handle: "" });
    expect(await failure(setHandle(ada, "ada"))).toBeInstanceOf(HandleClaimTooSoon);
    pass(HOUR);
    expect(await setHandle(ada, "ada_l")).toMatchObject({ handle: "ada_l" });
  });

  it("holds a released handle 14 days for its last holder alone", async () => {
    const { setHandle, user, pass } = setUp();
    const ada = await user();
    const bob = await user();
    await setHandle(ada, "ada");
    pass(DAY);
    await setHandle(ada, "ada_l");
    pass(DAY);
    expect(await failure(setHandle(bob, "ada"))).toBeInstanceOf(HandleTaken);
    // Its last holder takes it back within the hold.
    expect(await setHandle(ada, "ada")).toMatchObject({ handle: "ada" });
    pass(DAY);
    await setHandle(ada, "");
    pass(14 * DAY - 1);
    expect(await failure(setHandle(bob, "ada"))).toBeInstanceOf(HandleTaken);
    pass(1);
    expect(await setHandle(bob, "ada")).toMatchObject({ handle: "ada" });
  });

  it("releases a deleted account's handle into the hold", async () => {
    const { setHandle, user, pass, service } = setUp();
    const ada = await user();
    const bob = await user();
    await setHandle(ada, "ada");
    await service.deleteAccount(ada);
    expect(await failure(setHandle(bob, "ada"))).toBeInstanceOf(HandleTaken);
    pass(14 * DAY);
    expect(await setHandle(bob, "ada")).toMatchObject({ handle: "ada" });
  });

  it("checks the etag, and needs a profile", async () => {
    const { setHandle, user } = setUp();
    const ada = await user();
    expect(await failure(setHandle(ada, "ada", "v7"))).toBeInstanceOf(EtagMismatch);
    expect(await failure(setHandle(ada, "ada", "nonsense"))).toBeInstanceOf(EtagMismatch);
    expect(await setHandle(ada, "ada", "v1")).toMatchObject({ handle: "ada" });
    expect(await failure(setHandle(newUserId(), "ghost"))).toBeInstanceOf(ProfileNotFound);
  });
});

describe("CheckHandle", () => {
  it("answers free, invalid, taken, and the caller's own handles", async () => {
    const { setHandle, service, user, pass } = setUp();
    const ada = await user();
    const bob = await user();
    await setHandle(ada, "ada");
    expect(await service.checkHandle(as(bob), "@Free_One")).toEqual({
      available: true,
      handle: "free_one",
    });
    expect(await service.checkHandle(as(bob), "a")).toEqual({
      available: false,
      reason: "invalid",
      handle: "",
    });
    expect(await service.checkHandle(as(bob), "ada")).toMatchObject({
      available: false,
      reason: "taken",
    });
    expect(await service.checkHandle(as(ada), "ada")).toMatchObject({ available: true });
    pass(DAY);
    await setHandle(ada, "");
    // Released: still the caller's to take back, nobody else's until the hold ends.
    expect(await service.checkHandle(as(ada), "ada")).toMatchObject({ available: true });
    expect(await service.checkHandle(as(bob), "ada")).toMatchObject({
      available: false,
      reason: "taken",
    });
    pass(14 * DAY);
    expect(await service.checkHandle(as(bob), "ada")).toMatchObject({ available: true });
  });

  it("does the same store work for a reserved handle as for a held one", async () => {
    const { setHandle, service, user, store } = setUp();
    const ada = await user();
    const bob = await user();
    await setHandle(ada, "ada");
    const callsOf = async (handle: string) => {
      const before = store.calls.length;
      const answer = await service.checkHandle(as(bob), handle);
      return { answer, calls: store.calls.slice(before).map((call) => call.method) };
    };
    const held = await callsOf("ada");
    const reserved = await callsOf("admin");
    expect(reserved).toEqual({ ...held, answer: { ...held.answer, handle: "admin" } });
    expect(held.calls).toEqual(["findHandle"]);
  });
});

describe("ResolveHandle", () => {
  it("finds the holder as the viewer sees it, and nobody as NotFound", async () => {
    const { setHandle, service, user } = setUp();
    const ada = await user("Ada");
    const bob = await user();
    await setHandle(ada, "ada");
    const viewer = { kind: "user", userId: bob } as const;
    expect(await service.resolveHandle("@ADA", viewer)).toMatchObject({
      userId: ada,
      displayName: "Ada",
    });
    expect(await failure(service.resolveHandle("nobody_here", viewer))).toBeInstanceOf(
      HandleNotFound,
    );
    expect(await failure(service.resolveHandle("a", viewer))).toBeInstanceOf(InvalidHandle);
  });

  it("answers a block either way exactly as nobody holding the handle", async () => {
    const { setHandle, service, user, privacy } = setUp();
    const ada = await user();
    const bob = await user();
    const carol = await user();
    await setHandle(ada, "ada");
    privacy.blocks.add(`${ada} ${bob}`);
    privacy.blocks.add(`${carol} ${ada}`);
    const blocked = await failure(service.resolveHandle("ada", { kind: "user", userId: bob }));
    const blocking = await failure(service.resolveHandle("ada", { kind: "user", userId: carol }));
    const nobody = await failure(service.resolveHandle("ada_x", { kind: "user", userId: bob }));
    for (const refused of [blocked, blocking, nobody])
      expect(refused).toBeInstanceOf(HandleNotFound);
    // The same message as for a handle nobody holds.
    expect((blocked as Error).message).toBe(new HandleNotFound("ada").message);
    expect((blocking as Error).message).toBe(new HandleNotFound("ada").message);
    // A trusted reader and the holder themself are not refused.
    expect(await service.resolveHandle("ada", { kind: "trusted" })).toMatchObject({ userId: ada });
    expect(await service.resolveHandle("ada", { kind: "user", userId: ada })).toMatchObject({
      userId: ada,
    });
  });
});

describe("provisioning", () => {
  it("makes a valid, free, unreserved username the handle, and starts no cooldown", async () => {
    const { service, store, setHandle } = setUp();
    const ada = newUserId();
    await service.provisionProfile(ada, ["Ada"], "Ada_L");
    expect(await store.find(ada)).toMatchObject({ handle: "ada_l", version: 1 });
    expect(await setHandle(ada, "ada")).toMatchObject({ handle: "ada" });
  });

  it("leaves the handle empty for a taken, reserved or invalid username", async () => {
    const { service, store } = setUp();
    const first = newUserId();
    await service.provisionProfile(first, [], "ada");
    for (const username of ["ada", "admin", "a.b", ""]) {
      const userId = newUserId();
      expect(await service.provisionProfile(userId, [], username)).toBe(true);
      expect(await store.find(userId)).toMatchObject({ handle: "" });
    }
  });
});
