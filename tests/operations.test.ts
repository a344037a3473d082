// Operating the service (docs/operating.md): health, readiness, metrics, logs, graceful shutdown.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/health/v1/health_pb.js";
import { testAuth, tokenFor } from "./support/auth.js";
import { codeOf, grpcClient } from "./support/clients.js";
import { createTestDatabase, openThroughProxy, type TestDatabase } from "./support/databases.js";
import { freePort, until, waitForPort } from "./support/nats.js";
import { holdProfileLock } from "./support/row-lock.js";
import type { TcpProxy } from "./support/tcp-proxy.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const { SERVING, NOT_SERVING, SERVICE_UNKNOWN } = HealthCheckResponse_ServingStatus;

let database: TestDatabase;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  database = await createTestDatabase();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

afterAll(async () => {
  await database?.drop();
});

const healthClient = (server: TestServer) =>
  createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));

/** A server whose database connections go through a proxy the test can cut. */
async function serverBehindProxy(): Promise<{ server: TestServer; proxy: TcpProxy }> {
  const { proxy, handle } = await openThroughProxy(database.config);
  const server = await startTestServer(handle.db);
  cleanups.push(
    () => proxy.stop(),
    () => handle.close(),
    () => server.close(),
  );
  return { server, proxy };
}

describe("grpc.health.v1.Health", () => {
  it("answers SERVING for the server and for ProfileApi, without a token", async () => {
    const server = await startTestServer(database.db);
    cleanups.push(() => server.close());
    const health = healthClient(server);

    expect((await health.check({ service: "" })).status).toBe(SERVING);
    expect((await health.check({ service: "realchat.profile.v1.ProfileApi" })).status).toBe(
      SERVING,
    );
  });

  it("answers NOT_FOUND for a service it does not know", async () => {
    const server = await startTestServer(database.db);
    cleanups.push(() => server.close());

    expect(await codeOf(healthClient(server).check({ service: "no.such.Service" }))).toBe(
      "NotFound",
    );
  });

  it("turns NOT_SERVING while the database is unreachable and SERVING once it is back", async () => {
    const { server, proxy } = await serverBehindProxy();
    const health = healthClient(server);

    await proxy.stop();
    await until(async () => (await health.check({ service: "" })).status === NOT_SERVING);
    await proxy.start();
    await until(async () => (await health.check({ service: "" })).status === SERVING);
  });

  it("streams every change to a Watch: SERVING, NOT_SERVING, SERVING", async () => {
    const { server, proxy } = await serverBehindProxy();
    const abort = new AbortController();
    const seen: HealthCheckResponse_ServingStatus[] = [];
    const watching = (async () => {
      for await (const response of healthClient(server).watch(
        { service: "realchat.profile.v1.ProfileApi" },
        { signal: abort.signal },
      )) {
        seen.push(response.status);
      }
    })().catch(() => {});

    await until(() => seen.length === 1);
    await proxy.stop();
    await until(() => seen.length === 2);
    await proxy.start();
    await until(() => seen.length === 3);
    abort.abort();
    await watching;

    expect(seen).toEqual([SERVING, NOT_SERVING, SERVING]);
  });

  it("tells a Watch of an unknown service SERVICE_UNKNOWN and keeps the stream open", async () => {
    const server = await startTestServer(database.db);
    cleanups.push(() => server.close());
    const abort = new AbortController();
    const stream = healthClient(server).watch(
      { service: "no.such.Service" },
      { signal: abort.signal },
    );

    const first = await stream[Symbol.asyncIterator]().next();
    abort.abort();

    expect(first.value?.status).toBe(SERVICE_UNKNOWN);
  });
});

