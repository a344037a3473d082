import { create, fromBinary, fromJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  Audience,
  PrivacySettingsSchema,
} from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import {
  type PrivacySettingsChanged,
  PrivacySettingsChangedSchema,
  type ProfileCreated,
  ProfileCreatedSchema,
  type ProfileDeleted,
  ProfileDeletedSchema,
  type ProfileUpdated,
  ProfileUpdatedSchema,
} from "../../../gen/realchat/profile/v1/profile_events_pb.js";
import type { OutboxRow } from "../../db/tables/outbox.js";
import { profileFromRow } from "../../db/tables/profiles.js";
import { etagOf } from "../../profile/profile.js";
import { toProfileMessage } from "../../profile/rpc/message.js";
import type { UserId } from "../../profile/user-id.js";
import type { Audience as DomainAudience, PrivacySettings } from "../../profile/visibility.js";
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
        handle: row.profile.handle ?? null,
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

/** The subject of a user's PrivacySettingsChanged events. */
export const privacySubjectOf = (userId: string) => `profile.privacy.${userId}`;

const audienceMessages: Record<DomainAudience, Audience> = {
  everyone: Audience.EVERYONE,
  contacts: Audience.CONTACTS,
  nobody: Audience.NOBODY,
};

/** Builds the PrivacySettingsChanged a `privacy_changed` outbox row stands for. */
export function privacyEventFromOutboxRow(row: OutboxRow, encoding: EventEncoding): OutgoingEvent {
  const version = row.version ?? 0;
  const audience = (stored: string | undefined) =>
    audienceMessages[stored as DomainAudience] ?? Audience.EVERYONE;
  const message = create(PrivacySettingsChangedSchema, {
    eventId: row.event_id,
    occurredAt: timestampFromDate(row.occurred_at),
    settings: create(PrivacySettingsSchema, {
      userId: row.user_id,
      avatarAudience: audience(row.payload?.avatar_audience),
      bioAudience: audience(row.payload?.bio_audience),
      discoverableBy: audience(row.payload?.discoverable_by),
      etag: etagOf(version),
    }),
    version: BigInt(version),
  });
  return encodeEvent(
    privacySubjectOf(row.user_id),
    PrivacySettingsChangedSchema,
    message,
    encoding,
  );
}

/** The domain settings a PrivacySettingsChanged carries (events come from this service). */
export function privacySettingsFromEvent(event: PrivacySettingsChanged): PrivacySettings {
  const audience = (message: Audience | undefined): DomainAudience =>
    message === Audience.CONTACTS
      ? "contacts"
      : message === Audience.NOBODY
        ? "nobody"
        : "everyone";
  return {
    userId: (event.settings?.userId ?? "") as UserId,
    avatarAudience: audience(event.settings?.avatarAudience),
    bioAudience: audience(event.settings?.bioAudience),
    discoverableBy: audience(event.settings?.discoverableBy),
    version: Number(event.version),
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
): ProfileCreated | ProfileUpdated | ProfileDeleted | PrivacySettingsChanged {
  const schema = [
    ProfileCreatedSchema,
    ProfileUpdatedSchema,
    ProfileDeletedSchema,
    PrivacySettingsChangedSchema,
  ].find((candidate) => candidate.typeName === type);
  if (schema === undefined) throw new Error(`unknown event type ${JSON.stringify(type)}`);
  return contentType === "application/json"
    ? fromJsonString(schema, new TextDecoder().decode(data))
    : fromBinary(schema, data);
}
