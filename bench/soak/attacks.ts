// The soak's attackers: one per kind of attack in issue 10's "What broke" list that applies to a
// running PostgreSQL deployment, each at a low rate, each with the rule that makes it a breach.
// The rules describe the service once every item is fixed; today's code breaches several.
import type http2 from "node:http2";
import net from "node:net";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SignJWT } from "jose";
import { HealthCheckRequestSchema } from "../../gen/health/v1/health_pb.js";
import {
  GetProfileRequestSchema,
  ProfileApi,
  UpdateProfileRequestSchema,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { atFixedRate, grpcFrame } from "../harness/load.js";
import { codeName, createSessionPool, isAnswer, outcomeOf, rawCall, resetCall } from "./wire.js";

export const attackKinds = [
  "bomb",
  "unfinished",
  "slowloris",
  "watch",
  "reset",
  "deadline",
  "malformed",
  "claims",
  "invisible",
  "scraper",
] as const;
export type AttackKind = (typeof attackKinds)[number];

/** What the attackers may use and where they report. */
export interface AttackContext {
  readonly origin: string;
  readonly port: number;
  /** HS256 secret the service verifies tokens with (to forge well-signed odd claims). */
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  /** A valid user token for `userId`, a user of the attacker's own. */
  tokenFor(userId: string): Promise<string>;
  /** A seeded profile the attackers read, and try to change without owning it. */
  readonly victimUserId: string;
  /** The n-th seeded profile id, 1-based. */
  seededId(n: number): string;
  readonly profiles: number;
  readonly durationMs: number;
  stopped(): boolean;
  /** The stored version of a profile (0 if none), read from the database. */
  versionOf(userId: string): Promise<number>;
  /** Counts a call the service answered, by procedure, to compare with its metrics. */
  answered(procedure: string): void;
  /** Notes that an attacker call was in flight from `start` to `end` (performance.now()). */
  busy(kind: AttackKind, start: number, end: number): void;
}

/** What one attacker did and which of its rules it broke. */
export interface AttackReport {
  readonly kind: AttackKind;
  readonly item: number;
  readonly what: string;
  readonly rule: string;
  calls: number;
  readonly outcomes: Record<string, number>;
  readonly breaches: string[];
  readonly notes: string[];
}

const API = "/realchat.profile.v1.ProfileApi";
const GET = `${API}/GetProfile`;
const UPDATE = `${API}/UpdateProfile`;
const BATCH = `${API}/BatchGetProfiles`;
const CHECK = "/grpc.health.v1.Health/Check";
/** What an attacker call may take beyond its own deadline before it counts as held. */
const SLACK_MS = 3000;

function report(kind: AttackKind, item: number, what: string, rule: string): AttackReport {
  return { kind, item, what, rule, calls: 0, outcomes: {}, breaches: [], notes: [] };
}

function count(r: AttackReport, outcome: string): void {
  r.calls += 1;
  r.outcomes[outcome] = (r.outcomes[outcome] ?? 0) + 1;
}

/** Adds a breach once per distinct text, with how often it happened. */
function breach(r: AttackReport, text: string): void {
  const at = r.breaches.findIndex((b) => b === text || b.startsWith(`${text} (×`));
  if (at === -1) {
    r.breaches.push(text);
    return;
  }
  const times = Number(/\(×(\d+)\)$/.exec(r.breaches[at] ?? "")?.[1] ?? 1) + 1;
  r.breaches[at] = `${text} (×${times})`;
}

/** Outcomes a client may produce by itself (its own deadline, a lost connection): not answers. */
const clientSide = new Set(["DEADLINE_EXCEEDED", "UNAVAILABLE", "CANCELED", "NO_ANSWER"]);

const grpcHeaders = (path: string, token: string, extra: http2.OutgoingHttpHeaders = {}) => ({
  ":path": path,
  "content-type": "application/grpc",
  te: "trailers",
  authorization: `Bearer ${token}`,
  ...extra,
});
const connectHeaders = (path: string, token: string, extra: http2.OutgoingHttpHeaders = {}) => ({
  ":path": path,
  "content-type": "application/proto",
  "connect-protocol-version": "1",
  authorization: `Bearer ${token}`,
  ...extra,
});

/** Starts the attackers named in `kinds`; resolves with their reports once `ctx.stopped()`. */
export async function runAttackers(
  ctx: AttackContext,
  kinds: readonly AttackKind[],
): Promise<AttackReport[]> {
  const attackers: Record<AttackKind, () => Promise<AttackReport>> = {
    bomb: () => combiningMarkBomb(ctx),
    unfinished: () => unfinishedBodies(ctx),
    slowloris: () => slowloris(ctx),
    watch: () => watchFlood(ctx),
    reset: () => rapidReset(ctx),
    deadline: () => hugeDeadlines(ctx),
    malformed: () => malformedBytes(ctx),
    claims: () => oddClaims(ctx),
    invisible: () => invisibleNames(ctx),
    scraper: () => scraper(ctx),
  };
  return Promise.all(kinds.map((kind) => attackers[kind]()));
}

/** Item 1: "a" and 2 × 65,536 combining marks in display_name or bio, own profile or another's. */
async function combiningMarkBomb(ctx: AttackContext): Promise<AttackReport> {
  const r = report(
    "bomb",
    1,
    "UpdateProfile over Connect JSON (HTTP/1.1), display_name or bio = 'a' + 15,000 × U+0301 + 15,000 × U+0316 (60 KB: under MAX_REQUEST_BYTES, so the field rules see it), every 30 s from 5 s on, 2 s deadline",
    "answered within deadline + 3 s, never INTERNAL (and /healthz stays fast: see the health check)",
  );
  const ownId = crypto.randomUUID();
  const token = await ctx.tokenFor(ownId);
  // The largest bomb MAX_REQUEST_BYTES lets through to the field rules. Unbounded NFC took about
  // 0.6 s on 64 KB (and 9.8 s on 256 KB); the raw-length bound refuses it before NFC.
  const marks = `a${"\u0301".repeat(15_000)}${"\u0316".repeat(15_000)}`;
  const deadlineMs = 2000;
  // 5 s in, once the other attackers are under way: a stall then shows this call as its oldest.
  await new Promise((resolve) => setTimeout(resolve, Math.min(5000, ctx.durationMs / 4)));
  await atFixedRate(
    1 / 30,
    ctx.durationMs,
    async (n) => {
      const field = n % 2 === 0 ? "displayName" : "bio";
      const target = n % 4 < 2 ? ownId : ctx.victimUserId;
      const start = performance.now();
      let outcome = "NO_ANSWER";
      try {
        const response = await fetch(`${ctx.origin}${UPDATE}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "connect-protocol-version": "1",
            "connect-timeout-ms": String(deadlineMs),
            authorization: `Bearer ${token}`,
          },
          body: JSON.stringify({ userId: target, [field]: marks }),
          signal: AbortSignal.timeout(deadlineMs + SLACK_MS),
        });
        const body = new Uint8Array(await response.arrayBuffer());
        outcome =
          response.status === 200
            ? "OK"
            : ((
                JSON.parse(Buffer.from(body).toString() || "{}") as { code?: string }
              ).code?.toUpperCase() ?? `HTTP_${response.status}`);
        ctx.answered(UPDATE.slice(1));
      } catch {
        // aborted at deadline + slack: NO_ANSWER
      }
      const end = performance.now();
      ctx.busy("bomb", start, end);
      count(r, outcome);
      if (outcome === "NO_ANSWER") {
        breach(r, `no answer within ${deadlineMs + SLACK_MS} ms`);
      } else if (end - start > deadlineMs + SLACK_MS) {
        breach(r, `answered only after ${Math.round(end - start)} ms`);
      }
      if (outcome === "INTERNAL" || outcome === "HTTP_500") breach(r, `answered ${outcome}`);
      if (outcome === "OK") breach(r, `accepted a ${field} of ${marks.length} characters`);
    },
    ctx.stopped,
  );
  return r;
}

/** Item 2: gRPC and Connect binary requests that send most of their body and never end it. */
async function unfinishedBodies(ctx: AttackContext): Promise<AttackReport> {
  const r = report(
    "unfinished",
    2,
    "GetProfile on gRPC (grpc-timeout 2S) and Connect binary (connect-timeout-ms 2000), body cut short and never ended, every 2 s",
    "answered by the deadline (+3 s), never INTERNAL",
  );
  const token = await ctx.tokenFor(crypto.randomUUID());
  const pool = createSessionPool(ctx.origin);
  const message = toBinary(
    GetProfileRequestSchema,
    create(GetProfileRequestSchema, { userId: ctx.victimUserId }),
  );
  const half = message.subarray(0, message.length - 10);
  await atFixedRate(
    0.5,
    ctx.durationMs,
    async (n) => {
      const grpc = n % 2 === 0;
      const answer = grpc
        ? await rawCall(
            pool.get(),
            grpcHeaders(GET, token, { "grpc-timeout": "2S" }),
            grpcFrame(message).subarray(0, 5 + half.length),
            { waitMs: 2000 + SLACK_MS, end: false },
          )
        : await rawCall(
            pool.get(),
            connectHeaders(GET, token, { "connect-timeout-ms": "2000" }),
            half,
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
    },
    ctx.stopped,
  );
  pool.close();
  return r;
}

/** Item 3: HTTP/1.1 connections that send "G" and nothing more; the server must close them. */
async function slowloris(ctx: AttackContext): Promise<AttackReport> {
  const limitS = Number(process.env.SOAK_SLOWLORIS_MAX_S ?? 20);
  const r = report(
    "slowloris",
    3,
    'TCP connection sending "G" and nothing more, one every 5 s (at most 60)',
    `the server closes each within ${limitS} s (SOAK_SLOWLORIS_MAX_S; HTTP_HEADERS_TIMEOUT_MS closes them at 15 s)`,
  );
  const sockets: { opened: number; closed?: number; socket: net.Socket }[] = [];
  await atFixedRate(
    0.2,
    ctx.durationMs,
    async (n) => {
      if (n >= 60) return;
      const socket = net.connect(ctx.port, "127.0.0.1");
      const entry: { opened: number; closed?: number; socket: net.Socket } = {
        opened: performance.now(),
        socket,
      };
      sockets.push(entry);
      socket.on("error", () => {});
      socket.on("data", () => {});
      socket.once("close", () => {
        entry.closed = performance.now();
      });
      socket.write("G");
      count(r, "opened");
    },
    ctx.stopped,
  );
  const now = performance.now();
  let held = 0;
  let young = 0;
  let closed = 0;
  let oldest = 0;
  for (const entry of sockets) {
    const life = ((entry.closed ?? now) - entry.opened) / 1000;
    if (entry.closed !== undefined) {
      closed += 1;
      oldest = Math.max(oldest, life);
    } else if (life > limitS) {
      held += 1;
    } else {
      young += 1;
    }
    entry.socket.destroy();
  }
  r.notes.push(
    `${closed} closed by the server (longest lived ${oldest.toFixed(1)} s), ${held} still open after more than ${limitS} s, ${young} younger than ${limitS} s (not judged)`,
  );
  if (held > 0) breach(r, `${held} connection(s) still open after more than ${limitS} s`);
  if (closed === 0 && held === 0) {
    r.notes.push(`not judged: no connection was older than ${limitS} s at the end of the run`);
  }
  return r;
}

/** Item 4: unauthenticated Health/Watch streams, a bounded number, held to the end. */
async function watchFlood(ctx: AttackContext): Promise<AttackReport> {
  const streams = Number(process.env.SOAK_WATCH_STREAMS ?? 2000);
  const maxOpen = Number(process.env.SOAK_WATCH_MAX_OPEN ?? 1000);
  const connections = 20;
  const r = report(
    "watch",
    4,
    `${streams} grpc.health.v1.Health/Watch streams without a token over ${connections} connections, opened after a third of the run and held to its end`,
    `at most ${maxOpen} open at once (SOAK_WATCH_MAX_OPEN: unauthenticated streams are capped), never INTERNAL`,
  );
  const pools = Array.from({ length: connections }, () => createSessionPool(ctx.origin));
  const body = grpcFrame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema)));
  // After the first third of the run, so that the RSS check sees what the streams cost.
  const startAt = performance.now() + ctx.durationMs * 0.35;
  while (performance.now() < startAt && !ctx.stopped()) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  let open = 0;
  let peak = 0;
  const opened: http2.ClientHttp2Stream[] = [];
  for (let n = 0; n < streams && !ctx.stopped(); n++) {
    const pool = pools[n % connections];
    if (pool === undefined) continue;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = pool.get().request({
        ":method": "POST",
        ":path": "/grpc.health.v1.Health/Watch",
        "content-type": "application/grpc",
        te: "trailers",
      });
    } catch {
      count(r, "not sent");
      continue;
    }
    opened.push(stream);
    let counted = false;
    let status: string | undefined;
    stream.on("error", () => {});
    stream.on("response", (headers) => {
      if (headers["grpc-status"] !== undefined) status = String(headers["grpc-status"]);
    });
    stream.on("trailers", (trailers) => {
      status = String(trailers["grpc-status"] ?? status);
    });
    stream.on("data", () => {
      if (counted) return;
      counted = true;
      open += 1;
      peak = Math.max(peak, open);
    });
    stream.once("close", () => {
      if (counted) open -= 1;
      if (ctx.stopped()) return;
      const outcome = status === undefined ? `reset (${stream.rstCode})` : codeName(Number(status));
      count(r, outcome);
      if (outcome === "INTERNAL") breach(r, "a Watch stream ended INTERNAL");
    });
    stream.end(body);
    if (n % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  while (!ctx.stopped()) await new Promise((resolve) => setTimeout(resolve, 200));
  r.calls = Math.max(r.calls, opened.length);
  r.notes.push(
    `${opened.length} streams sent, at most ${peak} open at once, ${open} open at the end`,
  );
  if (peak > maxOpen) breach(r, `${peak} unauthenticated Watch streams held open at once`);
  for (const pool of pools) pool.close();
  return r;
}

/** Item 5: bursts of UpdateProfile streams reset right after their body was sent. */
async function rapidReset(ctx: AttackContext): Promise<AttackReport> {
  const burst = 50;
  const r = report(
    "reset",
    5,
    `HTTP/2 rapid reset with bodies: ${burst} UpdateProfile streams (own profile, each a new bio) sent and reset at once, every 5 s`,
    "at most 10 % of the reset updates committed (a call reset before its SQL began skips it)",
  );
  const ownId = crypto.randomUUID();
  const token = await ctx.tokenFor(ownId);
  const pool = createSessionPool(ctx.origin);
  let sent = 0;
  let committed = 0;
  await atFixedRate(
    0.2,
    ctx.durationMs,
    async (n) => {
      const before = await ctx.versionOf(ownId).catch(() => undefined);
      if (before === undefined) return;
      const start = performance.now();
      const session = pool.get();
      for (let i = 0; i < burst; i++) {
        const body = grpcFrame(
          toBinary(
            UpdateProfileRequestSchema,
            create(UpdateProfileRequestSchema, { userId: ownId, bio: `reset ${n}.${i}` }),
          ),
        );
        try {
          resetCall(session, grpcHeaders(UPDATE, token), body);
          sent += 1;
          count(r, "sent and reset");
        } catch {
          count(r, "not sent");
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
      ctx.busy("reset", start, performance.now());
      const after = await ctx.versionOf(ownId).catch(() => undefined);
      if (after === undefined) {
        r.notes.push(`burst ${n}: its commits could not be counted (database unreachable)`);
        return;
      }
      committed += Math.max(0, after - before);
    },
    ctx.stopped,
  );
  pool.close();
  r.notes.push(`${committed} of ${sent} reset updates were committed anyway`);
  if (sent > 0 && committed > sent / 10) {
    breach(r, `${committed} of ${sent} updates reset by the client were committed anyway`);
  }
  return r;
}

/** Item 6: valid but huge client deadlines: grpc-timeout 597H, connect-timeout-ms 9999999999. */
async function hugeDeadlines(ctx: AttackContext): Promise<AttackReport> {
  const r = report(
    "deadline",
    6,
    "GetProfile of an existing profile with grpc-timeout 597H (gRPC) or connect-timeout-ms 9999999999 (Connect binary), every 2 s",
    "answered OK (the deadline is clamped, not refused)",
  );
  const token = await ctx.tokenFor(crypto.randomUUID());
  const pool = createSessionPool(ctx.origin);
  const message = toBinary(
    GetProfileRequestSchema,
    create(GetProfileRequestSchema, { userId: ctx.victimUserId }),
  );
  await atFixedRate(
    0.5,
    ctx.durationMs,
    async (n) => {
      const grpc = n % 2 === 0;
      const transport = grpc ? "gRPC 597H" : "Connect 9999999999 ms";
      const start = performance.now();
      const answer = grpc
        ? await rawCall(
            pool.get(),
            grpcHeaders(GET, token, { "grpc-timeout": "597H" }),
            grpcFrame(message),
            {
              waitMs: 10_000,
            },
          )
        : await rawCall(
            pool.get(),
            connectHeaders(GET, token, { "connect-timeout-ms": "9999999999" }),
            message,
            { waitMs: 10_000 },
          );
      ctx.busy("deadline", start, performance.now());
      count(r, `${transport}: ${answer.code}`);
      if (isAnswer(answer)) ctx.answered(GET.slice(1));
      if (answer.code !== "OK") breach(r, `${transport}: answered ${answer.code}`);
    },
    ctx.stopped,
  );
  pool.close();
  return r;
}

/** Item 7: undecodable protobuf and truncated gzip, over gRPC and Connect binary. */
async function malformedBytes(ctx: AttackContext): Promise<AttackReport> {
  const r = report(
    "malformed",
    7,
    "GetProfile and Health/Check with invalid UTF-8 in a string field, a truncated varint, or truncated gzip, over gRPC and Connect binary, one a second",
    "protobuf that does not decode: INVALID_ARGUMENT without the parser's text; truncated gzip: INVALID_ARGUMENT or INTERNAL (gRPC's statuscodes.md: 'could not decompress' is INTERNAL); always answered (and counted: see the metrics check)",
  );
  const token = await ctx.tokenFor(crypto.randomUUID());
  const pool = createSessionPool(ctx.origin);
  const valid = toBinary(
    GetProfileRequestSchema,
    create(GetProfileRequestSchema, { userId: ctx.victimUserId }),
  );
  const gzipped = gzipSync(valid);
  const truncatedGzip = gzipped.subarray(0, Math.floor(gzipped.length / 2));
  const cases = [
    { name: "invalid UTF-8", bytes: Uint8Array.of(0x0a, 0x02, 0xff, 0xfe), gzip: false },
    { name: "truncated varint", bytes: Uint8Array.of(0x0a, 0xff), gzip: false },
    { name: "truncated gzip", bytes: truncatedGzip, gzip: true },
  ];
  const parserText = /premature EOF|not valid for encoding|invalid wire type|decompression failed/i;
  await atFixedRate(
    1,
    ctx.durationMs,
    async (n) => {
      const grpc = n % 2 === 0;
      // Health/Check too: no other caller uses it, so its count in /metrics must match exactly.
      const path = Math.floor(n / 2) % 2 === 0 ? GET : CHECK;
      const bad = cases[Math.floor(n / 4) % cases.length];
      if (bad === undefined) return;
      const frame = grpcFrame(bad.bytes);
      if (bad.gzip) frame[0] = 1;
      const start = performance.now();
      const answer = grpc
        ? await rawCall(
            pool.get(),
            grpcHeaders(path, token, bad.gzip ? { "grpc-encoding": "gzip" } : {}),
            frame,
            { waitMs: 10_000 },
          )
        : await rawCall(
            pool.get(),
            connectHeaders(path, token, bad.gzip ? { "content-encoding": "gzip" } : {}),
            bad.bytes,
            { waitMs: 10_000 },
          );
      ctx.busy("malformed", start, performance.now());
      const label = `${grpc ? "gRPC" : "Connect binary"} ${path.split("/").at(-1)}, ${bad.name}`;
      count(r, `${label}: ${answer.code}`);
      if (isAnswer(answer)) ctx.answered(path.slice(1));
      const allowed = bad.gzip ? ["INVALID_ARGUMENT", "INTERNAL"] : ["INVALID_ARGUMENT"];
      if (!allowed.includes(answer.code)) breach(r, `${label}: answered ${answer.code}`);
      if (!bad.gzip && parserText.test(answer.message)) {
        breach(r, `${label}: the parser's text reached the client ("${answer.message}")`);
      }
    },
    ctx.stopped,
  );
  pool.close();
  return r;
}

/** Item 8: well-signed tokens whose claims have the wrong type. */
async function oddClaims(ctx: AttackContext): Promise<AttackReport> {
  const r = report(
    "claims",
    8,
    "GetProfile and UpdateProfile (of a profile the token's subject does not own) over gRPC with a validly signed token whose sub is an array or a number, or whose scope is a number, every 2 s",
    "answered UNAUTHENTICATED (no answer within 5 s or UNAVAILABLE is left to the load's and /healthz's checks)",
  );
  const key = new TextEncoder().encode(ctx.secret);
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(ctx.issuer)
      .setAudience(ctx.audience)
      .setIssuedAt()
      .setExpirationTime("2h")
      .sign(key);
  const cases = [
    { name: "sub array", token: await sign({ sub: [crypto.randomUUID()] }) },
    { name: "sub number", token: await sign({ sub: 42 }) },
    { name: "scope number", token: await sign({ sub: crypto.randomUUID(), scope: 7 }) },
  ];
  const client = createClient(ProfileApi, createGrpcTransport({ baseUrl: ctx.origin }));
  await atFixedRate(
    0.5,
    ctx.durationMs,
    async (n) => {
      const bad = cases[n % cases.length];
      if (bad === undefined) return;
      const update = Math.floor(n / cases.length) % 2 === 1;
      const options = { headers: { authorization: `Bearer ${bad.token}` }, timeoutMs: 5000 };
      const start = performance.now();
      const outcome = await (update
        ? client.updateProfile({ userId: ctx.victimUserId, bio: "claims" }, options)
        : client.getProfile({ userId: ctx.victimUserId }, options)
      ).then(
        () => "OK",
        (error: unknown) => outcomeOf(error),
      );
      ctx.busy("claims", start, performance.now());
      const label = `${update ? "UpdateProfile" : "GetProfile"}, ${bad.name}`;
      count(r, `${label}: ${outcome}`);
      if (clientSide.has(outcome)) return;
      ctx.answered((update ? UPDATE : GET).slice(1));
      if (outcome !== "UNAUTHENTICATED") breach(r, `${label}: answered ${outcome}`);
    },
    ctx.stopped,
  );
  return r;
}

/** Item 9: display names that render as nothing, and a bidi override in bio. */
async function invisibleNames(ctx: AttackContext): Promise<AttackReport> {
  const r = report(
    "invisible",
    9,
    "UpdateProfile of the caller's own profile with an invisible or forbidden display_name, or a right-to-left override in bio, every 2 s",
    "answered INVALID_ARGUMENT (no answer within 5 s or UNAVAILABLE is left to the load's and /healthz's checks)",
  );
  const ownId = crypto.randomUUID();
  const token = await ctx.tokenFor(ownId);
  const cases: { name: string; displayName?: string; bio?: string }[] = [
    { name: "U+3164 Hangul filler", displayName: "\u3164" },
    { name: "U+2800 braille blank", displayName: "\u2800" },
    { name: "U+115F Hangul choseong filler", displayName: "\u115F" },
    { name: "combining marks alone", displayName: "\u0301\u0316\u0301" },
    { name: "U+FFFF noncharacter", displayName: "ok\uFFFF" },
    { name: "U+E000 private use", displayName: "ok\uE000" },
    { name: "U+202E override in bio", bio: "hello \u202Edlrow" },
  ];
  const client = createClient(ProfileApi, createGrpcTransport({ baseUrl: ctx.origin }));
  await atFixedRate(
    0.5,
    ctx.durationMs,
    async (n) => {
      const bad = cases[n % cases.length];
      if (bad === undefined) return;
      const start = performance.now();
      const outcome = await client
        .updateProfile(
          { userId: ownId, displayName: bad.displayName, bio: bad.bio },
          { headers: { authorization: `Bearer ${token}` }, timeoutMs: 5000 },
        )
        .then(
          () => "OK",
          (error: unknown) => outcomeOf(error),
        );
      ctx.busy("invisible", start, performance.now());
      count(r, `${bad.name}: ${outcome}`);
      if (clientSide.has(outcome)) return;
      ctx.answered(UPDATE.slice(1));
      if (outcome !== "INVALID_ARGUMENT") breach(r, `${bad.name}: answered ${outcome}`);
    },
    ctx.stopped,
  );
  return r;
}

/** Item 10: one user token reading every profile, 1000 at a time, 4 calls a second. */
async function scraper(ctx: AttackContext): Promise<AttackReport> {
  const sustained = Number(process.env.SOAK_SCRAPER_ALLOWED_PER_S ?? 2000);
  const burst = Number(process.env.SOAK_SCRAPER_ALLOWED_BURST ?? 20_000);
  const r = report(
    "scraper",
    10,
    "one user token, BatchGetProfiles of 1000 ids walking all profiles, 4 calls a second (4,000 profiles/s)",
    `served at most ${burst} + ${sustained}/s × elapsed profiles (SOAK_SCRAPER_ALLOWED_BURST, SOAK_SCRAPER_ALLOWED_PER_S); throttled calls get RESOURCE_EXHAUSTED with google.rpc.RetryInfo; never INTERNAL`,
  );
  const token = await ctx.tokenFor(crypto.randomUUID());
  const client = createClient(ProfileApi, createGrpcTransport({ baseUrl: ctx.origin }));
  let served = 0;
  let withoutRetryInfo = 0;
  const started = performance.now();
  await atFixedRate(
    4,
    ctx.durationMs,
    async (n) => {
      const first = (n * 1000) % ctx.profiles;
      const userIds = Array.from({ length: 1000 }, (_, i) =>
        ctx.seededId(1 + ((first + i) % ctx.profiles)),
      );
      const start = performance.now();
      let outcome = "OK";
      try {
        const response = await client.batchGetProfiles(
          { userIds },
          { headers: { authorization: `Bearer ${token}` }, timeoutMs: 10_000 },
        );
        served += response.profiles.length;
      } catch (error) {
        outcome = outcomeOf(error);
        const hasRetryInfo = ConnectError.from(error).details.some(
          (detail) => "type" in detail && detail.type === "google.rpc.RetryInfo",
        );
        if (outcome === "RESOURCE_EXHAUSTED" && !hasRetryInfo) withoutRetryInfo += 1;
      }
      ctx.busy("scraper", start, performance.now());
      if (!clientSide.has(outcome)) ctx.answered(BATCH.slice(1));
      count(r, outcome);
      if (outcome === "INTERNAL") breach(r, "answered INTERNAL");
    },
    ctx.stopped,
  );
  const elapsedS = (performance.now() - started) / 1000;
  const allowed = Math.round(burst + sustained * elapsedS);
  r.notes.push(
    `${served} profiles served in ${elapsedS.toFixed(1)} s (${Math.round(served / elapsedS)}/s); allowed at most ${allowed}`,
  );
  if (served > allowed) {
    breach(
      r,
      `one token read ${served} profiles in ${elapsedS.toFixed(0)} s, more than ${allowed}`,
    );
  }
  if (withoutRetryInfo > 0) {
    breach(r, `${withoutRetryInfo} RESOURCE_EXHAUSTED answers without google.rpc.RetryInfo`);
  }
  return r;
}
