import {
  create,
  type DescMessage,
  fromBinary,
  fromJsonString,
  type MessageShape,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type ProfileCreated,
  ProfileCreatedSchema,
  type ProfileUpdated,
  ProfileUpdatedSchema,
} from "../../../gen/realchat/profile/v1/profile_events_pb.js";
import type { OutboxRow } from "../../db/schema.js";
import { toProfileMessage } from "../../profile/profile-message.js";
import { profileFromRow } from "../../profile/profile-repository.js";

/** How events are encoded on the wire (`EVENTS_ENCODING`). */
export type EventEncoding = "protobuf" | "json";

/** One event ready to publish. */
export interface OutgoingEvent {
  readonly subject: string;
  readonly eventId: string;
  /** Full protobuf message name, for the `Realchat-Event-Type` header. */
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
}

/** Builds the ProfileCreated or ProfileUpdated event an outbox row stands for. */
export function eventFromOutboxRow(row: OutboxRow, encoding: EventEncoding): OutgoingEvent {
  const fields = {
    eventId: row.event_id,
    occurredAt: timestampFromDate(row.occurred_at),
    profile: toProfileMessage(
      profileFromRow({
        ...row.profile,
        created_at: new Date(row.profile.created_at),
        updated_at: new Date(row.profile.updated_at),
      }),
    ),
    changedFields: row.changed_fields,
    version: BigInt(row.version),
  };
  const subject = `profile.${row.event_type}.${row.user_id}`;
  return row.event_type === "created"
    ? encode(subject, ProfileCreatedSchema, create(ProfileCreatedSchema, fields), encoding)
    : encode(subject, ProfileUpdatedSchema, create(ProfileUpdatedSchema, fields), encoding);
}

function encode<Desc extends DescMessage>(
  subject: string,
  schema: Desc,
  message: MessageShape<Desc> & { eventId: string },
  encoding: EventEncoding,
): OutgoingEvent {
  return {
    subject,
    eventId: message.eventId,
    type: schema.typeName,
    contentType: encoding === "json" ? "application/json" : "application/protobuf",
    data:
      encoding === "json"
        ? new TextEncoder().encode(toJsonString(schema, message))
        : toBinary(schema, message),
  };
}

/**
 * Decodes a published profile event from its headers and payload, as a consumer would.
 *
 * @throws Error for an unknown event type or a payload that does not decode.
 */
export function decodeProfileEvent(
  type: string,
  contentType: string,
  data: Uint8Array,
): ProfileCreated | ProfileUpdated {
  const schema =
    type === ProfileCreatedSchema.typeName
      ? ProfileCreatedSchema
      : type === ProfileUpdatedSchema.typeName
        ? ProfileUpdatedSchema
        : undefined;
  if (schema === undefined) throw new Error(`unknown event type ${JSON.stringify(type)}`);
  return contentType === "application/json"
    ? fromJsonString(schema, new TextDecoder().decode(data))
    : fromBinary(schema, data);
}
