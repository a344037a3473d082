import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import {
  ServerReflection,
  type ServerReflectionRequestSchema,
  type ServerReflectionResponse,
} from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { adminToken } from "./support/auth.js";
import { useTestServer } from "./support/test-server.js";

// Reflection as the service serves it: beside ProfileApi, which needs a token while reflection
// does not.

type ReflectionRequestInit = MessageInitShape<typeof ServerReflectionRequestSchema>;

const profileApiFile = "realchat/profile/v1/profile_api.proto";
const timestampFile = "google/protobuf/timestamp.proto";
const reflectionServices = [
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

const fixture = useTestServer();

/** Sends `requests` on one v1 reflection stream (no token) and collects the responses. */
async function reflect(...requests: ReflectionRequestInit[]): Promise<ServerReflectionResponse[]> {
  const client = createClient(
    ServerReflection,
    createGrpcTransport({ baseUrl: fixture.server.baseUrl }),
  );
  const responses: ServerReflectionResponse[] = [];
  for await (const response of client.serverReflectionInfo(streamOf(requests))) {
    responses.push(response);
  }
  return responses;
}

async function* streamOf<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

/** The names of the files in a file_descriptor_response, in order; [] for any other answer. */
function fileNamesOf(response: ServerReflectionResponse | undefined): string[] {
  if (response?.messageResponse.case !== "fileDescriptorResponse") return [];
  return response.messageResponse.value.fileDescriptorProto.map(
    (bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name,
  );
}

function symbol(name: string): ReflectionRequestInit {
  return { messageRequest: { case: "fileContainingSymbol", value: name } };
}

describe("reflection over a Connect gRPC client", () => {
  it("lists ProfileApi, SocialGraphApi, Health and both reflection services over v1", async () => {
    const [response] = await reflect({ messageRequest: { case: "listServices", value: "" } });

    expect(response?.messageResponse.case).toBe("listServicesResponse");
    const names =
      response?.messageResponse.case === "listServicesResponse"
        ? response.messageResponse.value.service.map((service) => service.name)
        : [];
    expect(names.sort()).toEqual(
      [
        "realchat.profile.v1.ProfileApi",
        "realchat.profile.v1.SocialGraphApi",
        "grpc.health.v1.Health",
        ...reflectionServices,
      ].sort(),
    );
  });

  it("lists ProfileApi and both reflection services over v1alpha", async () => {
    const client = createClient(
      ServerReflectionV1alpha,
      createGrpcTransport({ baseUrl: fixture.server.baseUrl }),
    );
    const names: string[] = [];
    const stream = streamOf([{ messageRequest: { case: "listServices" as const, value: "*" } }]);
    for await (const response of client.serverReflectionInfo(stream)) {
      if (response.messageResponse.case === "listServicesResponse") {
        names.push(...response.messageResponse.value.service.map((service) => service.name));
      }
    }

    expect(names).toEqual(
      expect.arrayContaining(["realchat.profile.v1.ProfileApi", ...reflectionServices]),
    );
  });

  it("answers a service name with profile_api.proto followed by its import timestamp.proto", async () => {
    const [response] = await reflect(symbol("realchat.profile.v1.ProfileApi"));

    expect(fileNamesOf(response)).toEqual([profileApiFile, timestampFile]);
  });

  it.each([
    ["a method", "realchat.profile.v1.ProfileApi.GetProfile", profileApiFile],
    ["a message", "realchat.profile.v1.Profile", profileApiFile],
    ["a field", "realchat.profile.v1.Profile.display_name", profileApiFile],
    ["an enum value", "grpc.health.v1.HealthCheckResponse.SERVING", "health/v1/health.proto"],
    ["an imported message", "google.protobuf.Timestamp", timestampFile],
    [
      "a reflection service",
      "grpc.reflection.v1.ServerReflection",
      "grpc/reflection/v1/reflection.proto",
    ],
  ])("finds the file that declares %s", async (_kind, name, fileName) => {
    const [response] = await reflect(symbol(name));

    expect(fileNamesOf(response)[0]).toBe(fileName);
  });

  it("answers file_by_filename with the file and its imports", async () => {
    const [response] = await reflect({
      messageRequest: { case: "fileByFilename", value: profileApiFile },
    });

    expect(fileNamesOf(response)).toEqual([profileApiFile, timestampFile]);
  });

  it("answers an unknown symbol with NOT_FOUND and keeps answering the same stream", async () => {
    const responses = await reflect(
      symbol("realchat.profile.v1.NoSuchThing"),
      symbol("realchat.profile.v1.Profile"),
    );

    expect(responses).toHaveLength(2);
    expect(responses[0]?.messageResponse).toMatchObject({
      case: "errorResponse",
      value: { errorCode: Code.NotFound, errorMessage: expect.stringContaining("NoSuchThing") },
    });
    expect(fileNamesOf(responses[1])).toEqual([profileApiFile, timestampFile]);
  });

  it("sends an import only once per stream, but the requested file every time", async () => {
    const responses = await reflect(
      symbol("realchat.profile.v1.ProfileApi"),
      symbol("realchat.profile.v1.ProfileApi"),
    );

    expect(responses.map(fileNamesOf)).toEqual([[profileApiFile, timestampFile], [profileApiFile]]);
  });

  it("echoes the host and the original request in each response", async () => {
    const request = { host: "profile.internal", ...symbol("realchat.profile.v1.Profile") };

    const [response] = await reflect(request);

    expect(response?.validHost).toBe("profile.internal");
    expect(response?.originalRequest?.host).toBe("profile.internal");
    expect(response?.originalRequest?.messageRequest).toEqual(request.messageRequest);
  });

  it("lists no extension numbers for a known message and NOT_FOUND for an unknown one", async () => {
    const [known, unknown, extension] = await reflect(
      {
        messageRequest: { case: "allExtensionNumbersOfType", value: "realchat.profile.v1.Profile" },
      },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "realchat.profile.v1.Nope" } },
      {
        messageRequest: {
          case: "fileContainingExtension",
          value: { containingType: "realchat.profile.v1.Profile", extensionNumber: 100 },
        },
      },
    );

    expect(known?.messageResponse).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "realchat.profile.v1.Profile", extensionNumber: [] },
    });
    expect(unknown?.messageResponse).toMatchObject({
      case: "errorResponse",
      value: { errorCode: Code.NotFound },
    });
    expect(extension?.messageResponse).toMatchObject({
      case: "errorResponse",
      value: { errorCode: Code.NotFound },
    });
  });
});

