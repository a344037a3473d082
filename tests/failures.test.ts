import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/open.js";
import { codeOf, grpcClient, type ProfileClient } from "./support/clients.js";
import {
  createTestDatabase,
  openThroughProxy,
  silentLogger,
  type TestDatabase,
} from "./support/databases.js";
import { holdProfileLock } from "./support/row-lock.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

/** Creates a profile and holds a row lock on it, so that its updates block. */
async function createLockedProfile(client: ProfileClient) {
  if (database.config.kind !== "postgres") throw new Error("needs PostgreSQL");
  const userId = crypto.randomUUID();
  await client.updateProfile({ userId, displayName: "Locked" });
  return { userId, release: await holdProfileLock(database.config.url, userId) };
}

describe("deadlines", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(database.db, { requestTimeoutMs: 400 });
  });
  afterAll(() => server.close());

  it("answers DEADLINE_EXCEEDED when the client's deadline passes during a blocked update", async () => {
    const client = grpcClient(server.baseUrl);
    const { userId, release } = await createLockedProfile(client);

    const code = await codeOf(client.updateProfile({ userId, bio: "late" }, { timeoutMs: 150 }));

    await release();
    expect(code).toBe("DeadlineExceeded");
  });

  it("answers DEADLINE_EXCEEDED after REQUEST_TIMEOUT_MS when the client sets no deadline", async () => {
    const client = grpcClient(server.baseUrl);
    const { userId, release } = await createLockedProfile(client);

    const code = await codeOf(client.updateProfile({ userId, bio: "late" }));

    await release();
    expect(code).toBe("DeadlineExceeded");
  });
});

describe("statement timeout", () => {
  it("turns a statement cancelled by DB_STATEMENT_TIMEOUT_MS into DEADLINE_EXCEEDED", async () => {
    const { db } = await openDatabase(database.config, {
      statementTimeoutMs: 100,
      logger: silentLogger,
    });
    const server = await startTestServer(db);
    const client = grpcClient(server.baseUrl);
    const { userId, release } = await createLockedProfile(client);

    const code = await codeOf(client.updateProfile({ userId, bio: "late" }));

    await release();
    await server.close();
    await db.destroy();
    expect(code).toBe("DeadlineExceeded");
  });
});

describe("graceful close", () => {
  it("lets an in-flight call finish, then closes", async () => {
    const server = await startTestServer(database.db);
    const client = grpcClient(server.baseUrl);
    const { userId, release } = await createLockedProfile(client);
    const inFlight = client.updateProfile({ userId, displayName: "After" });
    await new Promise((resolve) => setTimeout(resolve, 100));

    const closed = server.close(20_000);
    await release();

    expect((await inFlight).displayName).toBe("After");
    await closed;
  });
});

describe("database unreachable", () => {
  let server: TestServer;
  let db: Awaited<ReturnType<typeof openDatabase>>["db"];
  beforeAll(async () => {
    // Nothing listens on port 1: every connection attempt is refused.
    ({ db } = await openDatabase(
      {
        kind: "postgres",
        url: "postgres://postgres@127.0.0.1:1/none",
        poolMax: 2,
        preparedStatements: true,
      },
      { statementTimeoutMs: 1000, logger: silentLogger },
    ));
    server = await startTestServer(db);
  });
  afterAll(async () => {
    await server.close();
    await db.destroy();
  });

  it.each([
    ["GetProfile", () => grpcClient(server.baseUrl).getProfile({ userId: crypto.randomUUID() })],
    [
      "BatchGetProfiles",
      () => grpcClient(server.baseUrl).batchGetProfiles({ userIds: [crypto.randomUUID()] }),
    ],
    [
      "UpdateProfile",
      () => grpcClient(server.baseUrl).updateProfile({ userId: crypto.randomUUID(), bio: "x" }),
    ],
  ])("answers %s with UNAVAILABLE", async (_, call) => {
    expect(await codeOf(call())).toBe("Unavailable");
  });

  it("still refuses bad input with INVALID_ARGUMENT before touching the database", async () => {
    expect(await codeOf(grpcClient(server.baseUrl).getProfile({ userId: "nope" }))).toBe(
      "InvalidArgument",
    );
  });
});

describe("database connections dropped by the server", () => {
  it("recovers on the next calls without restarting the service", async () => {
    if (database.config.kind !== "postgres") throw new Error("needs PostgreSQL");
    const server = await startTestServer(database.db);
    const client = grpcClient(server.baseUrl);
    const userId = crypto.randomUUID();
    await client.updateProfile({ userId, displayName: "Survivor" });
    const dbName = new URL(database.config.url).pathname.slice(1);

    const admin = new pg.Client({ connectionString: database.config.url });
    await admin.connect();
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [dbName],
    );
    await admin.end();
    const codes: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      codes.push(await codeOf(client.getProfile({ userId })));
    }

    await server.close();
    expect(codes.every((code) => code === "OK" || code === "Unavailable")).toBe(true);
    expect(codes.at(-1)).toBe("OK");
  });
});

describe("the network to the database cut in the middle of a call", () => {
  it("answers UNAVAILABLE without crashing the service, which serves again once it is back", async () => {
    const { proxy, handle: throughProxy } = await openThroughProxy(database.config);
    const server = await startTestServer(throughProxy.db);
    const client = grpcClient(server.baseUrl);
    const { userId, release } = await createLockedProfile(client);
    const blocked = codeOf(client.updateProfile({ userId, bio: "cut off" }));
    await new Promise((resolve) => setTimeout(resolve, 100));

    await proxy.stop();
    const code = await blocked;
    await release();
    await proxy.start();
    const after = await codeOf(client.getProfile({ userId }));

    await server.close();
    await throughProxy.close();
    await proxy.stop();
    expect(code).toBe("Unavailable");
    expect(after).toBe("OK");
  });
});

describe("unexpected failures", () => {
  it("reach the client as a bare INTERNAL with no SQL or internal detail", async () => {
    const scratch = await createTestDatabase();
    const server = await startTestServer(scratch.db);
    await sql`DROP TABLE profiles CASCADE`.execute(scratch.db);

    const error = await grpcClient(server.baseUrl)
      .getProfile({ userId: crypto.randomUUID() })
      .catch((e: unknown) => ConnectError.from(e));

    await server.close();
    await scratch.drop();
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Internal);
    expect((error as ConnectError).rawMessage).toBe("internal error");
  });
});
