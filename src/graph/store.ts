import type { UserId } from "../profile/user-id.js";
import type { Block, Contact, Relationship } from "./social-graph.js";

/** A contact to insert: nickname already normalized and checked. */
export interface NewContact {
  readonly userId: UserId;
  readonly contactUserId: UserId;
  readonly nickname: string;
  readonly isFavorite: boolean;
}

/** What UpdateContact changes; absent fields stay. */
export interface ContactChanges {
  readonly nickname?: string;
  readonly isFavorite?: boolean;
}

/** A block to insert: reason already normalized and checked. */
export interface NewBlock {
  readonly userId: UserId;
  readonly blockedUserId: UserId;
  readonly reason: string;
}

/**
 * The statements one graph transaction is made of; the social graph service decides the rules
 * between them. Every method runs inside the transaction it was given to.
 */
export interface SocialGraphTransaction {
  /**
   * Locks the profile rows of `userIds` against each other's graph changes, in ascending id order
   * (one canonical order, so that two transactions locking the same two users never deadlock),
   * and returns the ids that have a profile.
   */
  lockProfiles(userIds: readonly UserId[]): Promise<ReadonlySet<UserId>>;
  /** Whether either user blocks the other. */
  blockedEitherWay(userId: UserId, otherUserId: UserId): Promise<boolean>;
  findContact(userId: UserId, contactUserId: UserId): Promise<Contact | undefined>;
  countContacts(userId: UserId): Promise<number>;
  insertContact(contact: NewContact): Promise<Contact>;
  /** The contact after the change, or undefined when there is no such contact. */
  updateContact(
    userId: UserId,
    contactUserId: UserId,
    changes: ContactChanges,
  ): Promise<Contact | undefined>;
  /** Deletes the contacts between the two users in both directions; returns how many. */
  deleteContactsBetween(userId: UserId, otherUserId: UserId): Promise<number>;
  /** Deletes one contact; returns whether it was there. */
  deleteContact(userId: UserId, contactUserId: UserId): Promise<boolean>;
  findBlock(userId: UserId, blockedUserId: UserId): Promise<Block | undefined>;
  countBlocks(userId: UserId): Promise<number>;
  insertBlock(block: NewBlock): Promise<Block>;
  /** Deletes one block; returns whether it was there. */
  deleteBlock(userId: UserId, blockedUserId: UserId): Promise<boolean>;
}

/**
 * Where contacts and blocks are kept, as the social graph service needs it:
 * social-graph-repository.ts implements it on PostgreSQL or PGlite. Every change announces itself
 * in the outbox within its transaction (database triggers).
 */
export interface SocialGraphStore {
  /** Runs `work` in one transaction: all of it commits, or none. */
  transaction<T>(
    work: (tx: SocialGraphTransaction) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>;
  /** Up to `limit` contacts of `userId` with contact ids above `after`, ascending. */
  listContacts(
    userId: UserId,
    after: UserId | undefined,
    limit: number,
    signal?: AbortSignal,
  ): Promise<Contact[]>;
  /** Up to `limit` blocks of `userId` with blocked ids above `after`, ascending. */
  listBlocks(
    userId: UserId,
    after: UserId | undefined,
    limit: number,
    signal?: AbortSignal,
  ): Promise<Block[]>;
  /**
   * How `userId` stands to those of `otherUserIds` (distinct) it has any edge with, in one query,
   * in any order; the others have no relationship.
   */
  relationships(
    userId: UserId,
    otherUserIds: readonly UserId[],
    signal?: AbortSignal,
  ): Promise<Relationship[]>;
}
