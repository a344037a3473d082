// Attackers that send malformed requests on the wire: bodies never ended (item 2), deadlines
// too large to hold in a timer (item 6), bytes that do not decode (item 7).
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { GetProfileRequestSchema } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import { grpcFrame } from "../../harness/load.js";
import { createSessionPool, isAnswer, rawCallOver } from "../wire.js";
import {
  type AttackContext,
  type AttackReport,
  atRate,
  breach,
  CHECK,
  count,
  GET,
  newReport,
  SLACK_MS,
  timed,
} from "./attack.js";

/** What each of these attackers starts with: a token of its own, a connection, a valid request. */
async function setUp(ctx: AttackContext) {
  return {
    token: await ctx.tokenFor(crypto.randomUUID()),
    pool: createSessionPool(ctx.origin),
    /** GetProfile of the victim, encoded (not framed). */
    message: toBinary(
      GetProfileRequestSchema,
      create(GetProfileRequestSchema, { userId: ctx.victimUserId }),
    ),
  };
}

/** Item 2: gRPC and Connect binary requests that send most of their body and never end it. */
export async function unfinishedBodies(ctx: AttackContext): Promise<AttackReport> {
  const r = newReport(
    "unfinished",
    2,
    "GetProfile on gRPC (grpc-timeout 2S) and Connect binary (connect-timeout-ms 2000), body cut short and never ended, every 2 s",
    "answered by the deadline (+3 s), never INTERNAL",
  );
  const { token, pool, message } = await setUp(ctx);
  const half = message.subarray(0, message.length - 10);
  await atRate(ctx, 0.5, async (n) => {
    const grpc = n % 2 === 0;
    const answer = await rawCallOver(
      grpc ? "grpc" : "connect",
      pool.get(),
      {
        path: GET,
        token,
        headers: grpc ? { "grpc-timeout": "2S" } : { "connect-timeout-ms": "2000" },
      },
      // The gRPC frame announces the whole message.
      grpc ? grpcFrame(message).subarray(0, 5 + half.length) : half,
      { waitMs: 2000 + SLACK_MS, end: false },
    );
    const transport = grpc ? "gRPC" : "Connect binary";
    count(r, `${transport} ${answer.code}`);
    if (answer.code === "NO_ANSWER") {
      breach(r, `${transport}: no answer ${2000 + SLACK_MS} ms after a 2 s deadline`);
    } else if (isAnswer(answer)) {
      ctx.answered(GET.slice(1));
    }
    if (answer.code === "INTERNAL" || answer.code === "HTTP_500") {
      breach(r, `${transport}: answered ${answer.code}`);
    }
  });
  pool.close();
  return r;
}

/** Item 6: valid but huge client deadlines: grpc-timeout 597H, connect-timeout-ms 9999999999. */
export async function hugeDeadlines(ctx: AttackContext): Promise<AttackReport> {
  const r = newReport(
    "deadline",
    6,
    "GetProfile of an existing profile with grpc-timeout 597H (gRPC) or connect-timeout-ms 9999999999 (Connect binary), every 2 s",
    "answered OK (the deadline is clamped, not refused)",
  );
  const { token, pool, message } = await setUp(ctx);
  await atRate(ctx, 0.5, async (n) => {
    const grpc = n % 2 === 0;
    const transport = grpc ? "gRPC 597H" : "Connect 9999999999 ms";
    const answer = await timed(ctx, "deadline", () =>
      rawCallOver(
        grpc ? "grpc" : "connect",
        pool.get(),
        {
          path: GET,
          token,
          headers: grpc ? { "grpc-timeout": "597H" } : { "connect-timeout-ms": "9999999999" },
        },
        grpc ? grpcFrame(message) : message,
        { waitMs: 10_000 },
      ),
    );
    count(r, `${transport}: ${answer.code}`);
    if (isAnswer(answer)) ctx.answered(GET.slice(1));
    if (answer.code !== "OK") breach(r, `${transport}: answered ${answer.code}`);
  });
  pool.close();
  return r;
}

/** Item 7: undecodable protobuf and truncated gzip, over gRPC and Connect binary. */
export async function malformedBytes(ctx: AttackContext): Promise<AttackReport> {
  const r = newReport(
    "malformed",
    7,
    "GetProfile and Health/Check with invalid UTF-8 in a string field, a truncated varint, or truncated gzip, over gRPC and Connect binary, one a second",
    "protobuf that does not decode: INVALID_ARGUMENT without the parser's text; truncated gzip: INVALID_ARGUMENT or INTERNAL (gRPC's statuscodes.md: 'could not decompress' is INTERNAL); always answered (and counted: see the metrics check)",
  );
  const { token, pool, message } = await setUp(ctx);
  const gzipped = gzipSync(message);
  const truncatedGzip = gzipped.subarray(0, Math.floor(gzipped.length / 2));
  const cases = [
    { name: "invalid UTF-8", bytes: Uint8Array.of(0x0a, 0x02, 0xff, 0xfe), gzip: false },
    { name: "truncated varint", bytes: Uint8Array.of(0x0a, 0xff), gzip: false },
    { name: "truncated gzip", bytes: truncatedGzip, gzip: true },
  ];
  const parserText = /premature EOF|not valid for encoding|invalid wire type|decompression failed/i;
  await atRate(ctx, 1, async (n) => {
    const grpc = n % 2 === 0;
    // Health/Check too: no other caller uses it, so its count in /metrics must match exactly.
    const path = Math.floor(n / 2) % 2 === 0 ? GET : CHECK;
    const bad = cases[Math.floor(n / 4) % cases.length];
    if (bad === undefined) return;
    const frame = grpcFrame(bad.bytes);
    if (bad.gzip) frame[0] = 1;
    const encoding = grpc ? { "grpc-encoding": "gzip" } : { "content-encoding": "gzip" };
    const answer = await timed(ctx, "malformed", () =>
      rawCallOver(
        grpc ? "grpc" : "connect",
        pool.get(),
        { path, token, headers: bad.gzip ? encoding : {} },
        grpc ? frame : bad.bytes,
        { waitMs: 10_000 },
      ),
    );
    const label = `${grpc ? "gRPC" : "Connect binary"} ${path.split("/").at(-1)}, ${bad.name}`;
    count(r, `${label}: ${answer.code}`);
    if (isAnswer(answer)) ctx.answered(path.slice(1));
    const allowed = bad.gzip ? ["INVALID_ARGUMENT", "INTERNAL"] : ["INVALID_ARGUMENT"];
    if (!allowed.includes(answer.code)) breach(r, `${label}: answered ${answer.code}`);
    if (!bad.gzip && parserText.test(answer.message)) {
      breach(r, `${label}: the parser's text reached the client ("${answer.message}")`);
    }
  });
  pool.close();
  return r;
}
