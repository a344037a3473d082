// The server's own bound on every call (src/transport/interceptors/deadline.ts), through the in-memory
// router, with a client that sets no deadline: whatever ends a call is the server's doing.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createDeadlineInterceptor } from "../../src/transport/interceptors/deadline.js";
import { routerClients } from "./support/router-clients.js";

const MAX_MS = 100;
/** "Not stalled": the answer comes near the bound, not when the handler would have finished. */
const GENEROUS_MS = 5000;

/** A client of a GetProfile that answers after `handlerMs`, or never. */
function withDeadline(handlerMs: number | undefined) {
  const { profiles } = routerClients({
    profileApi: {
      async getProfile(request) {
        if (handlerMs === undefined) await new Promise(() => {});
        else await new Promise((resolve) => setTimeout(resolve, handlerMs));
        return { userId: request.userId };
      },
    },
    interceptors: [createDeadlineInterceptor(MAX_MS)],
  });
  return profiles;
}

describe("the deadline interceptor", () => {
  it("ends a call whose handler never finishes with DEADLINE_EXCEEDED at the server's bound", async () => {
    const profiles = withDeadline(undefined);
    const started = performance.now();

    const error = await profiles.getProfile({ userId: "u" }).then(
      () => undefined,
      (reason: unknown) => ConnectError.from(reason),
    );
    const elapsed = performance.now() - started;

    expect({ code: error && Code[error.code], message: error?.rawMessage }).toEqual({
      code: Code[Code.DeadlineExceeded],
      message: "the call ran past the server's deadline",
    });
    expect(elapsed).toBeGreaterThanOrEqual(MAX_MS - 5);
    expect(elapsed).toBeLessThan(GENEROUS_MS);
  });

  it("answers a call that finishes within the bound as its handler does", async () => {
    const profiles = withDeadline(0);

    expect((await profiles.getProfile({ userId: "u" })).userId).toBe("u");
  });
});
