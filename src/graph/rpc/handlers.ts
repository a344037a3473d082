import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  type Block as BlockMessage,
  BlockSchema,
  GetRelationshipsResponseSchema,
  ListBlockedUsersResponseSchema,
  RemoveContactResponseSchema,
  type SocialGraphApi,
  UnblockUserResponseSchema,
} from "../../../gen/realchat/profile/v1/social_graph_api_pb.js";
import { callerOf } from "../../auth/caller-context.js";
import { answersInBinary } from "../../profile/rpc/stored-encoding.js";
import type { SocialGraphService } from "../service.js";
import type { Block } from "../social-graph.js";
import { listContactsAnswer, toContactMessage } from "./contact-message.js";

/** Translates SocialGraphApi calls between protobuf messages and the social graph service. */
export function createSocialGraphApiHandlers(
  service: SocialGraphService,
): ServiceImpl<typeof SocialGraphApi> {
  const pair = (request: { userId: string; otherUserId: string }, context: HandlerContext) => ({
    caller: callerOf(context),
    userId: request.userId,
    otherUserId: request.otherUserId,
    signal: context.signal,
  });
  const pageRequest = (
    request: { userId: string; pageSize: number; pageToken: string },
    context: HandlerContext,
  ) => ({
    caller: callerOf(context),
    userId: request.userId,
    pageSize: request.pageSize,
    pageToken: request.pageToken,
    signal: context.signal,
  });
  return {
    async addContact(request, context) {
      const contact = await service.addContact({
        ...pair(request, context),
        nickname: request.nickname,
        isFavorite: request.isFavorite,
      });
      return toContactMessage(contact);
    },

    async updateContact(request, context) {
      const contact = await service.updateContact({
        ...pair(request, context),
        nickname: request.nickname,
        isFavorite: request.isFavorite,
      });
      return toContactMessage(contact);
    },

    async removeContact(request, context) {
      const removed = await service.removeContact(pair(request, context));
      return create(RemoveContactResponseSchema, { removed });
    },

    async listContacts(request, context) {
      const page = await service.listContacts({
        ...pageRequest(request, context),
        viewerUserId: request.viewerUserId,
      });
      return listContactsAnswer(page, answersInBinary(context));
    },

    async blockUser(request, context) {
      const block = await service.blockUser({ ...pair(request, context), reason: request.reason });
      return toBlockMessage(block);
    },

    async unblockUser(request, context) {
      const unblocked = await service.unblockUser(pair(request, context));
      return create(UnblockUserResponseSchema, { unblocked });
    },

    async listBlockedUsers(request, context) {
      const page = await service.listBlockedUsers(pageRequest(request, context));
      return create(ListBlockedUsersResponseSchema, {
        blocks: page.items.map(toBlockMessage),
        nextPageToken: page.nextPageToken,
      });
    },

    async getRelationships(request, context) {
      const relationships = await service.getRelationships({
        caller: callerOf(context),
        userId: request.userId,
        otherUserIds: request.otherUserIds,
        signal: context.signal,
      });
      return create(GetRelationshipsResponseSchema, {
        relationships: relationships.map((relationship) => ({
          otherUserId: relationship.otherUserId,
          isContact: relationship.isContact,
          isContactOfOtherUser: relationship.isContactOfOtherUser,
          blocksOtherUser: relationship.blocksOtherUser,
          blockedByOtherUser: relationship.blockedByOtherUser,
        })),
      });
    },
  };
}

function toBlockMessage(block: Block): BlockMessage {
  return create(BlockSchema, {
    userId: block.userId,
    blockedUserId: block.blockedUserId,
    reason: block.reason,
    createdAt: timestampFromDate(block.createdAt),
  });
}
