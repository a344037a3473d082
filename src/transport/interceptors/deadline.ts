import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Answers a call as soon as its signal aborts, with the signal's reason, instead of waiting for
 * work that can no longer be delivered: the call's deadline (connect-internals/call-deadline.ts)
 * aborts it with DEADLINE_EXCEEDED, a client that goes away with CANCELLED. It starts no timer:
 * the deadline owns the call's one. Database statements are bounded separately by the statement
 * timeout.
 *
 * Per call this costs one listener: no extra AbortController or AbortSignal.any, whose
 * allocations showed up in the service's CPU profile (bench/README.md).
 */
export function createDeadlineInterceptor(): Interceptor {
  return (next) => async (request) => {
    const { signal } = request;
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(ConnectError.from(signal.reason, Code.Canceled));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([next(request), aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  };
}
