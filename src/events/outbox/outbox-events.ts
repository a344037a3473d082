import { type DescMessage, type MessageShape, toBinary, toJsonString } from "@bufbuild/protobuf";
import type { OutboxRow } from "../../db/tables/outbox.js";
import { privacyEventFromOutboxRow, profileEventFromOutboxRow } from "./profile-events.js";
import { socialGraphEventFromOutboxRow } from "./social-graph-events.js";

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
  /** The W3C traceparent of the call that caused the event, for the `traceparent` header. */
  readonly traceparent?: string;
}

/**
 * Builds the event an outbox row stands for: a profile, privacy or social graph event, with the
 * trace of the call that caused it.
 */
export function eventFromOutboxRow(row: OutboxRow, encoding: EventEncoding): OutgoingEvent {
  const event = eventOfType(row, encoding);
  return row.traceparent === null ? event : { ...event, traceparent: row.traceparent };
}

function eventOfType(row: OutboxRow, encoding: EventEncoding): OutgoingEvent {
  switch (row.event_type) {
    case "created":
    case "updated":
    case "deleted":
      return profileEventFromOutboxRow(row, encoding);
    case "privacy_changed":
      return privacyEventFromOutboxRow(row, encoding);
    default:
      return socialGraphEventFromOutboxRow(row, encoding);
  }
}

/** `message` on `subject`, binary or proto3 JSON. */
export function encodeEvent<Desc extends DescMessage>(
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
