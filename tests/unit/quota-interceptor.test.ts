// The per-caller quotas (src/transport/interceptors/quota.ts) behind the auth gate, through the in-memory
// router, on a clock the test moves.
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { PROFILE_ADMIN_SCOPE } from "../../src/auth/caller.js";
import type { QuotaConfig } from "../../src/config/config.js";
import { createCallCosts } from "../../src/transport/call-costs.js";
import { createAuthGate } from "../../src/transport/interceptors/auth-gate.js";
import { type CallerKind, createQuotaInterceptor } from "../../src/transport/interceptors/quota.js";
import { testTokenVerifier, tokenFor } from "../support/auth.js";
import type { TestToken } from "../support/clients.js";
import { routerClients } from "./support/router-clients.js";

const quotas: QuotaConfig = {
  user: { perSecond: 10, burst: 20 },
  service: { perSecond: 100, burst: 200 },
  updateCost: 5,
  searchCost: 40,
  handleLookupCost: 8,
};

/** Clients for `token` behind the gate and the quotas; `throttled` lists every refusal reported. */
function withQuotas(clock: { now: number }) {
  const throttled: [procedure: string, kind: CallerKind][] = [];
  const interceptor = createQuotaInterceptor(
    quotas,
    createCallCosts(quotas),
    (procedure, kind) => throttled.push([procedure, kind]),
    () => clock.now,
  );
  const clientsFor = (token: TestToken) =>
    routerClients({
      profileApi: {
        getProfile: (request) => ({ userId: request.userId }),
        batchGetProfiles: () => ({}),
        updateProfile: (request) => ({ userId: request.userId }),
      },
      interceptors: [interceptor],
      requestGate: createAuthGate({
        verifyToken: testTokenVerifier,
        publicServices: new Set(["grpc.health.v1.Health"]),
      }),
      token,
    });
  return { clientsFor, throttled };
}

/** The code, message and RetryInfo delay (ms) a call fails with, or "OK". */
async function outcome(call: Promise<unknown>) {
  try {
    await call;
    return "OK";
  } catch (error) {
    const connectError = ConnectError.from(error);
    const retryInfo = connectError.findDetails(RetryInfoSchema)[0];
    return {
      code: Code[connectError.code],
      message: connectError.rawMessage,
      retryAfterMs:
        retryInfo?.retryDelay === undefined ? undefined : durationMs(retryInfo.retryDelay),
    };
  }
}

const ids = (count: number) => Array.from({ length: count }, () => crypto.randomUUID());

describe("the quota interceptor", () => {
  it("grants a user their burst, then refuses with RESOURCE_EXHAUSTED and a RetryInfo of when the cost refills", async () => {
    const clock = { now: 0 };
    const { clientsFor, throttled } = withQuotas(clock);
    const { profiles } = clientsFor(await tokenFor(crypto.randomUUID()));

    expect(await outcome(profiles.batchGetProfiles({ userIds: ids(15) }))).toBe("OK");
    expect(await outcome(profiles.updateProfile({ userId: "u" }))).toBe("OK");
    const refused = await outcome(profiles.batchGetProfiles({ userIds: ids(3) }));

    // 20 spent, 3 more wanted at 10 per second: 300 ms.
    expect(refused).toEqual({
      code: Code[Code.ResourceExhausted],
      message: "rate limit exceeded for this caller; retry after the delay in google.rpc.RetryInfo",
      retryAfterMs: 300,
    });
    expect(throttled).toEqual([["realchat.profile.v1.ProfileApi/BatchGetProfiles", "user"]]);
  });

  it("grants the refused call once the clock has moved by the RetryInfo delay, and not before", async () => {
    const clock = { now: 0 };
    const { clientsFor } = withQuotas(clock);
    const { profiles } = clientsFor(await tokenFor(crypto.randomUUID()));
    await profiles.batchGetProfiles({ userIds: ids(20) });

    clock.now = 299;
    expect(await outcome(profiles.batchGetProfiles({ userIds: ids(3) }))).toMatchObject({
      code: Code[Code.ResourceExhausted],
    });
    clock.now = 300;
    expect(await outcome(profiles.batchGetProfiles({ userIds: ids(3) }))).toBe("OK");
  });

  it("refuses a call that costs more than the burst without a RetryInfo, since waiting cannot help", async () => {
    const { clientsFor } = withQuotas({ now: 0 });
    const { profiles } = clientsFor(await tokenFor(crypto.randomUUID()));

    expect(await outcome(profiles.batchGetProfiles({ userIds: ids(21) }))).toEqual({
      code: Code[Code.ResourceExhausted],
      message: "this call costs more than the caller's quota allows at once; send smaller batches",
      retryAfterMs: undefined,
    });
  });

  it("counts an empty batch and any other call as 1", async () => {
    const { clientsFor } = withQuotas({ now: 0 });
    const { profiles } = clientsFor(await tokenFor(crypto.randomUUID()));
    for (let i = 0; i < 10; i++) await profiles.batchGetProfiles({ userIds: [] });
    for (let i = 0; i < 10; i++) await profiles.getProfile({ userId: "u" });

    expect(await outcome(profiles.getProfile({ userId: "u" }))).toMatchObject({
      code: Code[Code.ResourceExhausted],
      retryAfterMs: 100,
    });
  });

  it("keeps a bucket per caller, and service tokens in their own class with their own limits", async () => {
    const { clientsFor, throttled } = withQuotas({ now: 0 });
    const spent = clientsFor(await tokenFor(crypto.randomUUID())).profiles;
    const other = clientsFor(await tokenFor(crypto.randomUUID())).profiles;
    const service = clientsFor(
      await tokenFor("support-tool", { scopes: [PROFILE_ADMIN_SCOPE] }),
    ).profiles;
    await spent.batchGetProfiles({ userIds: ids(20) });

    expect(await outcome(other.batchGetProfiles({ userIds: ids(20) }))).toBe("OK");
    expect(await outcome(service.batchGetProfiles({ userIds: ids(200) }))).toBe("OK");
    expect(await outcome(service.getProfile({ userId: "u" }))).toMatchObject({
      code: Code[Code.ResourceExhausted],
    });
    expect(throttled).toEqual([["realchat.profile.v1.ProfileApi/GetProfile", "service"]]);
  });

  it("does not count calls without a caller (public services)", async () => {
    const { clientsFor, throttled } = withQuotas({ now: 0 });
    const { health } = clientsFor(null);

    for (let i = 0; i < 50; i++) expect(await outcome(health.check({}))).toBe("OK");
    expect(throttled).toEqual([]);
  });
});
