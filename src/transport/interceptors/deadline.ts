import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Bounds every call to `maxMs` and answers as soon as the call's signal aborts (client deadline
 * or client gone) instead of waiting for work that can no longer be delivered. Database
 * statements are bounded separately by the statement timeout.
 *
 * Per call this costs one timer and one listener: no extra AbortController or AbortSignal.any,
 * whose allocations showed up in the service's CPU profile (bench/README.md).
 */
export function createDeadlineInterceptor(maxMs: number): Interceptor {
  return (next) => async (request) => {
    const { signal } = request;
    let timer: NodeJS.Timeout | undefined;
    let onAbort = () => {};
    const ended = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ConnectError("the call ran past the server's deadline", Code.DeadlineExceeded),
          ),
        maxMs,
      );
      onAbort = () => reject(ConnectError.from(signal.reason, Code.Canceled));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([next(request), ended]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  };
}