describe("buf curl without the proto files", () => {
  const buf = path.join(import.meta.dirname, "..", "node_modules", ".bin", "buf");
  const run = promisify(execFile);
  const curl = (...args: string[]) =>
    run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], {
      timeout: 20_000,
    });

  it.each(["grpc-v1", "grpc-v1alpha"])(
    "lists ProfileApi's methods through %s reflection",
    async (protocol) => {
      const { stdout } = await curl(
        "--reflect-protocol",
        protocol,
        "--list-methods",
        fixture.server.baseUrl,
      );

      expect(stdout.split("\n")).toContain("realchat.profile.v1.ProfileApi/GetProfile");
    },
  );

  it("calls GetProfile with JSON it encoded from the reflected schema and gets NOT_FOUND", async () => {
    const call = curl(
      "-H",
      `Authorization: Bearer ${adminToken}`,
      "-d",
      JSON.stringify({ user_id: crypto.randomUUID() }),
      `${fixture.server.baseUrl}/realchat.profile.v1.ProfileApi/GetProfile`,
    );

    const failure = await call.then(
      () => undefined,
      (error: unknown) => error as { code?: number; stdout: string; stderr: string },
    );
    expect(failure?.code).not.toBe(0);
    expect(`${failure?.stdout}${failure?.stderr}`).toMatch(/not_found|NotFound/);
  });
});
