import path from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { type Any, AnySchema, anyUnpack } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema } from "../gen/google/rpc/error_details_pb.js";
import { adminToken } from "./support/auth.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

// An independent client: @grpc/grpc-js with the .proto file loaded at run time by protobufjs,
// sharing no code with the server's Connect/protobuf-es stack.

const protoDir = path.join(import.meta.dirname, "..", "proto");
const definition = protoLoader.loadSync("realchat/profile/v1/profile_api.proto", {
  includeDirs: [protoDir],
  keepCase: true,
  longs: String,
  defaults: true,
  oneofs: true,
});

/** Profile as protobufjs decodes it with keepCase, longs as strings and defaults. */
interface ProfileObject {
  user_id: string;
  display_name: string;
  avatar_url: string;
  bio: string;
  created_at: { seconds: string; nanos: number } | null;
  updated_at: { seconds: string; nanos: number } | null;
  etag: string;
}

interface BatchGetProfilesObject {
  profiles: ProfileObject[];
  missing_user_ids: string[];
}

type Outcome<T> =
  | { readonly ok: true; readonly response: T }
  | { readonly ok: false; readonly error: grpc.ServiceError };

/** google.rpc.Status, decoded by hand: there is no generated schema for it in gen/. */
interface RpcStatus {
  code: number;
  message: string;
  details: Any[];
}

function decodeRpcStatus(bytes: Uint8Array): RpcStatus {
  const status: RpcStatus = { code: 0, message: "", details: [] };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 1) status.code = reader.int32();
    else if (fieldNo === 2) status.message = reader.string();
    else if (fieldNo === 3) status.details.push(fromBinary(AnySchema, reader.bytes()));
    else reader.skip(wireType, fieldNo);
  }
  return status;
}

/** The `grpc-status-details-bin` trailer of a failed call, decoded; undefined when absent. */
function statusDetailsOf(error: grpc.ServiceError): RpcStatus | undefined {
  const [value] = error.metadata.get("grpc-status-details-bin");
  if (value === undefined || typeof value === "string") return undefined;
  return decodeRpcStatus(value);
}

/** The field violations of the google.rpc.BadRequest in a failed call's status details. */
function fieldViolationsOf(error: grpc.ServiceError): string[] {
  const badRequest = (statusDetailsOf(error)?.details ?? [])
    .map((detail) => anyUnpack(detail, BadRequestSchema))
    .find((message) => message !== undefined);
  return badRequest?.fieldViolations.map((violation) => violation.field) ?? [];
}

let database: TestDatabase;
let server: TestServer;
let client: grpc.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startTestServer(database.db);
  client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await database?.drop();
});

/** One unary call of ProfileApi through grpc-js, with the method table proto-loader built. */
function call<T>(methodName: string, request: object): Promise<Outcome<T>> {
  const authorized = new grpc.Metadata();
  authorized.set("authorization", `Bearer ${adminToken}`);
  const service = definition["realchat.profile.v1.ProfileApi"] as protoLoader.ServiceDefinition;
  const method = service[methodName];
  if (method === undefined) throw new Error(`no method ${methodName} in the proto`);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      authorized,
      { deadline: Date.now() + 5000 },
      (error, response) => {
        if (error !== null) resolve({ ok: false, error });
        else resolve({ ok: true, response: response as T });
      },
    );
  });
}

async function succeeded<T>(outcome: Promise<Outcome<T>>): Promise<T> {
  const result = await outcome;
  if (!result.ok) {
    throw new Error(`call failed: ${result.error.code} ${result.error.details}`);
  }
  return result.response;
}

async function failed<T>(outcome: Promise<Outcome<T>>): Promise<grpc.ServiceError> {
  const result = await outcome;
  if (result.ok) throw new Error(`call succeeded: ${JSON.stringify(result.response)}`);
  return result.error;
}

const createProfile = (userId: string, displayName = "Ada") =>
  succeeded<ProfileObject>(
    call("UpdateProfile", { user_id: userId, display_name: displayName, bio: "hello" }),
  );

