// Issue 19, item 4: a W3C traceparent sent with a call that changes something travels with the
// events the change publishes: into the outbox row, in the write's own transaction, and out as
// the NATS header `traceparent`. On PostgreSQL and on PGlite.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SocialGraphApi } from "../gen/realchat/profile/v1/social_graph_api_pb.js";
import { createTestDatabase, storageKinds, type TestDatabase } from "./support/databases.js";
import { answered, createGatewayClient, type GatewayClient } from "./support/gateway-client.js";
import {
  type EventWatcher,
  type PrivateNats,
  startNatsServer,
  until,
  watchProfileEvents,
} from "./support/nats.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const traceparentOf = (traceId: string) => `00-${traceId}-00f067aa0ba902b7-01`;
const newTraceId = () => crypto.randomUUID().replaceAll("-", "");

// A broker of the file's own: its instances consume registrations, and on the shared broker they
// would take other files' (one durable consumer for every instance).
let nats: PrivateNats;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(() => nats?.dispose());

describe.each(storageKinds)("on %s", (kind) => {
  let database: TestDatabase;
  let server: TestServer;
  let gateway: GatewayClient;
  let events: EventWatcher;
  let nc: NatsConnection;
  const graphHeaders: Array<{ subject: string; traceparent: string }> = [];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    server = await startTestServer(
      database.handle,
      {},
      {
        internal: {},
        events: { natsUrl: nats.url, createStreams: true, outboxPollIntervalMs: 250 },
      },
    );
    await until(() => server.service.events.state() === "connected");
    gateway = createGatewayClient(`127.0.0.1:${server.internalPort}`);
    events = await watchProfileEvents(nats.url);
    nc = await connect({ servers: nats.url });
    nc.subscribe("social.>", {
      callback: (error, message) => {
        if (error === null) {
          const traceparent = message.headers?.get("traceparent") ?? "";
          graphHeaders.push({ subject: message.subject, traceparent });
        }
      },
    });
    await nc.flush();
  });

  afterAll(async () => {
    gateway?.close();
    await events?.close();
    await nc?.close();
    await server?.close();
    await database?.drop();
  });

  /** The traceparent column of every outbox row about `userId`, in order. */
  const outboxTraces = async (userId: string) =>
    (
      await database.db
        .selectFrom("outbox")
        .select("traceparent")
        .where("user_id", "=", userId)
        .orderBy("id")
        .execute()
    ).map((row) => row.traceparent);

  it("puts the caller's traceparent on the published ProfileCreated and ProfileUpdated", async () => {
    const userId = crypto.randomUUID();
    const created = traceparentOf(newTraceId());
    const updated = traceparentOf(newTraceId());

    await answered(
      gateway.updateProfile(
        { user_id: userId, display_name: "Traced" },
        { userId, traceparent: created },
      ),
    );
    await answered(
      gateway.updateProfile({ user_id: userId, bio: "later" }, { userId, traceparent: updated }),
    );

    await until(() => events.of(userId).length === 2);
    expect(events.of(userId).map((event) => event.traceparent)).toEqual([created, updated]);
    expect(await outboxTraces(userId)).toEqual([created, updated]);
  });

  it("leaves it off events of calls without one, and off writes after a traced one", async () => {
    const traced = crypto.randomUUID();
    const untraced = crypto.randomUUID();
    const traceparent = traceparentOf(newTraceId());

    await answered(
      gateway.updateProfile(
        { user_id: traced, display_name: "T" },
        { userId: traced, traceparent },
      ),
    );
    for (const bio of ["one", "two", "three"]) {
      await answered(gateway.updateProfile({ user_id: untraced, bio }, { userId: untraced }));
    }

    await until(() => events.of(untraced).length === 3);
    expect(events.of(untraced).map((event) => event.traceparent)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(await outboxTraces(untraced)).toEqual([null, null, null]);
  });

  it.each([
    ["malformed", "not-a-traceparent"],
    ["an all-zero trace id", `00-${"0".repeat(32)}-00f067aa0ba902b7-01`],
    ["upper-case", traceparentOf(newTraceId()).toUpperCase()],
  ])("passes on no %s traceparent", async (_, traceparent) => {
    const userId = crypto.randomUUID();

    await answered(
      gateway.updateProfile({ user_id: userId, display_name: "X" }, { userId, traceparent }),
    );

    await until(() => events.of(userId).length === 1);
    expect(events.of(userId)[0]?.traceparent).toBeUndefined();
  });

  it("puts it on the social graph's events too", async () => {
    const owner = crypto.randomUUID();
    const other = crypto.randomUUID();
    for (const userId of [owner, other]) {
      await answered(gateway.updateProfile({ user_id: userId, display_name: "G" }, { userId }));
    }
    const traceparent = traceparentOf(newTraceId());
    const graph = createClient(
      SocialGraphApi,
      createGrpcTransport({ baseUrl: server.internalBaseUrl ?? "" }),
    );

    await graph.addContact(
      { userId: owner, otherUserId: other },
      { headers: { "x-user-id": owner, traceparent } },
    );

    await until(() => graphHeaders.some((header) => header.subject.endsWith(owner)));
    expect(graphHeaders.find((header) => header.subject.endsWith(owner))?.traceparent).toBe(
      traceparent,
    );
  });
});
