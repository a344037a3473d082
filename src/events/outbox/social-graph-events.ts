import { create, fromBinary, fromJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type ContactAdded,
  ContactAddedSchema,
  type ContactRemoved,
  ContactRemovedSchema,
  type UserBlocked,
  UserBlockedSchema,
  type UserUnblocked,
  UserUnblockedSchema,
} from "../../../gen/realchat/profile/v1/social_graph_events_pb.js";
import type { OutboxRow } from "../../db/tables/outbox.js";
import { type EventEncoding, encodeEvent, type OutgoingEvent } from "./outbox-events.js";

/** The subject prefix of each graph event; the owner's user id follows (`social.contact.added.<id>`). */
export const socialGraphSubjects = {
  contact_added: "social.contact.added",
  contact_removed: "social.contact.removed",
  user_blocked: "social.user.blocked",
  user_unblocked: "social.user.unblocked",
} as const;

/**
 * Builds the ContactAdded, ContactRemoved, UserBlocked or UserUnblocked event a graph outbox row
 * (written by the triggers on `contacts` and `blocks`) stands for.
 *
 * @throws Error for a row that is no graph event.
 */
export function socialGraphEventFromOutboxRow(
  row: OutboxRow,
  encoding: EventEncoding,
): OutgoingEvent {
  const common = {
    eventId: row.event_id,
    occurredAt: timestampFromDate(row.occurred_at),
    userId: row.user_id,
  };
  const payload = row.payload ?? {};
  switch (row.event_type) {
    case "contact_added": {
      const message = create(ContactAddedSchema, {
        ...common,
        contactUserId: payload.contact_user_id ?? "",
        nickname: payload.nickname ?? "",
        isFavorite: payload.is_favorite ?? false,
      });
      return encodeEvent(subjectOf(row, row.event_type), ContactAddedSchema, message, encoding);
    }
    case "contact_removed": {
      const message = create(ContactRemovedSchema, {
        ...common,
        contactUserId: payload.contact_user_id ?? "",
      });
      return encodeEvent(subjectOf(row, row.event_type), ContactRemovedSchema, message, encoding);
    }
    case "user_blocked": {
      const message = create(UserBlockedSchema, {
        ...common,
        blockedUserId: payload.blocked_user_id ?? "",
      });
      return encodeEvent(subjectOf(row, row.event_type), UserBlockedSchema, message, encoding);
    }
    case "user_unblocked": {
      const message = create(UserUnblockedSchema, {
        ...common,
        blockedUserId: payload.blocked_user_id ?? "",
      });
      return encodeEvent(subjectOf(row, row.event_type), UserUnblockedSchema, message, encoding);
    }
    default:
      throw new Error(`outbox row ${row.id} of type ${row.event_type} is no social graph event`);
  }
}

function subjectOf(row: OutboxRow, type: keyof typeof socialGraphSubjects): string {
  return `${socialGraphSubjects[type]}.${row.user_id}`;
}

export type SocialGraphEvent = ContactAdded | ContactRemoved | UserBlocked | UserUnblocked;

/**
 * Decodes a published social graph event from its headers and payload, as a consumer would.
 *
 * @throws Error for an unknown event type or a payload that does not decode.
 */
export function decodeSocialGraphEvent(
  type: string,
  contentType: string,
  data: Uint8Array,
): SocialGraphEvent {
  const schema = [
    ContactAddedSchema,
    ContactRemovedSchema,
    UserBlockedSchema,
    UserUnblockedSchema,
  ].find((candidate) => candidate.typeName === type);
  if (schema === undefined) throw new Error(`unknown event type ${JSON.stringify(type)}`);
  return contentType === "application/json"
    ? fromJsonString(schema, new TextDecoder().decode(data))
    : fromBinary(schema, data);
}
