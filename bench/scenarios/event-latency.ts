// npm run bench:events: how long after UpdateProfile answers its ProfileUpdated reaches a
// subscriber, measured against the broker's own publish-to-receive time in the same run.
//
// Starts the service in this process (compose and listen, as npm start does) on a fresh PostgreSQL
// database and the NATS at TEST_NATS_URL, makes BENCH_UPDATES (default 1000) sequential updates
// of one user, and for each times the RPC and the arrival of its event on a core NATS
// subscription.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { connect } from "@nats-io/transport-node";
import { ProfileApi } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { compose } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { decodeProfileEvent } from "../../src/events/outbox/profile-events.js";
import { type Listening, listen } from "../../src/transport/listen.js";
import { bearer } from "../../tests/support/clients.js";
import { testDatabaseUrl, testNatsUrl } from "../../tests/support/environment.js";
import { benchAuth, benchToken } from "../harness/auth.js";
import { createDatabase } from "../harness/database.js";
import { machine, resultsFile, writeResults } from "../harness/results.js";
import { latencySummary } from "../harness/stats.js";

const updates = Number(process.env.BENCH_UPDATES ?? 1000);
const database = await createDatabase(testDatabaseUrl, "bench_events");
let service: Listening | undefined;

try {
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: `${database.url}`,
    JWT_SECRET: benchAuth.secret,
    NATS_URL: testNatsUrl,
    LOG_LEVEL: "error",
    // One user updates its own profile BENCH_UPDATES times in a row: more than a user's write
    // quota allows, and the quota is not what this measures.
    QUOTA_USER_PROFILES_PER_SECOND: "0",
  });
  service = await listen(await compose(config), config);
  const { port } = service.address;
  const userId = crypto.randomUUID();
  const token = await benchToken(userId, { expiresIn: "1h" });
  const client = createClient(
    ProfileApi,
    createGrpcTransport({
      baseUrl: `http://127.0.0.1:${port}`,
      interceptors: bearer(token),
    }),
  );
  const nc = await connect({ servers: testNatsUrl });

  // Arrivals by version: the subscriber records when each event of the user arrives.
  const arrivals = new Map<bigint, number>();
  const waiters = new Map<bigint, () => void>();
  const subscription = nc.subscribe(`profile.*.${userId}`, {
    callback: (error, message) => {
      if (error !== null) return;
      const event = decodeProfileEvent(
        message.headers?.get("Realchat-Event-Type") ?? "",
        message.headers?.get("Content-Type") ?? "",
        message.data,
      );
      arrivals.set(event.version, performance.now());
      waiters.get(event.version)?.();
    },
  });
  const arrivalOf = (version: bigint) =>
    arrivals.has(version)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.set(version, resolve));

  // The first update creates the profile; its event says events flow.
  await client.updateProfile({ userId, displayName: "Bench" });
  await arrivalOf(1n);

  // Baseline: the broker's own publish-to-receive time for a message of the same size.
  const probeSubject = `bench.probe.${userId}`;
  const probe = nc.subscribe(probeSubject);
  const payload = new Uint8Array(200);
  const brokerSamples: number[] = [];
  const probeIterator = probe[Symbol.asyncIterator]();
  for (let n = 0; n < updates; n++) {
    const start = performance.now();
    nc.publish(probeSubject, payload);
    await probeIterator.next();
    brokerSamples.push(performance.now() - start);
  }
  probe.unsubscribe();

  const rpcSamples: number[] = [];
  const endToEndSamples: number[] = [];
  for (let n = 0; n < updates; n++) {
    const start = performance.now();
    const profile = await client.updateProfile({ userId, bio: `update ${n}` });
    rpcSamples.push(performance.now() - start);
    const version = BigInt(profile.etag.slice(1));
    await arrivalOf(version);
    endToEndSamples.push((arrivals.get(version) ?? Number.NaN) - start);
  }
  subscription.unsubscribe();
  await nc.close();

  const results = {
    when: new Date().toISOString(),
    machine: machine(),
    conditions: {
      updates,
      mode: "sequential: one update in flight, the next after its event arrived",
      service:
        "compose + listen in the bench's process, PostgreSQL, relay woken by NOTIFY, protobuf events",
      broker: testNatsUrl,
    },
    ms: {
      "broker publish→receive (baseline)": latencySummary(brokerSamples),
      "UpdateProfile RPC": latencySummary(rpcSamples),
      "UpdateProfile sent → ProfileUpdated received": latencySummary(endToEndSamples),
    },
  };
  console.log(
    `\nevent latency — ${results.machine.cores} cores, Node ${process.version}, ${updates} sequential updates\n`,
  );
  console.table(results.ms);
  const file = await writeResults(resultsFile("event-latency", results.when), results);
  console.log(`results written to ${file}`);
} finally {
  await service?.stop();
  await database.drop();
}
