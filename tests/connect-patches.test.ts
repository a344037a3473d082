// Our patches to @connectrpc/connect and @connectrpc/connect-node (src/transport/connect-internals/patches/,
// applied by patch-package on install): a call that ends normally aborts its signals with a shared
// reason instead of constructing a DOMException each time, and a call that ends for a reason (its
// deadline, an error) still aborts with that reason. Without the patches this test fails.

import { Code, ConnectError, createClient, createHandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { transportsFor } from "./support/clients.js";
import { useTestServer } from "./support/test-server.js";

const fixture = useTestServer();

/**
 * The server-side code the patches change, in either build (ES module or CommonJS); the client's
 * own aborts are not ours.
 */
const patchedSites =
  /@connectrpc\/(connect\/dist\/(esm|cjs)\/implementation|connect-node\/dist\/(esm|cjs)\/node-universal-handler)\.js/;

/** Runs `work` while counting server-side AbortController.abort() calls made without a reason. */
async function reasonlessAborts(work: () => Promise<unknown>): Promise<number> {
  const abort = AbortController.prototype.abort;
  let count = 0;
  AbortController.prototype.abort = function (this: AbortController, reason?: unknown) {
    // Line 0 is "Error", line 1 this function, line 2 whoever called abort().
    const caller = (new Error().stack ?? "").split("\n")[2] ?? "";
    if (reason === undefined && patchedSites.test(caller)) count += 1;
    return abort.call(this, reason);
  };
  try {
    await work();
    // Requests close after the response is out: give the server's close events a moment.
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    AbortController.prototype.abort = abort;
  }
  return count;
}

describe("patched Connect", () => {
  it.each(Object.keys(transportsFor("http://unused")))(
    "ends calls over %s without a reason-less abort",
    async (name) => {
      const transport = transportsFor(fixture.server.baseUrl)[name];
      if (transport === undefined) throw new Error(`no transport ${name}`);
      const client = createClient(ProfileApi, transport);
      const userId = crypto.randomUUID();
      await client.updateProfile({ userId, displayName: "Patched" });

      const count = await reasonlessAborts(async () => {
        for (let n = 0; n < 20; n++) await client.getProfile({ userId });
      });

      expect(count).toBe(0);
    },
  );
});

// Both serving paths build every call's context with Connect's (patched) createHandlerContext,
// without a timeout: the call's deadline is their own, and aborts the context with DEADLINE_EXCEEDED
// (tests/deadlines.test.ts). This checks the context directly.
describe("a call context of patched Connect", () => {
  const init = {
    service: ProfileApi,
    method: ProfileApi.method.getProfile,
    protocolName: "grpc",
    requestMethod: "POST",
    url: "/realchat.profile.v1.ProfileApi/GetProfile",
  };

  it("keeps the reason a call ends with, and shares one reason among calls that end without", () => {
    const failed = createHandlerContext(init);
    const reason = new ConnectError("the client went away", Code.Canceled);
    failed.abort(reason);
    const [first, second] = [createHandlerContext(init), createHandlerContext(init)];
    first.abort();
    second.abort();

    expect(failed.signal.reason).toBe(reason);
    expect(first.signal.reason).toBeInstanceOf(DOMException);
    expect(first.signal.reason).toBe(second.signal.reason);
  });
});
