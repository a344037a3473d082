// x-request-id (docs/operating.md "Logs"): every RPC answer carries one, the caller's own when it
// sent a sane one (1-128 ASCII letters, digits and `_ . : -`), else a new UUID, so a caller can
// find its call in the service's log.
import { once } from "node:events";
import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { GetProfileRequestSchema, ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import {
  grpcClient,
  grpcEnvelope,
  grpcRequestHeaders,
  type ProfileClient,
  transportsFor,
} from "./support/clients.js";
import { useTestServer } from "./support/test-server.js";

const fixture = useTestServer();

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const saneIds = ["req-42", "a.b:c_d-E9", "x".repeat(128)];
const insaneIds = ["two words", "path/like", "<script>", "x".repeat(129), ""];

/** A profile that exists, for calls that succeed. */
async function storedUserId(): Promise<string> {
  const userId = crypto.randomUUID();
  await grpcClient(fixture.server.baseUrl).updateProfile({ userId, displayName: "Echo" });
  return userId;
}

/** GetProfile of `userId`, sending `sent` as x-request-id (none if undefined): its outcome. */
async function getProfileWithRequestId(
  client: ProfileClient,
  userId: string,
  sent: string | undefined,
): Promise<{ readonly code: Code | "OK"; readonly requestId: string | null }> {
  let header: Headers | undefined;
  try {
    await client.getProfile(
      { userId },
      {
        headers: sent === undefined ? {} : { "x-request-id": sent },
        onHeader: (received) => {
          header = received;
        },
      },
    );
  } catch (error) {
    const failure = ConnectError.from(error);
    return { code: failure.code, requestId: failure.metadata.get("x-request-id") };
  }
  return { code: "OK", requestId: header?.get("x-request-id") ?? null };
}

describe.each(Object.keys(transportsFor("http://unused")))("over %s", (name) => {
  const client = () => {
    const transport = transportsFor(fixture.server.baseUrl)[name];
    if (transport === undefined) throw new Error(`no transport ${name}`);
    return createClient(ProfileApi, transport);
  };

  it.each(saneIds)("echoes the sane id %s as sent on a call that succeeds", async (sent) => {
    const outcome = await getProfileWithRequestId(client(), await storedUserId(), sent);

    expect(outcome).toEqual({ code: "OK", requestId: sent });
  });

  it.each(saneIds)("echoes the sane id %s as sent on a call that fails", async (sent) => {
    const outcome = await getProfileWithRequestId(client(), crypto.randomUUID(), sent);

    expect(outcome).toEqual({ code: Code.NotFound, requestId: sent });
  });

  it.each(insaneIds)("answers the id %j with a new UUID instead", async (sent) => {
    const userId = await storedUserId();
    const [first, second] = [
      await getProfileWithRequestId(client(), userId, sent),
      await getProfileWithRequestId(client(), crypto.randomUUID(), sent),
    ];

    expect(first.code).toBe("OK");
    expect(second.code).toBe(Code.NotFound);
    expect(first.requestId).toMatch(uuid);
    expect(second.requestId).toMatch(uuid);
    expect(first.requestId).not.toBe(second.requestId);
  });

  it("answers a call that sends no id with a new UUID", async () => {
    const outcome = await getProfileWithRequestId(client(), await storedUserId(), undefined);

    expect(outcome.requestId).toMatch(uuid);
  });
});

/** A GetProfile over plain HTTP/2: the response's headers and trailers as the server sent them. */
async function rawGrpcGetProfile(userId: string, requestId: string) {
  const session = http2.connect(fixture.server.baseUrl);
  try {
    const message = toBinary(GetProfileRequestSchema, create(GetProfileRequestSchema, { userId }));
    const stream = session.request({
      ...grpcRequestHeaders("/realchat.profile.v1.ProfileApi/GetProfile"),
      "x-request-id": requestId,
    });
    const answer = Promise.all([once(stream, "response"), once(stream, "trailers")]);
    stream.resume();
    stream.end(grpcEnvelope(message));
    const [[header], [trailer]] = await answer;
    return { header, trailer } as {
      header: http2.IncomingHttpHeaders;
      trailer: http2.IncomingHttpHeaders;
    };
  } finally {
    session.close();
  }
}

describe("over gRPC", () => {
  it("sends the id in the response headers, not the trailers, when the call succeeds", async () => {
    const { header, trailer } = await rawGrpcGetProfile(await storedUserId(), "grpc-ok");

    expect(header["x-request-id"]).toBe("grpc-ok");
    expect(trailer["grpc-status"]).toBe("0");
    expect(trailer["x-request-id"]).toBeUndefined();
  });

  it("sends the id in the response headers, not the trailers, when the call fails", async () => {
    const { header, trailer } = await rawGrpcGetProfile(crypto.randomUUID(), "grpc-not-found");

    expect(header["x-request-id"]).toBe("grpc-not-found");
    expect(trailer["grpc-status"]).toBe(String(Code.NotFound));
    expect(trailer["x-request-id"]).toBeUndefined();
  });
});
