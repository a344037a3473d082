import { type Timestamp, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Profile as ProfileMessage } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import type { Profile } from "../profile.js";
import type { UserId } from "../user-id.js";
import { isWithheld, type ProfileView } from "../visibility.js";

// How this service builds protobuf messages: `create(Schema, init)`, with timestamps from
// `timestampFromDate`, for every answer and event, except on the hot read path, the profiles and
// contacts that read answers are made of (this file, batch-answer.ts, search-handlers.ts,
// graph/rpc/contact-message.ts).
// These are literals of the generated type, `$typeName` included, and so are their timestamps
// (`timestampOf`): what `create()` returns, field for field, without its cost. A handler's answer
// that is already a message goes to the serializer as it is; `create()`, and `timestampFromDate`,
// which calls it, build the init object and then copy it into a new message, several times the
// cost of the literal for a page of profiles (bench/README.md). An init object without
// `$typeName` saves nothing: Connect runs it through `create()`. The type checker requires every
// field of a literal; tests/unit/profile-message.test.ts checks that both ways build one message.

/** The protobuf form of a profile, or of a viewer's view of one, as the API returns it and events carry it. */
export function toProfileMessage(profile: ProfileView): ProfileMessage {
  const withheld = isWithheld(profile);
  return {
    $typeName: "realchat.profile.v1.Profile",
    userId: profile.userId,
    displayName: profile.displayName,
    avatarUrl: profile.avatarUrl,
    bio: profile.bio,
    createdAt: timestampOf(profile.createdAt),
    // A withheld view has none: it would tell when a hidden field changed.
    updatedAt: withheld ? undefined : timestampOf(profile.updatedAt),
    etag: profile.etag,
    hiddenFields: withheld ? [...profile.hiddenFields] : [],
    handle: profile.handle,
  };
}

/** A date as a Timestamp message: what `timestampFromDate` builds, as a literal (see above). */
export function timestampOf(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return {
    $typeName: "google.protobuf.Timestamp",
    seconds: BigInt(seconds),
    nanos: (ms - seconds * 1000) * 1_000_000,
  };
}

/** What an event without a timestamp is read as; events of this service always have both. */
const EPOCH = timestampFromMs(0);

/**
 * The domain profile an event carries, at the event's `version`. The user id is taken as the
 * publisher wrote it: events come from instances of this service, which store canonical ids.
 */
export function profileFromMessage(message: ProfileMessage, version: number): Profile {
  return {
    userId: message.userId as UserId,
    displayName: message.displayName,
    avatarUrl: message.avatarUrl,
    bio: message.bio,
    handle: message.handle,
    createdAt: timestampDate(message.createdAt ?? EPOCH),
    updatedAt: timestampDate(message.updatedAt ?? EPOCH),
    version,
    etag: message.etag,
  };
}
