// Attackers that abuse connections and streams rather than calls: connections that never send
// a request (item 3), unauthenticated streams held open (item 4), streams reset as soon as sent
// (item 5).
import type http2 from "node:http2";
import net from "node:net";
import { HealthCheckRequestSchema } from "../../../gen/health/v1/health_pb.js";
import { UpdateProfileRequestSchema } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import { grpcMessage } from "../../harness/load.js";
import { codeName, createSessionPool, requestHeaders, resetCall } from "../wire.js";
import {
  type AttackContext,
  type AttackReport,
  atRate,
  breach,
  count,
  newReport,
  UPDATE,
} from "./attack.js";

/** Item 3: HTTP/1.1 connections that send "G" and nothing more; the server must close them. */
export async function slowloris(ctx: AttackContext): Promise<AttackReport> {
  const limitS = Number(process.env.SOAK_SLOWLORIS_MAX_S ?? 20);
  const r = newReport(
    "slowloris",
    3,
    'TCP connection sending "G" and nothing more, one every 5 s (at most 60)',
    `the server closes each within ${limitS} s (SOAK_SLOWLORIS_MAX_S; HTTP_HEADERS_TIMEOUT_MS closes them at 15 s)`,
  );
  const sockets: { opened: number; closed?: number; socket: net.Socket }[] = [];
  await atRate(ctx, 0.2, async (n) => {
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
  });
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
export async function watchFlood(ctx: AttackContext): Promise<AttackReport> {
  const streams = Number(process.env.SOAK_WATCH_STREAMS ?? 2000);
  const maxOpen = Number(process.env.SOAK_WATCH_MAX_OPEN ?? 1000);
  const connections = 20;
  const r = newReport(
    "watch",
    4,
    `${streams} grpc.health.v1.Health/Watch streams without a token over ${connections} connections, opened after a third of the run and held to its end`,
    `at most ${maxOpen} open at once (SOAK_WATCH_MAX_OPEN: unauthenticated streams are capped), never INTERNAL`,
  );
  const pools = Array.from({ length: connections }, () => createSessionPool(ctx.origin));
  const body = grpcMessage(HealthCheckRequestSchema, {});
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
export async function rapidReset(ctx: AttackContext): Promise<AttackReport> {
  const burst = 50;
  const r = newReport(
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
  await atRate(ctx, 0.2, async (n) => {
    const before = await ctx.versionOf(ownId).catch(() => undefined);
    if (before === undefined) return;
    const start = performance.now();
    const session = pool.get();
    for (let i = 0; i < burst; i++) {
      const body = grpcMessage(UpdateProfileRequestSchema, {
        userId: ownId,
        bio: `reset ${n}.${i}`,
      });
      try {
        resetCall(session, requestHeaders("grpc", UPDATE, token), body);
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
  });
  pool.close();
  r.notes.push(`${committed} of ${sent} reset updates were committed anyway`);
  if (sent > 0 && committed > sent / 10) {
    breach(r, `${committed} of ${sent} updates reset by the client were committed anyway`);
  }
  return r;
}
