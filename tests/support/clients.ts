import type { OutgoingHttpHeaders } from "node:http2";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { ProfileApi } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { adminToken } from "./auth.js";

export type ProfileClient = Client<typeof ProfileApi>;

/** A bearer token, or `null` for calls that send no Authorization header. */
export type TestToken = string | null;

/** Sends `Authorization: Bearer <token>` with every call (no header for `null`). */
export function bearer(token: TestToken): Interceptor[] {
  if (token === null) return [];
  return [
    (next) => (request) => {
      request.header.set("authorization", `Bearer ${token}`);
      return next(request);
    },
  ];
}

/**
 * The four ways browsers and services reach the port, each over a real socket, sending `token`
 * (by default a service token with the admin scope).
 */
export function transportsFor(
  baseUrl: string,
  token: TestToken = adminToken,
): Record<string, Transport> {
  const interceptors = bearer(token);
  return {
    "gRPC over h2c": createGrpcTransport({ baseUrl, interceptors }),
    "Connect JSON over HTTP/1.1": createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      interceptors,
    }),
    "Connect binary over HTTP/2": createConnectTransport({
      baseUrl,
      httpVersion: "2",
      useBinaryFormat: true,
      interceptors,
    }),
    "gRPC-Web over HTTP/1.1": createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }),
  };
}

/** A gRPC client, what backend services use, sending `token` (by default an admin token). */
export function grpcClient(baseUrl: string, token: TestToken = adminToken): ProfileClient {
  return createClient(ProfileApi, createGrpcTransport({ baseUrl, interceptors: bearer(token) }));
}

/** The outcome of a call as a code name: "OK", or the error's code such as "NotFound". */
export function codeOf(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => "OK",
    (error: unknown) => Code[ConnectError.from(error).code],
  );
}

/**
 * The request headers of a unary gRPC call to `path` (e.g. `/realchat.profile.v1.ProfileApi/GetProfile`)
 * sent with Node's own HTTP/2 client, for tests that look at the raw answer; `token` as above.
 */
export function grpcRequestHeaders(
  path: string,
  token: TestToken = adminToken,
): OutgoingHttpHeaders {
  const authorization = token === null ? {} : { authorization: `Bearer ${token}` };
  return {
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    ...authorization,
  };
}
