// Issue 19, item 5: the connections RealChat's gateway keeps. grpc-go pings every 60 s with
// PermitWithoutStream; here a gateway-like grpc-js client pings every second, scaled down, and
// every frame is read off the wire through a tap. Pings are answered and never earn a GOAWAY
// (ENHANCE_YOUR_CALM, "too many pings"); an idle connection is closed only with GOAWAY NO_ERROR,
// and no call is lost to it.
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckRequestSchema } from "../gen/health/v1/health_pb.js";
import { grpcEnvelope } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { answered, createGatewayClient } from "./support/gateway-client.js";
import { startHttp2Tap } from "./support/http2-tap.js";
import { until } from "./support/nats.js";
import { connectRawHttp2, errorCodeOf, frameType } from "./support/raw-http2.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const pingAck = 0x1;
/** A GOAWAY's last stream id, and its error code. */
const lastStreamIdOf = (frame: { payload: Buffer }) => frame.payload.readUInt32BE(0) & 0x7fffffff;
const goawayCodeOf = (frame: { payload: Buffer }) => frame.payload.readUInt32BE(4);

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

/** The service with its internal door, closing HTTP/2 connections idle `idleMs`. */
function serverIdling(idleMs: number): Promise<TestServer> {
  return startTestServer(database.db, {}, { internal: {}, limits: { http2IdleTimeoutMs: idleMs } });
}

describe("keepalive pings without streams", () => {
  let server: TestServer;
  beforeAll(async () => {
    // Longer than the minute of pings: this test is about the pings, the next about idleness.
    server = await serverIdling(120_000);
  });
  afterAll(() => server?.close());

  it("every second for a minute: each answered, no GOAWAY, and the connection serves the next call", async () => {
    const tap = await startHttp2Tap(server.internalPort ?? 0);
    const gateway = createGatewayClient(`127.0.0.1:${tap.port}`, { keepaliveTimeMs: 1000 });
    const userId = crypto.randomUUID();
    try {
      await answered(
        gateway.updateProfile({ user_id: userId, display_name: "Pinger" }, { userId }),
      );
      const streamsBefore = tap.frames.filter(
        (frame) => frame.from === "client" && frame.type === frameType.headers,
      ).length;

      await new Promise((resolve) => setTimeout(resolve, 60_000));

      const pings = tap.frames.filter(
        (frame) => frame.from === "client" && frame.type === frameType.ping && frame.flags === 0,
      );
      const answers = tap.frames.filter(
        (frame) =>
          frame.from === "server" && frame.type === frameType.ping && frame.flags === pingAck,
      );
      const streamsDuring = tap.frames.filter(
        (frame) => frame.from === "client" && frame.type === frameType.headers,
      ).length;
      expect(streamsDuring).toBe(streamsBefore);
      expect(pings.length).toBeGreaterThanOrEqual(50);
      expect(answers.length).toBeGreaterThanOrEqual(pings.length - 1);
      expect(tap.frames.filter((frame) => frame.type === frameType.goaway)).toEqual([]);
      expect(gateway.channel.getConnectivityState(false)).toBe(2 /* READY */);

      const profile = await answered(gateway.getProfile(userId, { userId }));
      expect(profile.display_name).toBe("Pinger");
      expect(tap.connections()).toBe(1);
    } finally {
      gateway.close();
      await tap.close();
    }
  }, 90_000);
});

describe("an idle connection", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await serverIdling(1000);
  });
  afterAll(() => server?.close());

  it("is closed with GOAWAY NO_ERROR however often the client pings; the next call reconnects", async () => {
    const tap = await startHttp2Tap(server.internalPort ?? 0);
    const gateway = createGatewayClient(`127.0.0.1:${tap.port}`, { keepaliveTimeMs: 200 });
    const userId = crypto.randomUUID();
    try {
      await answered(gateway.updateProfile({ user_id: userId, display_name: "Idle" }, { userId }));

      await until(() => tap.openConnections() === 0, 5000);

      const goaways = tap.frames.filter((frame) => frame.type === frameType.goaway);
      const fromServer = goaways.filter((frame) => frame.from === "server");
      // Node may repeat it as the session ends; each names the last stream the server took, the
      // update's: stream 1.
      expect(fromServer.length).toBeGreaterThan(0);
      expect(new Set(fromServer.map(lastStreamIdOf))).toEqual(new Set([1]));
      // NO_ERROR both ways (grpc-js answers with a GOAWAY of its own), never ENHANCE_YOUR_CALM.
      expect(goaways.map(goawayCodeOf).filter((code) => code !== 0)).toEqual([]);
      expect(tap.frames.filter((frame) => frame.type === frameType.rstStream)).toEqual([]);
      const pings = tap.frames.filter(
        (frame) => frame.from === "client" && frame.type === frameType.ping,
      );
      expect(pings.length).toBeGreaterThan(2);

      expect((await answered(gateway.getProfile(userId, { userId }))).display_name).toBe("Idle");
      expect(tap.connections()).toBe(2);
    } finally {
      gateway.close();
      await tap.close();
    }
  });

  it("leaves a stream that crosses its GOAWAY provably unprocessed, so the client may retry it", async () => {
    const connection = await connectRawHttp2(server.internalPort ?? 0);
    try {
      const goaway = await connection.waitFor((frame) => frame.type === frameType.goaway, 5000);
      expect(errorCodeOf(goaway)).toBe(0);
      expect(lastStreamIdOf(goaway)).toBe(0);

      connection.headers(1, {
        ":method": "POST",
        ":scheme": "http",
        ":authority": "127.0.0.1",
        ":path": "/grpc.health.v1.Health/Check",
        "content-type": "application/grpc",
        te: "trailers",
      });
      connection.data(
        1,
        grpcEnvelope(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema))),
        true,
      );
      await connection.closed;

      // Stream 1 is above the GOAWAY's last stream id: nothing of it ran.
      expect(connection.frames.filter((frame) => frame.streamId === 1)).toEqual([]);
    } finally {
      connection.close();
    }
  });

  it("loses no call that races its closing", async () => {
    const gateway = createGatewayClient(`127.0.0.1:${server.internalPort}`, {
      keepaliveTimeMs: 200,
    });
    const userId = crypto.randomUUID();
    try {
      await answered(gateway.updateProfile({ user_id: userId, display_name: "Racer" }, { userId }));
      const failures: string[] = [];
      for (let round = 0; round < 12; round++) {
        // Around the idle timeout, so that some calls start as the server closes.
        await new Promise((resolve) => setTimeout(resolve, 900 + Math.random() * 200));
        const outcome = await gateway.getProfile(userId, { userId });
        if (!outcome.ok) failures.push(`${outcome.error.code} ${outcome.error.details}`);
      }
      expect(failures).toEqual([]);
    } finally {
      gateway.close();
    }
  }, 30_000);
});
