import { fromBinary, fromJsonString } from "@bufbuild/protobuf";
import {
  type UserRegistered,
  UserRegisteredSchema,
} from "../../../gen/realchat/auth/v1/user_events_pb.js";

/** What provisioning needs from a registration event, or why the message can never be used. */
export type DecodedRegistration =
  | { readonly ok: true; readonly userId: string; readonly nameCandidates: string[] }
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
  const mediaType = (contentType ?? "application/json").split(";")[0]?.trim().toLowerCase() ?? "";
  let event: UserRegistered;
  try {
    if (protobufTypes.has(mediaType)) {
      event = fromBinary(UserRegisteredSchema, data);
    } else if (mediaType === "application/json") {
      event = fromJsonString(
        UserRegisteredSchema,
        new TextDecoder("utf-8", { fatal: true }).decode(data),
        {
          ignoreUnknownFields: true,
        },
      );
    } else {
      return { ok: false, reason: `unsupported content type ${mediaType}` };
    }
  } catch (error) {
    return { ok: false, reason: `undecodable ${mediaType}: ${(error as Error).message}` };
  }
  if (event.userId === "") return { ok: false, reason: "user_id missing" };
  const nameCandidates = [event.displayName, event.username].filter(
    (name): name is string => name !== undefined && name !== "",
  );
  return { ok: true, userId: event.userId, nameCandidates };
}
