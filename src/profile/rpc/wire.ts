import { toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { HandlerContext } from "@connectrpc/connect";
import {
  type BatchGetProfilesResponse,
  ProfileSchema,
} from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import type { Profile } from "../profile.js";
import { isWithheld, type ProfileView, sourceOf } from "../visibility.js";
import { toProfileMessage } from "./message.js";

// Batch answers on the binary protocols are assembled from each profile's stored encoding
// instead of being encoded message by message: a cached profile is encoded once per version.

/** `profiles` is field 1 of BatchGetProfilesResponse, `missing_user_ids` field 2. */
const PROFILES_FIELD = 1;
const MISSING_USER_IDS_FIELD = 2;

/**
 * Each profile or view object's encoding as a length-delimited field value (its length, its
 * bytes). A withheld view of a cached profile lives as long as that profile (visibility.ts), and
 * so does its encoding: at most one per way the profile is withheld.
 */
const encodedEntries = new WeakMap<ProfileView, Uint8Array>();

/** A profile's protobuf encoding, length-prefixed; kept for as long as the profile object lives. */
export function encodedProfileEntry(profile: ProfileView): Uint8Array {
  let entry = encodedEntries.get(profile);
  if (entry === undefined) {
    entry = new BinaryWriter().bytes(toBinary(ProfileSchema, toProfileMessage(profile))).finish();
    encodedEntries.set(profile, entry);
  }
  return entry;
}

/**
 * A profile object's encoding if it has one already (a cached profile has: the cache weighs it),
 * else undefined. For a profile read for one answer only, encoding it apart and copying the
 * bytes costs twice what encoding it inside the answer does.
 */
export function storedProfileEntry(profile: ProfileView): Uint8Array | undefined {
  const stored = encodedEntries.get(profile);
  if (stored !== undefined || !isWithheld(profile)) return stored;
  // A view of a profile that has an encoding (a cached one) is encoded once, and kept with it.
  return encodedEntries.has(sourceOf(profile)) ? encodedProfileEntry(profile) : undefined;
}

/**
 * What a cached profile costs, for the cache's byte budget: its encoding (kept above), the
 * profile object's strings (about as long again), and a fixed share for the objects around them
 * (the profile, its dates, the encoding's array, the cache's and the WeakMap's entries). Weighing
 * also encodes it, off the answer's path. Measured with `--expose-gc` over 100,000 profiles of
 * 164 encoded bytes: 1,027 bytes retained each, weighed 1,092 (bench/README.md also compares the
 * budget with the RSS a full cache really takes).
 */
export function cachedProfileWeight(profile: Profile): number {
  return 3 * encodedProfileEntry(profile).byteLength + 600;
}

/**
 * The answer to BatchGetProfiles. On the binary protocols, when every profile has a stored
 * encoding (as cached ones do), its fields are pre-encoded unknown fields, in the order the
 * generated encoder writes them (every profile, then every missing id), which the serializer
 * copies as they are: the bytes are those of the plain message. Otherwise (JSON has no unknown
 * fields; profiles read for this answer only are cheaper to encode inside it) it is a plain
 * message.
 */
export function batchGetProfilesAnswer(
  profiles: readonly ProfileView[],
  missingUserIds: readonly string[],
  binary: boolean,
): BatchGetProfilesResponse {
  // A literal, as the hot read path builds its messages (message.ts).
  const answer: BatchGetProfilesResponse = {
    $typeName: "realchat.profile.v1.BatchGetProfilesResponse",
    profiles: [],
    missingUserIds: [],
  };
  const entries = binary ? storedEntries(profiles) : undefined;
  if (entries === undefined) {
    answer.profiles = profiles.map(toProfileMessage);
    answer.missingUserIds = [...missingUserIds];
    return answer;
  }
  const fields = entries.map((data) => ({
    no: PROFILES_FIELD,
    wireType: WireType.LengthDelimited,
    data,
  }));
  for (const userId of missingUserIds) {
    const data = new BinaryWriter().string(userId).finish();
    fields.push({ no: MISSING_USER_IDS_FIELD, wireType: WireType.LengthDelimited, data });
  }
  answer.$unknown = fields;
  return answer;
}

/** The stored encoding of every profile, or undefined when one has none. */
function storedEntries(profiles: readonly ProfileView[]): Uint8Array[] | undefined {
  const entries: Uint8Array[] = [];
  for (const profile of profiles) {
    const entry = storedProfileEntry(profile);
    if (entry === undefined) return undefined;
    entries.push(entry);
  }
  return entries;
}

/**
 * Whether the call's messages are protobuf binary rather than JSON: from the content type
 * (`application/grpc`, `application/proto`, `application/connect+proto`, `…+json`), or for a
 * Connect GET, which has none, from its `encoding` query parameter.
 */
export function answersInBinary(context: Pick<HandlerContext, "requestHeader" | "url">): boolean {
  const contentType = context.requestHeader.get("content-type");
  if (contentType !== null) return !contentType.toLowerCase().includes("json");
  return new URL(context.url, "http://localhost").searchParams.get("encoding") === "proto";
}
