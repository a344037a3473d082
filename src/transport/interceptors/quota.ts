import { isMessage } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import {
  BatchGetProfilesRequestSchema,
  UpdateProfileRequestSchema,
  WatchProfilesRequestSchema,
} from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import type { Caller } from "../../auth/caller.js";
import { kCaller } from "../../auth/caller-context.js";
import type { QuotaConfig } from "../../config/config.js";
import { createQuotaBuckets } from "./quota-buckets.js";

/** User tokens have no scope; service tokens have one (e.g. `profile:admin`). */
export type CallerKind = "user" | "service";

/**
 * Callers tracked per class. A bucket is ~200 bytes with its key, so each class stays under
 * ~20 MB however many subjects call; one evicted early only forgets what it still owed.
 */
const MAX_TRACKED_CALLERS = 100_000;

/**
 * Spends each authenticated call's cost from its caller's token bucket (keyed by the token's
 * `sub`), or refuses it with RESOURCE_EXHAUSTED and a `google.rpc.RetryInfo` saying when it
 * would be granted. A refused call takes nothing. What a call costs:
 * - BatchGetProfiles: the number of ids sent, duplicates included (the work of reading and
 *   checking them is done before they collapse);
 * - UpdateProfile: `updateCost` (a write, its event and its fan-out cost far more than a read);
 * - WatchProfiles: the number of ids sent, like BatchGetProfiles (its snapshot reads them all);
 * - anything else, and an empty batch: 1, so that floods of empty calls are bounded too.
 * Calls without a caller (health, reflection) are not counted here.
 */
export function createQuotaInterceptor(
  config: QuotaConfig,
  onThrottled: (procedure: string, callerKind: CallerKind) => void,
  now?: () => number,
): Interceptor {
  const buckets = {
    user: createQuotaBuckets(config.user, { maxKeys: MAX_TRACKED_CALLERS, now }),
    service: createQuotaBuckets(config.service, { maxKeys: MAX_TRACKED_CALLERS, now }),
  };
  const costOf = (message: unknown) => {
    if (isMessage(message, BatchGetProfilesRequestSchema)) {
      return Math.max(1, message.userIds.length);
    }
    // The snapshot reads every id; the changes pushed after it are not charged.
    if (isMessage(message, WatchProfilesRequestSchema)) return Math.max(1, message.userIds.length);
    if (isMessage(message, UpdateProfileRequestSchema)) return config.updateCost;
    return 1;
  };
  /** Takes `cost` from the caller's bucket, or throws RESOURCE_EXHAUSTED having taken nothing. */
  const spend = (caller: Caller, procedure: string, cost: number) => {
    const kind: CallerKind = caller.scopes.size === 0 ? "user" : "service";
    const waitMs = buckets[kind].take(caller.subject, cost);
    if (waitMs === 0) return;
    onThrottled(procedure, kind);
    if (waitMs === Number.POSITIVE_INFINITY) {
      throw new ConnectError(
        "this call costs more than the caller's quota allows at once; send smaller batches",
        Code.ResourceExhausted,
      );
    }
    throw new ConnectError(
      "rate limit exceeded for this caller; retry after the delay in google.rpc.RetryInfo",
      Code.ResourceExhausted,
      undefined,
      [{ desc: RetryInfoSchema, value: { retryDelay: durationFromMs(Math.ceil(waitMs)) } }],
    );
  };
  return (next) => (request) => {
    const caller = request.contextValues.get(kCaller);
    if (caller === undefined) return next(request);
    const procedure = `${request.service.typeName}/${request.method.name}`;
    if (!request.stream) {
      spend(caller, procedure, costOf(request.message));
      return next(request);
    }
    // A stream's request messages are paid as they arrive (WatchProfiles: its one request).
    return next({
      ...request,
      message: spendingOnArrival(request.message, (message) =>
        spend(caller, procedure, costOf(message)),
      ),
    });
  };
}

async function* spendingOnArrival<T>(
  messages: AsyncIterable<T>,
  spend: (message: T) => void,
): AsyncIterable<T> {
  for await (const message of messages) {
    spend(message);
    yield message;
  }
}
