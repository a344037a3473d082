// Before any row: the obvious server (bench/reference/obvious-server.ts) must answer like the
// service, or its rows would measure something else.
import { deepStrictEqual } from "node:assert/strict";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { seededId } from "../harness/database.js";
import type { RequestBodies } from "./bodies.js";

type Call = readonly [method: string, request: object];
type Check = Call | { readonly onObvious: Call; readonly thenOnService: Call };

/**
 * A @grpc/grpc-js client (protobufjs, no code shared with the service) sends both the same call,
 * or a write to the obvious server and then a read of the same profile to the service, and
 * compares the decoded answers, or status codes.
 */
async function requireSameAnswers(
  service: string,
  obvious: string,
  token: string,
  checks: readonly Check[],
): Promise<void> {
  const definition = protoLoader.loadSync("realchat/profile/v1/profile_api.proto", {
    includeDirs: [path.join(import.meta.dirname, "..", "..", "proto")],
    keepCase: true,
    longs: String,
    defaults: true,
  });
  const methods = definition["realchat.profile.v1.ProfileApi"] as protoLoader.ServiceDefinition;
  const ask = (origin: string, method: string, request: object) => {
    const client = new grpc.Client(new URL(origin).host, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    const { path: methodPath, requestSerialize, responseDeserialize } = methods[method] ?? {};
    if (methodPath === undefined || requestSerialize === undefined) {
      throw new Error(`no method ${method} in the proto`);
    }
    return new Promise<unknown>((resolve) => {
      client.makeUnaryRequest(
        methodPath,
        requestSerialize,
        responseDeserialize as (bytes: Buffer) => unknown,
        request,
        metadata,
        { deadline: Date.now() + 10_000 },
        (error, response) => {
          client.close();
          resolve(error === null ? response : { code: grpc.status[error.code] });
        },
      );
    });
  };
  for (const [index, check] of checks.entries()) {
    const [[method, request], [serviceMethod, serviceRequest]] =
      "onObvious" in check ? [check.onObvious, check.thenOnService] : [check, check];
    deepStrictEqual(
      await ask(obvious, method, request),
      await ask(service, serviceMethod, serviceRequest),
      `the obvious server answers ${method} (check ${index + 1}) unlike the service`,
    );
  }
}

/** Found, missing, duplicate and upper-case ids, on each of the service's `instances`. */
export async function requireObviousAnswersLikeService(
  instances: readonly string[],
  obvious: string,
  token: string,
  bodies: RequestBodies,
): Promise<void> {
  const { missingId } = bodies;
  for (const at of instances) {
    await requireSameAnswers(at, obvious, token, [
      // First, while no read has touched this profile: the row the update answers is the row
      // the service then reads, version and updated_at included.
      {
        onObvious: [
          "UpdateProfile",
          { user_id: seededId(3), display_name: "Checked", bio: `check ${at}` },
        ],
        thenOnService: ["GetProfile", { user_id: seededId(3) }],
      },
      ["GetProfile", { user_id: bodies.getId }],
      ["GetProfile", { user_id: missingId }],
      ["BatchGetProfiles", { user_ids: bodies.batchIds }],
      [
        "BatchGetProfiles",
        {
          user_ids: [
            seededId(2),
            missingId,
            seededId(1).toUpperCase(),
            seededId(2),
            seededId(1),
            missingId,
          ],
        },
      ],
    ]);
  }
}
