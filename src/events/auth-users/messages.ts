import {
  type DescMessage,
  fromBinary,
  fromJsonString,
  type MessageShape,
} from "@bufbuild/protobuf";
import {
  UserDeletedSchema,
  UserRegisteredSchema,
} from "../../../gen/realchat/auth/v1/user_events_pb.js";

/** What provisioning needs from a registration event, or why the message can never be used. */
export type DecodedRegistration =
  | {
      readonly ok: true;
      readonly userId: string;
      readonly nameCandidates: string[];
      /** The username, which becomes the handle when it is a free, valid one. */
      readonly username: string | undefined;
    }
  | { readonly ok: false; readonly reason: string };

const protobufTypes = new Set(["application/protobuf", "application/x-protobuf"]);

/**
 * Decodes a `realchat.auth.v1.UserRegistered`, binary or proto3 JSON by Content-Type (JSON when
 * absent). Today's Auth publishes `{"user_id":"<uuid>"}` on `auth.user.created`: the same JSON
 * shape with fewer fields, so one decoder serves both subjects. Unknown JSON fields are ignored.
 */
export function decodeUserRegistered(
  data: Uint8Array,
  contentType: string | undefined,
): DecodedRegistration {
  const decoded = decodeAuthEvent(UserRegisteredSchema, data, contentType);
  if (!decoded.ok) return decoded;
  const event = decoded.event;
  if (event.userId === "") return { ok: false, reason: "user_id missing" };
  const nameCandidates = [event.displayName, event.username].filter(
    (name): name is string => name !== undefined && name !== "",
  );
  const username = event.username === "" ? undefined : event.username;
  return { ok: true, userId: event.userId, nameCandidates, username };
}

/** What account deletion needs from a UserDeleted event, or why the message can never be used. */
export type DecodedDeletion =
  | { readonly ok: true; readonly userId: string }
  | { readonly ok: false; readonly reason: string };

/** Decodes a `realchat.auth.v1.UserDeleted` (`auth.user.deleted`), as decodeUserRegistered. */
export function decodeUserDeleted(
  data: Uint8Array,
  contentType: string | undefined,
): DecodedDeletion {
  const decoded = decodeAuthEvent(UserDeletedSchema, data, contentType);
  if (!decoded.ok) return decoded;
  if (decoded.event.userId === "") return { ok: false, reason: "user_id missing" };
  return { ok: true, userId: decoded.event.userId };
}

/** An Auth event, binary protobuf or proto3 JSON by Content-Type (JSON when absent). */
function decodeAuthEvent<Desc extends DescMessage>(
  schema: Desc,
  data: Uint8Array,
  contentType: string | undefined,
):
  | { readonly ok: true; readonly event: MessageShape<Desc> }
  | { readonly ok: false; readonly reason: string } {
  const mediaType = (contentType ?? "application/json").split(";")[0]?.trim().toLowerCase() ?? "";
  try {
    if (protobufTypes.has(mediaType)) return { ok: true, event: fromBinary(schema, data) };
    if (mediaType === "application/json") {
      const text = new TextDecoder("utf-8", { fatal: true }).decode(data);
      return { ok: true, event: fromJsonString(schema, text, { ignoreUnknownFields: true }) };
    }
    return { ok: false, reason: `unsupported content type ${mediaType}` };
  } catch (error) {
    return { ok: false, reason: `undecodable ${mediaType}: ${(error as Error).message}` };
  }
}
