import { create, fromBinary, fromJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type ProfileCreated,
  ProfileCreatedSchema,
  type ProfileDeleted,
  ProfileDeletedSchema,
  type ProfileUpdated,
  ProfileUpdatedSchema,
} from "../../../gen/realchat/profile/v1/profile_events_pb.js";
import type { OutboxRow } from "../../db/tables/outbox.js";
import { profileFromRow } from "../../db/tables/profiles.js";
import { toProfileMessage } from "../../profile/rpc/message.js";
import { type EventEncoding, encodeEvent, type OutgoingEvent } from "./outbox-events.js";

/**
 * Builds the ProfileCreated, ProfileUpdated or ProfileDeleted event an outbox row stands for, on
 * `profile.<created|updated|deleted>.<user_id>`.
 */
export function profileEventFromOutboxRow(row: OutboxRow, encoding: EventEncoding): OutgoingEvent {
  const subject = `profile.${row.event_type}.${row.user_id}`;
  const eventId = row.event_id;
  const occurredAt = timestampFromDate(row.occurred_at);
  const version = BigInt(row.version ?? 0);
  if (row.event_type === "deleted" || row.profile === null) {
    const message = create(ProfileDeletedSchema, {
      eventId,
      occurredAt,
      userId: row.user_id,
      version,
    });
    return encodeEvent(subject, ProfileDeletedSchema, message, encoding);
  }
  const fields = {
    eventId,
    occurredAt,
    profile: toProfileMessage(
      profileFromRow({
        ...row.profile,
        created_at: new Date(row.profile.created_at),
        updated_at: new Date(row.profile.updated_at),
      }),
    ),
    changedFields: row.changed_fields,
    version,
  };
  return row.event_type === "created"
    ? encodeEvent(subject, ProfileCreatedSchema, create(ProfileCreatedSchema, fields), encoding)
    : encodeEvent(subject, ProfileUpdatedSchema, create(ProfileUpdatedSchema, fields), encoding);
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
): ProfileCreated | ProfileUpdated | ProfileDeleted {
  const schema = [ProfileCreatedSchema, ProfileUpdatedSchema, ProfileDeletedSchema].find(
    (candidate) => candidate.typeName === type,
  );
  if (schema === undefined) throw new Error(`unknown event type ${JSON.stringify(type)}`);
  return contentType === "application/json"
    ? fromJsonString(schema, new TextDecoder().decode(data))
    : fromBinary(schema, data);
}
