import { WireType } from "@bufbuild/protobuf/wire";
import type {
  Contact as ContactMessage,
  ListContactsResponse,
} from "../../../gen/realchat/profile/v1/social_graph_api_pb.js";
import { timestampOf, toProfileMessage } from "../../profile/rpc/message.js";
import { storedProfileEntry } from "../../profile/rpc/stored-encoding.js";
import type { ListedContact, Page } from "../service.js";
import type { Contact } from "../social-graph.js";

/**
 * `profile` is field 7 of Contact, its last: written as an unknown field, it lands where the
 * generated encoder would put it.
 */
const CONTACT_PROFILE_FIELD = 7;

/**
 * A contact as a literal of the generated type, as the hot read path builds its messages
 * (profile/rpc/message.ts). On the binary protocols a listed contact's profile that has a stored
 * encoding (one the cache served, profile/rpc/stored-encoding.ts) is sent as those bytes: encoded once per
 * version rather than once per call, which halves the cost of a page of 100 (bench/README.md,
 * "Social graph"). A profile read from the database for this answer alone is encoded with it.
 * The bytes are those of the plain message either way.
 */
export function toContactMessage(contact: Contact | ListedContact, binary = false): ContactMessage {
  const profile = "profile" in contact ? contact.profile : undefined;
  const stored = profile !== undefined && binary ? storedProfileEntry(profile) : undefined;
  const message: ContactMessage = {
    $typeName: "realchat.profile.v1.Contact",
    userId: contact.userId,
    contactUserId: contact.contactUserId,
    nickname: contact.nickname,
    isFavorite: contact.isFavorite,
    createdAt: timestampOf(contact.createdAt),
    updatedAt: timestampOf(contact.updatedAt),
    profile: profile === undefined || stored !== undefined ? undefined : toProfileMessage(profile),
  };
  if (stored !== undefined) {
    message.$unknown = [
      { no: CONTACT_PROFILE_FIELD, wireType: WireType.LengthDelimited, data: stored },
    ];
  }
  return message;
}

/** The answer to ListContacts; `binary` as for toContactMessage. */
export function listContactsAnswer(
  page: Page<ListedContact>,
  binary: boolean,
): ListContactsResponse {
  return {
    $typeName: "realchat.profile.v1.ListContactsResponse",
    contacts: page.items.map((contact) => toContactMessage(contact, binary)),
    nextPageToken: page.nextPageToken,
  };
}
