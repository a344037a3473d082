import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Bounds every call to `maxMs` and answers as soon as the call's signal aborts (client deadline,
 * client gone, or this bound) instead of waiting for work that can no longer be delivered.
 * Database statements are bounded separately by the statement timeout.
 */
export function createDeadlineInterceptor(maxMs: number): Interceptor {
  return (next) => async (request) => {
    const serverDeadline = new AbortController();
    const timer = setTimeout(
      () =>
        serverDeadline.abort(
          new ConnectError("the call ran past the server's deadline", Code.DeadlineExceeded),
        ),
      maxMs,
    );
    const signal = AbortSignal.any([request.signal, serverDeadline.signal]);
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(ConnectError.from(signal.reason, Code.Canceled));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([next({ ...request, signal }), aborted]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  };
}
