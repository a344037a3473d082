import type { UserId } from "../profile/user-id.js";

/** One entry of a user's address book. */
export interface Contact {
  readonly userId: UserId;
  readonly contactUserId: UserId;
  /** "" when none. */
  readonly nickname: string;
  readonly isFavorite: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** `userId` blocks `blockedUserId`. */
export interface Block {
  readonly userId: UserId;
  readonly blockedUserId: UserId;
  /** The blocker's private note; "" when none. */
  readonly reason: string;
  readonly createdAt: Date;
}

/** How a user and another one stand, seen from the user. */
export interface Relationship {
  readonly otherUserId: UserId;
  readonly isContact: boolean;
  readonly isContactOfOtherUser: boolean;
  readonly blocksOtherUser: boolean;
  readonly blockedByOtherUser: boolean;
}

/** Per-user limits (docs/social-graph.md). */
export interface SocialGraphLimits {
  readonly maxContacts: number;
  readonly maxBlocks: number;
}

export const DEFAULT_SOCIAL_GRAPH_LIMITS: SocialGraphLimits = {
  maxContacts: 5000,
  maxBlocks: 10_000,
};
