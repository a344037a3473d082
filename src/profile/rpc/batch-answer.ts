import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { BatchGetProfilesResponse } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import type { ProfileView } from "../visibility.js";
import { toProfileMessage } from "./message.js";
import { storedProfileEntry } from "./stored-encoding.js";

// Batch answers on the binary protocols are assembled from each profile's stored encoding
// instead of being encoded message by message: a cached profile is encoded once per version.

/** `profiles` is field 1 of BatchGetProfilesResponse, `missing_user_ids` field 2. */
const PROFILES_FIELD = 1;
const MISSING_USER_IDS_FIELD = 2;

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
