import type { ProfileFeedListener, RelationChange } from "../../profile/live/feed.js";
import type { SocialGraphStore, SocialGraphTransaction } from "../store.js";

/**
 * The social graph store that tells the profile feed of every contact and block it adds or
 * removes, once their transaction has committed and before the call that made them answers: this
 * instance's reads and watchers apply a block at once (the others when its event arrives).
 */
export function announcingSocialGraphStore(
  store: SocialGraphStore,
  feed: Pick<ProfileFeedListener, "relationChanged">,
): SocialGraphStore {
  return {
    ...store,
    async transaction(work, signal) {
      const changes: RelationChange[] = [];
      const result = await store.transaction((tx) => work(recording(tx, changes)), signal);
      for (const change of changes) feed.relationChanged?.(change);
      return result;
    },
  };
}

/** `tx`, noting each edge its statements add or remove in `changes`. */
function recording(tx: SocialGraphTransaction, changes: RelationChange[]): SocialGraphTransaction {
  const note = (
    ownerId: RelationChange["ownerId"],
    otherUserId: RelationChange["otherUserId"],
    kind: RelationChange["kind"],
    present: boolean,
  ) => changes.push({ ownerId, otherUserId, kind, present });
  return {
    ...tx,
    insertContact: (contact) =>
      tx.insertContact(contact).then((inserted) => {
        note(inserted.userId, inserted.contactUserId, "contact", true);
        return inserted;
      }),
    async deleteContactsBetween(userId, otherUserId) {
      const deleted = await tx.deleteContactsBetween(userId, otherUserId);
      // Which direction went is not known, and needs not be: after it, neither exists.
      if (deleted > 0) {
        note(userId, otherUserId, "contact", false);
        note(otherUserId, userId, "contact", false);
      }
      return deleted;
    },
    async deleteContact(userId, contactUserId) {
      const deleted = await tx.deleteContact(userId, contactUserId);
      if (deleted) note(userId, contactUserId, "contact", false);
      return deleted;
    },
    insertBlock: (block) =>
      tx.insertBlock(block).then((inserted) => {
        note(inserted.userId, inserted.blockedUserId, "block", true);
        return inserted;
      }),
    async deleteBlock(userId, blockedUserId) {
      const deleted = await tx.deleteBlock(userId, blockedUserId);
      if (deleted) note(userId, blockedUserId, "block", false);
      return deleted;
    },
  };
}
