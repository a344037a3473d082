import { type Caller, PROFILE_ADMIN_SCOPE, SOCIAL_READ_SCOPE } from "../auth/caller.js";
import { ProfileNotFound } from "../profile/errors.js";
import { mayChangeProfile } from "../profile/permissions.js";
import type { ProfileService } from "../profile/service.js";
import { parseUserId, requireUserId, type UserId, uniqueUserIds } from "../profile/user-id.js";
import { type ProfileView, viewerOf } from "../profile/visibility.js";
import {
  BlockedBetweenUsers,
  BlockLimitReached,
  ContactLimitReached,
  InvalidGraphRequest,
  NotAContact,
  NotGraphOwner,
} from "./errors.js";
import type { PagedList, PageTokens } from "./page-token.js";
import { checkNickname, checkReason, pageSizeOf, requireOtherUserId } from "./rules.js";
import type { Block, Contact, Relationship, SocialGraphLimits } from "./social-graph.js";
import type { SocialGraphStore } from "./store.js";

/** Who asks about whose graph, and the call's signal. */
export interface GraphCall {
  readonly caller: Caller;
  readonly userId: string;
  readonly signal?: AbortSignal;
}

/** A call about one other user. */
export interface PairCall extends GraphCall {
  readonly otherUserId: string;
}

export interface AddContactCommand extends PairCall {
  /** Raw; "" for none. */
  readonly nickname: string;
  readonly isFavorite: boolean;
}

export interface UpdateContactCommand extends PairCall {
  readonly nickname?: string;
  readonly isFavorite?: boolean;
}

export interface BlockCommand extends PairCall {
  /** Raw; "" for none. */
  readonly reason: string;
}

export interface PageRequest extends GraphCall {
  readonly pageSize: number;
  /** "" for the first page. */
  readonly pageToken: string;
}

export interface ContactsRequest extends PageRequest {
  /** Whose view of the contacts' profiles (ListContactsRequest.viewer_user_id); "" for none. */
  readonly viewerUserId: string;
}

/** A contact with its profile as the viewer sees it (undefined when the contact has none). */
export interface ListedContact extends Contact {
  readonly profile: ProfileView | undefined;
}

export interface Page<T> {
  readonly items: T[];
  /** "" after the last page. */
  readonly nextPageToken: string;
}

export interface RelationshipsQuery extends GraphCall {
  readonly otherUserIds: readonly string[];
}

export interface SocialGraphDependencies {
  readonly store: SocialGraphStore;
  /** Contacts' profiles come through the same batch path (and caches) as BatchGetProfiles. */
  readonly profiles: Pick<ProfileService, "batchGetProfileViews">;
  readonly pageTokens: PageTokens;
  readonly limits: SocialGraphLimits;
}

export type SocialGraphService = ReturnType<typeof createSocialGraphService>;

/**
 * The social graph use cases (docs/social-graph.md). Inputs are raw client values, checked
 * by graph/rules.ts; refusals are those of graph/errors.ts, InvalidUserId and ProfileNotFound.
 * Every change that involves two users runs in one transaction that first locks both users'
 * profile rows in ascending id order, so an AddContact and a BlockUser between the same two users
 * are serialized: whichever commits second sees the other's row, and no contact survives a block.
 */
