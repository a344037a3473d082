// Issue 10, item 1: one UpdateProfile with a display name of "a" and 524,000 combining marks held
// the event loop for 159 s, because NFC ran on the whole raw value before any length check and the
// field rules ran before the permission check. Now the raw length is bounded before NFC and a
// stranger's call is refused before any rule runs. The bound itself, against the rules alone:
// tests/unit/raw-length-bound.test.ts.
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema } from "../gen/google/rpc/error_details_pb.js";
import { ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import {
  BIO_MAX_LENGTH,
  DISPLAY_NAME_MAX_LENGTH,
  RAW_UNITS_PER_CODE_POINT,
} from "../src/profile/rules.js";
import { tokenFor } from "./support/auth.js";
import { bearer } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

// ---------------------------------------------------------------------------------------------
// The worst inputs over the real server, while a loop watches /healthz
// ---------------------------------------------------------------------------------------------

/** Just under the 1 MiB request limit once encoded (each mark is two bytes of UTF-8). */
const MARKS = 524_000;
/** Combining marks in the order that costs NFC the most: every U+0316 must sort before every U+0301. */
const reversedMarks = (units: number) =>
  `a${"\u0301".repeat(Math.floor(units / 2))}${"\u0316".repeat(Math.ceil(units / 2) - 1)}`;

/** The worst inputs: 1 MB of marks, and the longest that pass the raw bound and reach NFC. */
const worstInputs: [name: string, fields: Record<string, string>, field: string][] = [
  [
    "display_name of 1 MB of combining marks",
    { displayName: reversedMarks(MARKS) },
    "display_name",
  ],
  ["bio of 1 MB of combining marks", { bio: reversedMarks(MARKS) }, "bio"],
  [
    "display_name of combining marks at the raw bound",
    { displayName: reversedMarks(DISPLAY_NAME_MAX_LENGTH * RAW_UNITS_PER_CODE_POINT) },
    "display_name",
  ],
  [
    "bio of combining marks at the raw bound",
    { bio: reversedMarks(BIO_MAX_LENGTH * RAW_UNITS_PER_CODE_POINT) },
    "bio",
  ],
  [
    "display_name of emoji joiners at the raw bound",
    { displayName: "👩\u200D".repeat((DISPLAY_NAME_MAX_LENGTH * RAW_UNITS_PER_CODE_POINT) / 3) },
    "display_name",
  ],
  [
    "avatar_url of 1 MB",
    { avatarUrl: `https://example.com/${"a/".repeat(500_000)}` },
    "avatar_url",
  ],
];

/**
 * Longest a /healthz answer (and the event loop's longest delay) may take while the attack runs:
 * "not stalled", not a target. Generous because the suite may share a busy machine: with no attack
 * at all, /healthz took up to 0.5 s on 2 shared cores at load 13. The old code took 159 s.
 */
const HEALTHZ_BOUND_MS = 1000;

/** Polls /healthz until stopped; returns every answer's latency in milliseconds. */
function watchHealthz(baseUrl: string): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(`${baseUrl}/healthz`);
      await response.arrayBuffer();
      expect(response.status).toBe(200);
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies;
    },
  };
}

async function lagMaxSeconds(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("nodejs_eventloop_lag_max_seconds "));
  if (line === undefined) throw new Error("no nodejs_eventloop_lag_max_seconds on /metrics");
  return Number(line.split(" ")[1]);
}

/** The code and the BadRequest reasons of a call that must fail. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; reasons: string[] }> {
  try {
    await call;
  } catch (error) {
    const connectError = ConnectError.from(error);
    return {
      code: Code[connectError.code],
      reasons: connectError
        .findDetails(BadRequestSchema)
        .flatMap((detail) => detail.fieldViolations.map((v) => `${v.field}: ${v.reason}`)),
    };
  }
  throw new Error("expected the call to fail, but it succeeded");
}

describe("UpdateProfile with the worst inputs, while /healthz is watched", () => {
  let database: TestDatabase;
  let server: TestServer;
  const owner = crypto.randomUUID();
  let ownerToken: string;
  let strangerToken: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startTestServer(database.db);
    ownerToken = await tokenFor(owner);
    strangerToken = await tokenFor(crypto.randomUUID());
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const transports = (token: string): [string, Transport][] => [
    [
      "Connect JSON",
      createConnectTransport({
        baseUrl: server.baseUrl,
        httpVersion: "1.1",
        interceptors: bearer(token),
      }),
    ],
    ["gRPC", createGrpcTransport({ baseUrl: server.baseUrl, interceptors: bearer(token) })],
  ];

  it("refuses another user's call with PERMISSION_DENIED and the owner's with TOO_LONG, and /healthz and the event loop never stall", async () => {
    await lagMaxSeconds(server.baseUrl); // resets the event-loop delay histogram
    const latencies: number[] = [];
    const watch = watchHealthz(server.baseUrl);
    const outcomes: string[] = [];
    const expected: string[] = [];

    try {
      for (const [caller, token] of [
        ["stranger", strangerToken],
        ["owner", ownerToken],
      ] as const) {
        for (const [transportName, transport] of transports(token)) {
          const client = createClient(ProfileApi, transport);
          for (const [inputName, fields, field] of worstInputs) {
            const call = client.updateProfile({ userId: owner, ...fields });
            const { code, reasons } = await refusal(call);
            const scenario = `${caller} over ${transportName}, ${inputName}`;
            outcomes.push(`${scenario}: ${code} ${reasons}`);
            expected.push(
              `${scenario}: ${caller === "stranger" ? "PermissionDenied " : `InvalidArgument ${field}: TOO_LONG`}`,
            );
          }
        }
      }
    } finally {
      latencies.push(...(await watch.stop()));
    }
    const lagMax = await lagMaxSeconds(server.baseUrl);

    expect(outcomes).toEqual(expected);
    expect(latencies.length).toBeGreaterThan(0);
    expect(Math.max(...latencies)).toBeLessThan(HEALTHZ_BOUND_MS);
    expect(lagMax).toBeLessThan(HEALTHZ_BOUND_MS / 1000);
  });
});
