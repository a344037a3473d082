import type { OwnerVisibility, PrivacyStore } from "../../../src/profile/store.js";
import type { UserId } from "../../../src/profile/user-id.js";
import {
  defaultPrivacySettings,
  NO_RELATION,
  type PrivacySettings,
} from "../../../src/profile/visibility.js";

/** A PrivacyStore in Maps, with the graph's edges as sets the test fills, and its reads counted. */
export interface InMemoryPrivacyStore extends PrivacyStore {
  /** `${owner} ${contact}`: the contact is in the owner's address book. */
  readonly contacts: Set<string>;
  /** `${blocker} ${blocked}`. */
  readonly blocks: Set<string>;
  /** How many times `visibility` was asked, and for how many owners in all. */
  readonly reads: { calls: number; owners: number };
}

/**
 * Keeps settings as the repository's statements do: the defaults at version 1, +1 per effective
 * change, `expectedVersion` checked, nothing written without a profile (`hasProfile`).
 */
export function createInMemoryPrivacyStore(
  hasProfile: (userId: UserId) => boolean = () => true,
): InMemoryPrivacyStore {
  const stored = new Map<UserId, PrivacySettings>();
  const contacts = new Set<string>();
  const blocks = new Set<string>();
  const reads = { calls: 0, owners: 0 };
  const current = (userId: UserId) => stored.get(userId) ?? defaultPrivacySettings(userId);
  return {
    contacts,
    blocks,
    reads,
    async findSettings(userId, signal) {
      signal?.throwIfAborted();
      return hasProfile(userId) ? current(userId) : undefined;
    },
    async applySettings(change, signal) {
      signal?.throwIfAborted();
      if (!hasProfile(change.userId)) return undefined;
      const before = current(change.userId);
      if (change.expectedVersion !== undefined && change.expectedVersion !== before.version) {
        return undefined;
      }
      const after = {
        ...before,
        avatarAudience: change.avatarAudience ?? before.avatarAudience,
        bioAudience: change.bioAudience ?? before.bioAudience,
        discoverableBy: change.discoverableBy ?? before.discoverableBy,
      };
      if (
        after.avatarAudience === before.avatarAudience &&
        after.bioAudience === before.bioAudience &&
        after.discoverableBy === before.discoverableBy
      ) {
        return undefined;
      }
      const saved = { ...after, version: before.version + 1 };
      stored.set(change.userId, saved);
      return saved;
    },
    async visibility(ownerIds, viewerId, signal) {
      signal?.throwIfAborted();
      reads.calls += 1;
      reads.owners += ownerIds.length;
      const found = new Map<UserId, OwnerVisibility>();
      for (const ownerId of ownerIds) {
        const isContact = contacts.has(`${ownerId} ${viewerId}`);
        const blocked = blocks.has(`${ownerId} ${viewerId}`);
        const settings = current(ownerId);
        if (settings.version > 1 || isContact || blocked) {
          found.set(ownerId, {
            settings,
            facts: isContact || blocked ? { isContact, blocked } : NO_RELATION,
          });
        }
      }
      return found;
    },
    async blockedEitherWay(userId, otherUserId, signal) {
      signal?.throwIfAborted();
      return blocks.has(`${userId} ${otherUserId}`) || blocks.has(`${otherUserId} ${userId}`);
    },
  };
}