describe("HTTP endpoints", () => {
  it("GET /healthz answers 200 while the process runs", async () => {
    const server = await startTestServer(database.db);
    cleanups.push(() => server.close());

    const response = await fetch(`${server.baseUrl}/healthz`);

    expect(response.status).toBe(200);
  });

  it("GET /readyz answers 200 with the database, migrations and event bus state", async () => {
    const server = await startTestServer(database.db);
    cleanups.push(() => server.close());

    const response = await fetch(`${server.baseUrl}/readyz`);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      ready: true,
      database: { reachable: true },
      migrations: { complete: true, pending: [] },
      events: { state: "disabled" },
    });
  });

  it("GET /readyz answers 503 while the database is unreachable", async () => {
    const { server, proxy } = await serverBehindProxy();

    await proxy.stop();
    await until(async () => (await fetch(`${server.baseUrl}/readyz`)).status === 503);
    const report = await (await fetch(`${server.baseUrl}/readyz`)).json();

    expect(report).toMatchObject({ ready: false, database: { reachable: false } });
  });

  it("GET /metrics counts RPCs by procedure and code, with no user id in any label", async () => {
    const server = await startTestServer(database.db);
    cleanups.push(() => server.close());
    const userId = crypto.randomUUID();
    const client = grpcClient(server.baseUrl);
    await client.updateProfile({ userId, displayName: "Metered" });
    await client.getProfile({ userId });
    await client.getProfile({ userId });
    await codeOf(client.getProfile({ userId: crypto.randomUUID() }));
    await codeOf(grpcClient(server.baseUrl, null).getProfile({ userId }));

    const text = await (await fetch(`${server.baseUrl}/metrics`)).text();

    const sample = (procedure: string, code: string) =>
      text.match(
        new RegExp(
          `^profile_rpc_requests_total\\{procedure="${procedure}",code="${code}"\\} (\\d+)`,
          "m",
        ),
      )?.[1];
    const get = "realchat.profile.v1.ProfileApi/GetProfile";
    expect(sample(get, "ok")).toBe("2");
    expect(sample(get, "NotFound")).toBe("1");
    expect(sample(get, "Unauthenticated")).toBe("1");
    expect(sample("realchat.profile.v1.ProfileApi/UpdateProfile", "ok")).toBe("1");
    expect(text).toMatch(/^profile_rpc_duration_seconds_bucket\{/m);
    expect(text).toMatch(/^profile_outbox_pending_events \d+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    expect(text).not.toContain(userId);
  });
});

describe("the process", () => {
  let child: ChildProcess | undefined;
  let output = "";
  const secret = testAuth.secret ?? "";

  /** Starts `src/main.ts` as a real process on the test database. */
  async function startProcess(extraEnv: Record<string, string> = {}) {
    if (database.config.kind !== "postgres") throw new Error("needs PostgreSQL");
    const port = await freePort();
    output = "";
    child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: database.config.url,
        JWT_SECRET: secret,
        LOG_LEVEL: "info",
        SHUTDOWN_TIMEOUT_MS: "10000",
        ...extraEnv,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitForPort(port, 30_000);
    return `http://127.0.0.1:${port}`;
  }

  afterEach(async () => {
    if (child !== undefined && child.exitCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
    child = undefined;
  });

  it("logs one JSON line per RPC with its facts, and never the token or the bio", async () => {
    const baseUrl = await startProcess();
    const userId = crypto.randomUUID();
    const token = await tokenFor(userId);
    await grpcClient(baseUrl, token).updateProfile({ userId, bio: "a-very-private-bio" });

    await until(() => output.includes('"msg":"rpc"'));
    const line = JSON.parse(
      output.split("\n").find((l) => l.includes('"msg":"rpc"')) ?? "{}",
    ) as Record<string, unknown>;

    expect(line).toMatchObject({
      procedure: "realchat.profile.v1.ProfileApi/UpdateProfile",
      protocol: "grpc",
      code: "ok",
      caller: userId,
    });
    expect(typeof line.durationMs).toBe("number");
    expect(typeof line.requestId).toBe("string");
    expect(output).not.toContain(token);
    expect(output).not.toContain("a-very-private-bio");
  });

  it("on SIGTERM finishes the call in flight, refuses new connections, and exits 0", async () => {
    const baseUrl = await startProcess();
    const userId = crypto.randomUUID();
    const client = grpcClient(baseUrl);
    await client.updateProfile({ userId, displayName: "Before" });
    if (database.config.kind !== "postgres") throw new Error("needs PostgreSQL");
    const release = await holdProfileLock(database.config.url, userId);
    const inFlight = client.updateProfile({ userId, displayName: "During shutdown" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exited = once(child as ChildProcess, "exit");

    child?.kill("SIGTERM");
    await until(() => output.includes("shutting down"));
    const port = Number(new URL(baseUrl).port);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
    await release();
    const finished = await inFlight;
    const [exitCode] = (await exited) as [number | null];

    expect(refused).toBe(true);
    expect(finished.displayName).toBe("During shutdown");
    expect(exitCode).toBe(0);
  });

  it("on a second signal exits at once, without waiting for the call in flight", async () => {
    const baseUrl = await startProcess({ SHUTDOWN_TIMEOUT_MS: "60000" });
    const userId = crypto.randomUUID();
    const client = grpcClient(baseUrl);
    await client.updateProfile({ userId, displayName: "Before" });
    if (database.config.kind !== "postgres") throw new Error("needs PostgreSQL");
    const release = await holdProfileLock(database.config.url, userId);
    const inFlight = codeOf(client.updateProfile({ userId, displayName: "Never" }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exited = once(child as ChildProcess, "exit");

    child?.kill("SIGTERM");
    await until(() => output.includes("shutting down"));
    child?.kill("SIGTERM");
    const [exitCode] = (await exited) as [number | null];
    await release();

    expect(exitCode).toBe(1);
    expect(await inFlight).not.toBe("OK");
  });
});
