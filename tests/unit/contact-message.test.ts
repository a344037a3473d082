// ListContacts answers with the stored encodings of cached profiles: the same bytes as the plain
// message.
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ListContactsResponseSchema } from "../../gen/realchat/profile/v1/social_graph_api_pb.js";
import { listContactsAnswer } from "../../src/graph/rpc/contact-message.js";
import type { ListedContact, Page } from "../../src/graph/service.js";
import type { Profile } from "../../src/profile/profile.js";
import { toProfileMessage } from "../../src/profile/rpc/message.js";
import { encodedProfileEntry } from "../../src/profile/rpc/stored-encoding.js";
import { alice, bob, profileAt } from "./support/profiles.js";

/** The answer built the plain way, with `create()` and `timestampFromDate()`. */
function plainAnswer(page: Page<ListedContact>) {
  return create(ListContactsResponseSchema, {
    contacts: page.items.map((contact) => ({
      userId: contact.userId,
      contactUserId: contact.contactUserId,
      nickname: contact.nickname,
      isFavorite: contact.isFavorite,
      createdAt: timestampFromDate(contact.createdAt),
      updatedAt: timestampFromDate(contact.updatedAt),
      profile: contact.profile === undefined ? undefined : toProfileMessage(contact.profile),
    })),
    nextPageToken: page.nextPageToken,
  });
}

const contactOf = (profile: Profile | undefined, nickname: string): ListedContact => ({
  userId: alice,
  contactUserId: profile?.userId ?? bob,
  nickname,
  isFavorite: nickname !== "",
  createdAt: new Date(Date.UTC(2026, 10, 30, 12, 0, 0, 123)),
  updatedAt: new Date(Date.UTC(2026, 11, 1)),
  profile,
});

describe("ListContacts answers", () => {
  /** As the cache leaves a profile it holds: with its encoding stored. */
  const cached: Profile = {
    ...profileAt(bob, 9),
    displayName: "Ünïcode 名前 👋",
    bio: "x".repeat(3000),
  };
  encodedProfileEntry(cached);
  const cases: Array<[string, Page<ListedContact>]> = [
    [
      "contacts with profiles, one without, and a next page",
      {
        items: [
          contactOf(cached, "Bé"),
          contactOf(undefined, ""),
          contactOf(profileAt(alice, 2), ""),
        ],
        nextPageToken: "next",
      },
    ],
    ["no contacts", { items: [], nextPageToken: "" }],
  ];

  it.each(cases)("are byte-identical to plain ones in binary: %s", (_, page) => {
    const answer = listContactsAnswer(page, true);
    const sentAsStored = answer.contacts.map((contact) => contact.$unknown !== undefined);
    expect(sentAsStored).toEqual(page.items.map((contact) => contact.profile === cached));
    expect(toBinary(ListContactsResponseSchema, answer)).toEqual(
      toBinary(ListContactsResponseSchema, plainAnswer(page)),
    );
  });

  it.each(cases)("are plain messages in JSON: %s", (_, page) => {
    expect(toJsonString(ListContactsResponseSchema, listContactsAnswer(page, false))).toBe(
      toJsonString(ListContactsResponseSchema, plainAnswer(page)),
    );
  });
});
