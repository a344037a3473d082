import { etagOf, type Profile } from "../../../src/profile/profile.js";
import type { UserId } from "../../../src/profile/user-id.js";

export const alice = "00000000-0000-4000-8000-00000000000a" as UserId;
export const bob = "00000000-0000-4000-8000-00000000000b" as UserId;

export function profileAt(userId: UserId, version: number): Profile {
  const at = new Date(Date.UTC(2026, 0, 1) + version * 1000);
  return {
    userId,
    displayName: `name ${version}`,
    avatarUrl: "",
    bio: "",
    handle: "",
    createdAt: new Date(Date.UTC(2026, 0, 1)),
    updatedAt: at,
    version,
    etag: etagOf(version),
  };
}

/** A clock the test moves by hand, in milliseconds. */
export function manualClock() {
  let now = 1000;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
