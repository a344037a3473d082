import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

// A client that calls the service as RealChat's gateway does (edge/gateway in
// SARVESHVARADKAR123/RealChat, with grpc-go): plaintext HTTP/2 (insecure credentials), keepalive
// pings with PermitWithoutStream, `x-user-id` and `x-request-id` metadata and no bearer token,
// and a 2 s deadline on every call. @grpc/grpc-js with the .proto loaded at run time, sharing no
// code with the server's stack.

const protoDir = path.join(import.meta.dirname, "..", "..", "proto");
const definition = protoLoader.loadSync("realchat/profile/v1/profile_api.proto", {
  includeDirs: [protoDir],
  keepCase: true,
  longs: String,
  defaults: true,
  oneofs: true,
});
const profileApi = definition["realchat.profile.v1.ProfileApi"] as protoLoader.ServiceDefinition;

/** The gateway's deadline on each call to the Profile service. */
export const GATEWAY_DEADLINE_MS = 2000;

/** Profile as protobufjs decodes it with keepCase, longs as strings and defaults. */
export interface GatewayProfile {
  user_id: string;
  display_name: string;
  avatar_url: string;
  bio: string;
  etag: string;
  /** Our contract's addition: what this viewer may not see (RealChat's own proto lacks it). */
  hidden_fields: string[];
}

export interface GatewayBatch {
  profiles: GatewayProfile[];
  missing_user_ids: string[];
}

/** What one call sends besides its message. */
export interface GatewayCallMetadata {
  /** `x-user-id`: the signed-in user; `null` sends none. */
  readonly userId: string | null;
  /** `x-request-id`; the gateway always sends one (a new UUID unless given). */
  readonly requestId?: string;
  /** A W3C `traceparent`, as the gateway's OpenTelemetry client sends. */
  readonly traceparent?: string;
  /** `authorization: Bearer …`, which the gateway never sends (for the tests of both at once). */
  readonly bearer?: string;
}

export type GatewayOutcome<T> =
  | { readonly ok: true; readonly response: T; readonly header: grpc.Metadata }
  | { readonly ok: false; readonly error: grpc.ServiceError; readonly header: grpc.Metadata };

export interface GatewayClient {
  getProfile(
    userId: string,
    metadata: GatewayCallMetadata,
  ): Promise<GatewayOutcome<GatewayProfile>>;
  /** UpdateProfile with only the fields given present (proto3 `optional`). */
  updateProfile(
    request: { user_id: string; display_name?: string; avatar_url?: string; bio?: string },
    metadata: GatewayCallMetadata,
  ): Promise<GatewayOutcome<GatewayProfile>>;
  batchGetProfiles(
    userIds: readonly string[],
    metadata: GatewayCallMetadata,
  ): Promise<GatewayOutcome<GatewayBatch>>;
  /** The channel underneath: its connectivity state. */
  readonly channel: ReturnType<grpc.Client["getChannel"]>;
  close(): void;
}

export interface GatewayClientOptions {
  /** grpc-go's `keepalive.ClientParameters.Time`; the gateway's is 60 s. */
  readonly keepaliveTimeMs?: number;
  /** Insecure (plaintext h2c), as the gateway dials, unless given. */
  readonly credentials?: grpc.ChannelCredentials;
  readonly channelOptions?: grpc.ChannelOptions;
}

/** A gateway-like client of `address` (`host:port`). */
export function createGatewayClient(
  address: string,
  options: GatewayClientOptions = {},
): GatewayClient {
  const client = new grpc.Client(
    address,
    options.credentials ?? grpc.credentials.createInsecure(),
    {
      "grpc.keepalive_time_ms": options.keepaliveTimeMs ?? 60_000,
      "grpc.keepalive_timeout_ms": 20_000,
      "grpc.keepalive_permit_without_calls": 1,
      ...options.channelOptions,
    },
  );
  const call = <T>(
    methodName: string,
    request: object,
    metadata: GatewayCallMetadata,
  ): Promise<GatewayOutcome<T>> => {
    const method = profileApi[methodName];
    if (method === undefined) throw new Error(`no method ${methodName} in the proto`);
    const sent = new grpc.Metadata();
    if (metadata.userId !== null) sent.set("x-user-id", metadata.userId);
    sent.set("x-request-id", metadata.requestId ?? crypto.randomUUID());
    if (metadata.traceparent !== undefined) sent.set("traceparent", metadata.traceparent);
    if (metadata.bearer !== undefined) sent.set("authorization", `Bearer ${metadata.bearer}`);
    return new Promise((resolve) => {
      let header = new grpc.Metadata();
      const unary = client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        sent,
        { deadline: Date.now() + GATEWAY_DEADLINE_MS },
        (error, response) => {
          if (error !== null) resolve({ ok: false, error, header });
          else resolve({ ok: true, response: response as T, header });
        },
      );
      unary.on("metadata", (received: grpc.Metadata) => {
        header = received;
      });
    });
  };
  return {
    getProfile: (userId, metadata) => call("GetProfile", { user_id: userId }, metadata),
    updateProfile: (request, metadata) => call("UpdateProfile", request, metadata),
    batchGetProfiles: (userIds, metadata) =>
      call("BatchGetProfiles", { user_ids: [...userIds] }, metadata),
    channel: client.getChannel(),
    close: () => client.close(),
  };
}

/** The response of a call that must succeed; fails the test with the status otherwise. */
export async function answered<T>(outcome: Promise<GatewayOutcome<T>>): Promise<T> {
  const result = await outcome;
  if (!result.ok) {
    const { code, details } = result.error;
    throw new Error(`call failed: ${grpc.status[code]} ${details}`);
  }
  return result.response;
}

/** The status of a call that must fail, as "CODE: details". */
export async function refusal(outcome: Promise<GatewayOutcome<unknown>>): Promise<string> {
  const result = await outcome;
  if (result.ok) throw new Error(`call succeeded: ${JSON.stringify(result.response)}`);
  return `${grpc.status[result.error.code]}: ${result.error.details}`;
}
