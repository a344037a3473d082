// The soak's legitimate load: a fixed rate of 80 % BatchGetProfiles(100), 15 % GetProfile and 5 %
// UpdateProfile over gRPC, each caller with a user token of its own, recording every call. Calls
// go out as raw HTTP/2 streams (as bench/harness/load.ts sends them) so that the load generator, which
// shares the cores with the service, spends nothing on decoding the answers it does not check.
import { fromBinary } from "@bufbuild/protobuf";
import {
  BatchGetProfilesRequestSchema,
  GetProfileRequestSchema,
  ProfileSchema,
  UpdateProfileRequestSchema,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { atFixedRate, grpcMessage } from "../harness/load.js";
import { createSessionPool, rawCall, requestHeaders } from "./wire.js";

/** One legitimate call: when it was due and answered (performance.now()), and its outcome. */
export interface CallRecord {
  readonly procedure: "BatchGetProfiles" | "GetProfile" | "UpdateProfile";
  readonly dueAt: number;
  readonly endAt: number;
  /** "OK" or a gRPC code name. */
  readonly code: string;
}

/** One UpdateProfile the load sent, in send order per user, with its outcome. */
export interface SentUpdate {
  readonly userId: string;
  readonly bio: string;
  readonly code: string;
  /** The version the acknowledgement's etag names (acknowledged updates only). */
  readonly version?: number;
}

export interface LoadOptions {
  readonly origin: string;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly profiles: number;
  /** Users 1..writers are updated, each by one writer: at most one update in flight per user. */
  readonly writers: number;
  /** The n-th seeded profile id, 1-based. */
  seededId(n: number): string;
  /** Tokens of users 1..writers, index 0 for user 1. */
  readonly tokens: readonly string[];
}

/** What a caller waits at most, as the service's own REQUEST_TIMEOUT_MS default. */
const CALL_TIMEOUT_MS = 10_000;

/**
 * Runs the load to its end; every call is recorded, every update in send order per user. A call
 * carries a 10 s deadline; one without an answer 2 s after it is DEADLINE_EXCEEDED, one the server
 * reset without a status RESET_<code>.
 */
export async function runLegitimateLoad(options: LoadOptions) {
  const pools = [createSessionPool(options.origin), createSessionPool(options.origin)] as const;
  const calls: CallRecord[] = [];
  const updates: SentUpdate[] = [];
  const messages = new Map<string, string>();
  const updating = new Set<number>();
  let nextWriter = 0;
  const random = (max: number) => 1 + Math.floor(Math.random() * max);
  const tokenOf = (n: number) => options.tokens[(n - 1) % options.tokens.length] ?? "";

  /** The next user with no update in flight, round robin; undefined if all are busy. */
  const freeWriter = () => {
    for (let tries = 0; tries < options.writers; tries++) {
      nextWriter = (nextWriter % options.writers) + 1;
      if (!updating.has(nextWriter)) return nextWriter;
    }
    return undefined;
  };
  const call = async (
    n: number,
    procedure: CallRecord["procedure"],
    user: number,
    body: Buffer,
  ) => {
    const answer = await rawCall(
      pools[n % 2 === 0 ? 0 : 1].get(),
      requestHeaders("grpc", `/realchat.profile.v1.ProfileApi/${procedure}`, tokenOf(user), {
        "grpc-timeout": `${CALL_TIMEOUT_MS}m`,
      }),
      body,
      { waitMs: CALL_TIMEOUT_MS + 2000 },
    );
    const code = answer.code === "NO_ANSWER" ? "DEADLINE_EXCEEDED" : answer.code;
    if (code !== "OK" && !messages.has(code)) messages.set(code, answer.message);
    return { code, body: answer.body };
  };

  await atFixedRate(options.ratePerSecond, options.durationMs, async (n, dueAt) => {
    const slot = n % 20;
    const writer = slot === 0 ? freeWriter() : undefined;
    if (writer !== undefined) {
      updating.add(writer);
      const userId = options.seededId(writer);
      const bio = `soak ${writer} ${n}`;
      const { code, body } = await call(
        n,
        "UpdateProfile",
        writer,
        grpcMessage(UpdateProfileRequestSchema, { userId, bio }),
      );
      updating.delete(writer);
      const version =
        code === "OK"
          ? Number(fromBinary(ProfileSchema, body.subarray(5)).etag.slice(1))
          : undefined;
      updates.push({ userId, bio, code, ...(version === undefined ? {} : { version }) });
      calls.push({ procedure: "UpdateProfile", dueAt, endAt: performance.now(), code });
    } else if (slot <= 3) {
      const userId = options.seededId(random(options.profiles));
      const { code } = await call(
        n,
        "GetProfile",
        random(options.writers),
        grpcMessage(GetProfileRequestSchema, { userId }),
      );
      calls.push({ procedure: "GetProfile", dueAt, endAt: performance.now(), code });
    } else {
      const userIds = Array.from({ length: 100 }, () => options.seededId(random(options.profiles)));
      const { code } = await call(
        n,
        "BatchGetProfiles",
        random(options.writers),
        grpcMessage(BatchGetProfilesRequestSchema, { userIds }),
      );
      calls.push({ procedure: "BatchGetProfiles", dueAt, endAt: performance.now(), code });
    }
  });
  for (const pool of pools) pool.close();
  return { calls, updates, messages };
}
