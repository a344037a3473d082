import { toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import type { HandlerContext } from "@connectrpc/connect";
import { ProfileSchema } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import type { Profile } from "../profile.js";
import { isWithheld, type ProfileView, sourceOf } from "../visibility.js";
import { toProfileMessage } from "./message.js";

// Each cached profile (and each withheld view of one) is encoded once per version and the bytes
// kept beside it; answers on the binary protocols copy them instead of encoding again
// (batch-answer.ts, graph/rpc/contact-message.ts).

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
 * also encodes it, off the answer's path. The factors come from a heap measurement, and
 * bench/README.md compares the budget with the RSS a full cache really takes.
 */
export function cachedProfileWeight(profile: Profile): number {
  return 3 * encodedProfileEntry(profile).byteLength + 600;
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
