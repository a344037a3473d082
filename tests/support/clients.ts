import { type Client, Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { ProfileApi } from "../../gen/realchat/profile/v1/profile_api_pb.js";

export type ProfileClient = Client<typeof ProfileApi>;

/** The four ways browsers and services reach the port, each over a real socket. */
export function transportsFor(baseUrl: string): Record<string, Transport> {
  return {
    "gRPC over h2c": createGrpcTransport({ baseUrl }),
    "Connect JSON over HTTP/1.1": createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    "Connect binary over HTTP/2": createConnectTransport({
      baseUrl,
      httpVersion: "2",
      useBinaryFormat: true,
    }),
    "gRPC-Web over HTTP/1.1": createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
  };
}

/** A gRPC client: what backend services use. */
export function grpcClient(baseUrl: string): ProfileClient {
  return createClient(ProfileApi, createGrpcTransport({ baseUrl }));
}

/** The outcome of a call as a code name: "OK", or the error's code such as "NotFound". */
export function codeOf(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => "OK",
    (error: unknown) => Code[ConnectError.from(error).code],
  );
}
