import { fromBinary } from "@bufbuild/protobuf";
import {
  GetProfileRequestSchema,
  ProfileSchema,
  UpdateProfileRequestSchema,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { connect, grpcMessage, unaryCall } from "../harness/load.js";
import { latencySummary } from "../harness/stats.js";

const api = "/realchat.profile.v1.ProfileApi";

/** Cross-instance visibility: update on one instance, read on another until it shows. */
export interface VisibilitySpec {
  /** The instance that takes the updates (A). */
  readonly writer: string;
  /** The instance read until the new version appears (B). */
  readonly reader: string;
  readonly headers: Readonly<Record<string, string>>;
  /** One update each, in turn. */
  readonly userIds: readonly string[];
  /** How long B may take to show an update before it counts as a timeout. */
  readonly timeoutMs: number;
}

export interface VisibilityResult {
  readonly updates: number;
  /** Updates B did not show within the timeout; they count as `timeoutMs` in the percentiles. */
  readonly timeouts: number;
  /** Calls that did not answer OK: wrong, not slow. */
  readonly errors: number;
  /** From A's answer to B's first answer with the new version, in ms. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /**
   * Reads of B per update until it showed the new version: 1 when B's first read after A's
   * answer already had it (the event had arrived, or B read the database).
   */
  readonly readsPerUpdate: number;
}

/**
 * For each id: B reads the profile (so that B holds it, in its cache when it has one), A updates
 * it with a value of its own, then B is read in a loop until it answers A's version or newer.
 */
export async function measureVisibility(spec: VisibilitySpec): Promise<VisibilityResult> {
  const [writer, reader] = await Promise.all([connect(spec.writer), connect(spec.reader)]);
  // Each call is bounded by its gRPC deadline as well as by the loop's.
  const headers = { ...spec.headers, "grpc-timeout": `${spec.timeoutMs}m` };
  const options = { timeoutMs: spec.timeoutMs, keepAnswer: true };
  const tag = Date.now().toString(36);
  const delays: number[] = [];
  let timeouts = 0;
  let errors = 0;
  let reads = 0;
  try {
    for (const [i, userId] of spec.userIds.entries()) {
      const read = grpcMessage(GetProfileRequestSchema, { userId });
      const readOnB = async () => {
        const answer = await unaryCall(reader, `${api}/GetProfile`, headers, read, options);
        return answer.ok ? versionOf(answer.message) : undefined;
      };
      if ((await readOnB()) === undefined) {
        errors += 1;
        continue;
      }
      const update = await unaryCall(
        writer,
        `${api}/UpdateProfile`,
        headers,
        grpcMessage(UpdateProfileRequestSchema, { userId, bio: `visibility ${tag}.${i}` }),
        options,
      );
      const answeredAt = performance.now();
      if (!update.ok) {
        errors += 1;
        continue;
      }
      const wanted = versionOf(update.message);
      let version: number | undefined;
      do {
        reads += 1;
        version = await readOnB();
      } while (
        version !== undefined &&
        version < wanted &&
        performance.now() - answeredAt < spec.timeoutMs
      );
      if (version === undefined) errors += 1;
      else if (version < wanted) {
        timeouts += 1;
        delays.push(spec.timeoutMs);
      } else delays.push(performance.now() - answeredAt);
    }
  } finally {
    writer.close();
    reader.close();
  }
  const { p50, p99, max } = latencySummary(delays);
  const readsPerUpdate = Math.round((reads / Math.max(1, delays.length)) * 100) / 100;
  return { updates: spec.userIds.length, timeouts, errors, p50, p99, max, readsPerUpdate };
}

/** The version in a Profile answer's etag (`v<version>`). */
function versionOf(profile: Buffer): number {
  const { etag } = fromBinary(ProfileSchema, profile);
  const version = Number(/^v(\d+)$/.exec(etag)?.[1]);
  if (!Number.isInteger(version)) throw new Error(`unexpected etag ${JSON.stringify(etag)}`);
  return version;
}
