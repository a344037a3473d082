import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import type { Caller } from "../../auth/caller.js";
import { kCaller } from "../../auth/caller-context.js";
import type { QuotaConfig } from "../../config/config.js";
import type { CallCost } from "../call-costs.js";
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
 * would be granted. A refused call takes nothing. What a call costs is `costOf`'s answer
 * (call-costs.ts). Calls without a caller (health, reflection) are not counted here.
 */
export function createQuotaInterceptor(
  config: Pick<QuotaConfig, "user" | "service">,
  costOf: CallCost,
  onThrottled: (procedure: string, callerKind: CallerKind) => void,
  now?: () => number,
): Interceptor {
  const buckets = {
    user: createQuotaBuckets(config.user, { maxKeys: MAX_TRACKED_CALLERS, now }),
    service: createQuotaBuckets(config.service, { maxKeys: MAX_TRACKED_CALLERS, now }),
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
      spend(caller, procedure, costOf(request.method, request.message));
      return next(request);
    }
    // A stream's request messages are paid as they arrive (WatchProfiles: its one request).
    return next({
      ...request,
      message: spendingOnArrival(request.message, (message) =>
        spend(caller, procedure, costOf(request.method, message)),
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