describe("ProfileApi through @grpc/grpc-js", () => {
  it("UpdateProfile creates the profile and returns it whole, timestamps and etag included", async () => {
    const userId = crypto.randomUUID();

    const profile = await succeeded<ProfileObject>(
      call("UpdateProfile", {
        user_id: userId,
        display_name: "Ada",
        avatar_url: "https://example.com/ada.png",
        bio: "hello",
      }),
    );

    expect(profile).toMatchObject({
      user_id: userId,
      display_name: "Ada",
      avatar_url: "https://example.com/ada.png",
      bio: "hello",
    });
    expect(profile.etag).not.toBe("");
    expect(Number(profile.created_at?.seconds)).toBeGreaterThan(1_700_000_000);
    expect(profile.updated_at).toEqual(profile.created_at);
  });

  it("GetProfile with an upper-case id returns the stored profile under the canonical id", async () => {
    const userId = crypto.randomUUID();
    const created = await createProfile(userId);

    const profile = await succeeded<ProfileObject>(
      call("GetProfile", { user_id: userId.toUpperCase() }),
    );

    expect(profile).toEqual(created);
    expect(profile.user_id).toBe(userId);
  });

  it("BatchGetProfiles returns profiles in first-occurrence order and lists missing ids", async () => {
    const first = crypto.randomUUID();
    const second = crypto.randomUUID();
    const missing = crypto.randomUUID();
    await createProfile(first, "First");
    await createProfile(second, "Second");

    const response = await succeeded<BatchGetProfilesObject>(
      call("BatchGetProfiles", { user_ids: [second, missing, first, second.toUpperCase()] }),
    );

    expect(response.profiles.map((profile) => profile.display_name)).toEqual(["Second", "First"]);
    expect(response.missing_user_ids).toEqual([missing]);
  });

  it("BatchGetProfiles with an empty list returns an empty answer", async () => {
    const request = { user_ids: [] };

    const response = await succeeded<BatchGetProfilesObject>(call("BatchGetProfiles", request));

    expect(response).toEqual({ profiles: [], missing_user_ids: [] });
  });

  it("UpdateProfile with only bio present leaves display_name and avatar_url unchanged", async () => {
    const userId = crypto.randomUUID();
    await succeeded(
      call("UpdateProfile", {
        user_id: userId,
        display_name: "Ada",
        avatar_url: "https://example.com/ada.png",
      }),
    );

    const profile = await succeeded<ProfileObject>(
      call("UpdateProfile", { user_id: userId, bio: "only the bio" }),
    );

    expect(profile).toMatchObject({
      display_name: "Ada",
      avatar_url: "https://example.com/ada.png",
      bio: "only the bio",
    });
  });

  it("GetProfile of an unknown user fails with status NOT_FOUND (5)", async () => {
    const userId = crypto.randomUUID();

    const error = await failed(call("GetProfile", { user_id: userId }));

    expect(error.code).toBe(grpc.status.NOT_FOUND);
    expect(error.code).toBe(5);
  });

  it("UpdateProfile with an empty display_name fails with INVALID_ARGUMENT (3) and a BadRequest in grpc-status-details-bin", async () => {
    const userId = crypto.randomUUID();

    const error = await failed(call("UpdateProfile", { user_id: userId, display_name: "" }));

    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.code).toBe(3);
    expect(error.details).toContain("display_name");
    const [trailer] = error.metadata.get("grpc-status-details-bin");
    expect(trailer).toBeInstanceOf(Buffer);
    expect((trailer as Buffer).length).toBeGreaterThan(0);
    const status = statusDetailsOf(error);
    expect(status?.code).toBe(3);
    expect(status?.details.map((detail) => detail.typeUrl)).toContain(
      "type.googleapis.com/google.rpc.BadRequest",
    );
    expect(fieldViolationsOf(error)).toEqual(["display_name"]);
  });

  it("BatchGetProfiles with one malformed id fails with INVALID_ARGUMENT naming its index", async () => {
    const userIds = [crypto.randomUUID(), "not-a-uuid", crypto.randomUUID()];

    const error = await failed(call("BatchGetProfiles", { user_ids: userIds }));

    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolationsOf(error)).toEqual(["user_ids[1]"]);
  });

  it("UpdateProfile with a stale etag fails with ABORTED (10) and changes nothing", async () => {
    const userId = crypto.randomUUID();
    const created = await createProfile(userId);
    const current = await succeeded<ProfileObject>(
      call("UpdateProfile", { user_id: userId, bio: "second" }),
    );

    const error = await failed(
      call("UpdateProfile", { user_id: userId, bio: "third", etag: created.etag }),
    );

    expect(error.code).toBe(grpc.status.ABORTED);
    expect(await succeeded(call("GetProfile", { user_id: userId }))).toEqual(current);
  });
});