export function createSocialGraphService({
  store,
  profiles,
  pageTokens,
  limits,
}: SocialGraphDependencies) {
  /** The two users of a pair call, after the caller was found to own `user_id`'s graph. */
  const pairOf = (call: PairCall): { userId: UserId; otherUserId: UserId } => {
    const userId = ownGraph(call);
    return { userId, otherUserId: requireOtherUserId(call.otherUserId, userId) };
  };

  /** Both profiles locked, or ProfileNotFound naming the one missing. */
  const lockPair = async (
    tx: Parameters<Parameters<SocialGraphStore["transaction"]>[0]>[0],
    userId: UserId,
    otherUserId: UserId,
  ) => {
    const existing = await tx.lockProfiles([userId, otherUserId]);
    for (const id of [otherUserId, userId]) {
      if (!existing.has(id)) throw new ProfileNotFound(id);
    }
  };

  const pageOf = async <T>(
    request: PageRequest,
    list: PagedList,
    read: (owner: UserId, after: UserId | undefined, limit: number) => Promise<T[]>,
    keyOf: (item: T) => UserId,
  ): Promise<Page<T>> => {
    const owner = ownGraph(request);
    const size = pageSizeOf(request.pageSize);
    let after: UserId | undefined;
    if (request.pageToken !== "") {
      after = pageTokens.decode(list, owner, request.pageToken);
      if (after === undefined) {
        throw new InvalidGraphRequest([
          {
            field: "page_token",
            description: "is not a page token of this list for this user",
            reason: "INVALID_PAGE_TOKEN",
          },
        ]);
      }
    }
    const rows = await read(owner, after, size + 1);
    const items = rows.slice(0, size);
    const last = items.at(-1);
    const nextPageToken =
      rows.length > size && last !== undefined ? pageTokens.encode(list, owner, keyOf(last)) : "";
    return { items, nextPageToken };
  };

  return {
    /**
     * Adds a contact. Idempotent: an existing contact is returned unchanged and nothing is
     * written (so nothing is announced).
     */
    async addContact(command: AddContactCommand): Promise<Contact> {
      const { userId, otherUserId } = pairOf(command);
      const nickname = checkNickname(command.nickname);
      return store.transaction(async (tx) => {
        await lockPair(tx, userId, otherUserId);
        if (await tx.blockedEitherWay(userId, otherUserId)) throw new BlockedBetweenUsers();
        const existing = await tx.findContact(userId, otherUserId);
        if (existing !== undefined) return existing;
        if ((await tx.countContacts(userId)) >= limits.maxContacts) {
          throw new ContactLimitReached(userId, limits.maxContacts);
        }
        return tx.insertContact({
          userId,
          contactUserId: otherUserId,
          nickname,
          isFavorite: command.isFavorite,
        });
      }, command.signal);
    },

    async updateContact(command: UpdateContactCommand): Promise<Contact> {
      const { userId, otherUserId } = pairOf(command);
      const nickname = command.nickname === undefined ? undefined : checkNickname(command.nickname);
      const updated = await store.transaction(
        (tx) => tx.updateContact(userId, otherUserId, { nickname, isFavorite: command.isFavorite }),
        command.signal,
      );
      if (updated === undefined) throw new NotAContact(userId, otherUserId);
      return updated;
    },

    /** Removes a contact; returns whether it was there (removing nothing is not an error). */
    async removeContact(command: PairCall): Promise<boolean> {
      const { userId, otherUserId } = pairOf(command);
      return store.transaction((tx) => tx.deleteContact(userId, otherUserId), command.signal);
    },

    /** A page of contacts, each with its profile as the viewer sees it (the owner, for a user). */
    async listContacts(request: ContactsRequest): Promise<Page<ListedContact>> {
      const viewer = viewerOf(request.caller, request.viewerUserId);
      const page = await pageOf(
        request,
        "contacts",
        (owner, after, limit) => store.listContacts(owner, after, limit, request.signal),
        (contact) => contact.contactUserId,
      );
      const ids = page.items.map((contact) => contact.contactUserId);
      const found =
        ids.length === 0
          ? []
          : (await profiles.batchGetProfileViews(ids, viewer, request.signal)).views;
      const byId = new Map(found.map((profile) => [profile.userId, profile]));
      return {
        items: page.items.map((contact) => ({
          ...contact,
          profile: byId.get(contact.contactUserId),
        })),
        nextPageToken: page.nextPageToken,
      };
    },

    /**
     * Blocks a user and removes the contacts between the two in both directions, in one
     * transaction. Idempotent: an existing block is returned unchanged.
     */
    async blockUser(command: BlockCommand): Promise<Block> {
      const { userId, otherUserId } = pairOf(command);
      const reason = checkReason(command.reason);
      return store.transaction(async (tx) => {
        await lockPair(tx, userId, otherUserId);
        const existing = await tx.findBlock(userId, otherUserId);
        if (existing !== undefined) return existing;
        if ((await tx.countBlocks(userId)) >= limits.maxBlocks) {
          throw new BlockLimitReached(userId, limits.maxBlocks);
        }
        const block = await tx.insertBlock({ userId, blockedUserId: otherUserId, reason });
        await tx.deleteContactsBetween(userId, otherUserId);
        return block;
      }, command.signal);
    },

    /** Lifts a block; returns whether it was there (lifting nothing is not an error). */
    async unblockUser(command: PairCall): Promise<boolean> {
      const { userId, otherUserId } = pairOf(command);
      return store.transaction((tx) => tx.deleteBlock(userId, otherUserId), command.signal);
    },

    async listBlockedUsers(request: PageRequest): Promise<Page<Block>> {
      return pageOf(
        request,
        "blocks",
        (owner, after, limit) => store.listBlocks(owner, after, limit, request.signal),
        (block) => block.blockedUserId,
      );
    },

    /**
     * How `user_id` stands to each distinct other id, in the order of first occurrence, in one
     * store query. A user asking about their own graph never learns who blocks them:
     * `blockedByOtherUser` is false in their answer.
     */
    async getRelationships(query: RelationshipsQuery): Promise<Relationship[]> {
      const userId = requireUserId(query.userId);
      const asSelf = parseUserId(query.caller.subject) === userId;
      const trusted =
        query.caller.scopes.has(PROFILE_ADMIN_SCOPE) || query.caller.scopes.has(SOCIAL_READ_SCOPE);
      if (!asSelf && !trusted) throw new NotGraphOwner();
      const otherUserIds = uniqueUserIds(query.otherUserIds, "other_user_ids");
      const stored =
        otherUserIds.length === 0
          ? []
          : await store.relationships(userId, otherUserIds, query.signal);
      const byId = new Map(stored.map((relationship) => [relationship.otherUserId, relationship]));
      return otherUserIds.map((otherUserId) => {
        const relationship = byId.get(otherUserId) ?? noRelationship(otherUserId);
        return trusted ? relationship : { ...relationship, blockedByOtherUser: false };
      });
    },
  };
}

/** The owner of the graph a call is about, once the caller may manage it. */
function ownGraph(call: GraphCall): UserId {
  const userId = requireUserId(call.userId);
  if (!mayChangeProfile(call.caller, userId)) throw new NotGraphOwner();
  return userId;
}

function noRelationship(otherUserId: UserId): Relationship {
  return {
    otherUserId,
    isContact: false,
    isContactOfOtherUser: false,
    blocksOtherUser: false,
    blockedByOtherUser: false,
  };
}
