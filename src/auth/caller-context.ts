import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Caller } from "./caller.js";

/**
 * The verified caller of the current call: set by the auth gate (transport/interceptors/auth-gate.ts) before the
 * handler runs, read by handlers, quotas and telemetry. It lives with auth, which imports nothing
 * of theirs, so that each of them depends on auth and none on another.
 */
export const kCaller = createContextKey<Caller | undefined>(undefined, {
  description: "the authenticated caller",
});

/** The caller the gate verified; a handler behind the gate always has one. */
export function callerOf(context: HandlerContext): Caller {
  const caller = context.values.get(kCaller);
  if (caller === undefined) throw new ConnectError("missing bearer token", Code.Unauthenticated);
  return caller;
}
