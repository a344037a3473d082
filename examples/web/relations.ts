// Your contacts and blocks as the service lists them, each with the profile you see.
import type { Profile } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { graphApi, profileApi } from "./session.js";

/** Users by id, each with their profile as you see it (`undefined`: none). */
export type People = Map<string, Profile | undefined>;

/** Every page of a listing: `page(token)` returns its items and the next token. */
async function allPages<T>(page: (token: string) => Promise<[T[], string]>): Promise<T[]> {
  const all: T[] = [];
  let token = "";
  do {
    const [items, next] = await page(token);
    all.push(...items);
    token = next;
  } while (token !== "");
  return all;
}

/**
 * The contacts of `userId` (ListContacts, which carries their profiles) and the users they block
 * (ListBlockedUsers, then BatchGetProfiles for their cards, 1000 ids a call).
 */
export async function listRelations(
  userId: string,
): Promise<{ contacts: People; blocked: People }> {
  const [contactList, blockList] = await Promise.all([
    allPages(async (pageToken) => {
      const page = await graphApi().listContacts({ userId, pageToken, pageSize: 500 });
      return [page.contacts, page.nextPageToken];
    }),
    allPages(async (pageToken) => {
      const page = await graphApi().listBlockedUsers({ userId, pageToken, pageSize: 500 });
      return [page.blocks, page.nextPageToken];
    }),
  ]);
  const contacts: People = new Map(
    contactList.map((contact) => [contact.contactUserId, contact.profile]),
  );
  const blocked: People = new Map(blockList.map((block) => [block.blockedUserId, undefined]));
  const blockedIds = [...blocked.keys()];
  for (let start = 0; start < blockedIds.length; start += 1000) {
    const batch = await profileApi().batchGetProfiles({
      userIds: blockedIds.slice(start, start + 1000),
    });
    for (const profile of batch.profiles) blocked.set(profile.userId, profile);
  }
  return { contacts, blocked };
}
