// The deadline interceptor (src/transport/interceptors/deadline.ts), through the in-memory router,
// with a client that sets no deadline and a handler that never finishes: the call ends when, and
// as, its signal is aborted. Over sockets the call's deadline (connect-internals/call-deadline.ts)
// aborts it; here the request gate stands in for it.
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { AbortableContext } from "../../src/transport/connect-internals/call-deadline.js";
import { createDeadlineInterceptor } from "../../src/transport/interceptors/deadline.js";
import { routerClients } from "./support/router-clients.js";

const ABORT_AFTER_MS = 100;
/** "Not stalled": the answer comes near the abort, not when the handler would have finished. */
const GENEROUS_MS = 5000;

/**
 * A client of a GetProfile that answers after `handlerMs`, or never, whose call's context is
 * aborted with `reason` ABORT_AFTER_MS after its gate.
 */
function abortedWith(reason: unknown, handlerMs?: number) {
  const { profiles } = routerClients({
    profileApi: {
      async getProfile(request) {
        if (handlerMs === undefined) await new Promise(() => {});
        else await new Promise((resolve) => setTimeout(resolve, handlerMs));
        return { userId: request.userId };
      },
    },
    interceptors: [createDeadlineInterceptor()],
    async requestGate(context: HandlerContext) {
      // Connect's router gives the gate the context it created, which can be aborted.
      const abortable = context as HandlerContext & AbortableContext;
      const timer = setTimeout(() => abortable.abort(reason), ABORT_AFTER_MS);
      context.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
    },
  });
  return profiles;
}

async function outcomeOf(call: Promise<unknown>) {
  const started = performance.now();
  const error = await call.then(
    () => undefined,
    (reason: unknown) => ConnectError.from(reason),
  );
  return {
    code: error && Code[error.code],
    message: error?.rawMessage,
    elapsed: performance.now() - started,
  };
}

describe("the deadline interceptor", () => {
  it("ends a call whose handler never finishes when its deadline aborts it, with that error", async () => {
    const deadline = new ConnectError("the call ran past its deadline", Code.DeadlineExceeded);
    const { code, message, elapsed } = await outcomeOf(
      abortedWith(deadline).getProfile({ userId: "u" }),
    );

    expect({ code, message }).toEqual({
      code: Code[Code.DeadlineExceeded],
      message: "the call ran past its deadline",
    });
    expect(elapsed).toBeGreaterThanOrEqual(ABORT_AFTER_MS - 5);
    expect(elapsed).toBeLessThan(GENEROUS_MS);
  });

  it("ends it CANCELED when its signal aborts with no ConnectError (the client went away)", async () => {
    const gone = new DOMException("The request has closed.", "AbortError");
    const { code, elapsed } = await outcomeOf(abortedWith(gone).getProfile({ userId: "u" }));

    expect(code).toBe(Code[Code.Canceled]);
    expect(elapsed).toBeLessThan(GENEROUS_MS);
  });

  it("answers a call that finishes before its signal aborts as its handler does", async () => {
    const deadline = new ConnectError("the call ran past its deadline", Code.DeadlineExceeded);

    expect((await abortedWith(deadline, 0).getProfile({ userId: "u" })).userId).toBe("u");
  });
});
