// ListContacts answers with each profile's stored encoding: the same bytes as the plain message.
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ListContactsResponseSchema } from "../../gen/realchat/profile/v1/social_graph_api_pb.js";
import { listContactsAnswer } from "../../src/graph/contact-message.js";
import type { ListedContact, Page } from "../../src/graph/social-graph-service.js";
import type { Profile } from "../../src/profile/profile.js";
import { toProfileMessage } from "../../src/profile/profile-message.js";
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
  const long: Profile = {
    ...profileAt(bob, 9),
    displayName: "Ünïcode 名前 👋",
    bio: "x".repeat(3000),
  };
  const cases: Array<[string, Page<ListedContact>]> = [
    [
      "contacts with profiles, one without, and a next page",
      {
        items: [
          contactOf(long, "Bé"),
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
    expect(answer.contacts.map((contact) => contact.profile)).toEqual(
      page.items.map(() => undefined),
    );
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
