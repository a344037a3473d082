import { WireType } from "@bufbuild/protobuf/wire";
import type {
  Contact as ContactMessage,
  ListContactsResponse,
} from "../../gen/realchat/profile/v1/social_graph_api_pb.js";
import { timestampOf, toProfileMessage } from "../profile/profile-message.js";
import { encodedProfileEntry } from "../profile/profile-wire.js";
import type { Contact } from "./social-graph.js";
import type { ListedContact, Page } from "./social-graph-service.js";

/**
 * `profile` is field 7 of Contact, its last: written as an unknown field, it lands where the
 * generated encoder would put it.
 */
const CONTACT_PROFILE_FIELD = 7;

/**
 * A contact as a plain object of the generated type, as toProfileMessage builds profiles, rather
 * than with `create()` and `timestampFromDate()` and their generic initialization. On the
 * binary protocols a listed contact's profile is its stored encoding (profile-wire.ts), as in
 * BatchGetProfiles: a profile served by the cache is encoded once per version, not once per
 * call; the answer's bytes are those of the plain message.
 */
export function toContactMessage(contact: Contact | ListedContact, binary = false): ContactMessage {
  const profile = "profile" in contact ? contact.profile : undefined;
  const message: ContactMessage = {
    $typeName: "realchat.profile.v1.Contact",
    userId: contact.userId,
    contactUserId: contact.contactUserId,
    nickname: contact.nickname,
    isFavorite: contact.isFavorite,
    createdAt: timestampOf(contact.createdAt),
    updatedAt: timestampOf(contact.updatedAt),
    profile: profile === undefined || binary ? undefined : toProfileMessage(profile),
  };
  if (profile !== undefined && binary) {
    message.$unknown = [
      {
        no: CONTACT_PROFILE_FIELD,
        wireType: WireType.LengthDelimited,
        data: encodedProfileEntry(profile),
      },
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
