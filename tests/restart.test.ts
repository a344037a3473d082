import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcClient } from "./support/clients.js";
import { createTestDatabase, storageKinds, type TestDatabase } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

describe.each(storageKinds)("a restart on %s", (kind) => {
  let database: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    server = await startTestServer(database.db);
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  /** Stops the server, closes the database connection, then serves the same data again. */
  async function restart(current: TestDatabase): Promise<TestServer> {
    await server.close();
    await current.db.destroy();
    const db = await current.reopen();
    server = await startTestServer(db);
    return server;
  }

  it("a profile written before the restart reads back unchanged, etag and timestamps included", async () => {
    const userId = crypto.randomUUID();
    const written = await grpcClient(server.baseUrl).updateProfile({
      userId,
      displayName: "Ada Lovelace",
      avatarUrl: "https://example.com/ada.png",
      bio: "first line\nsecond line é",
    });

    const restarted = await restart(database);
    const read = await grpcClient(restarted.baseUrl).getProfile({ userId });

    expect(read).toEqual(written);
    expect(read.etag).toBe(written.etag);
    expect(read.createdAt).toEqual(written.createdAt);
    expect(read.updatedAt).toEqual(written.updatedAt);
  });

  it("after the restart an update with the etag read before it succeeds and yields a new etag", async () => {
    const userId = crypto.randomUUID();
    const written = await grpcClient(server.baseUrl).updateProfile({ userId, displayName: "Ada" });

    const restarted = await restart(database);
    const updated = await grpcClient(restarted.baseUrl).updateProfile({
      userId,
      bio: "after the restart",
      etag: written.etag,
    });

    expect(updated).toMatchObject({ displayName: "Ada", bio: "after the restart" });
    expect(updated.etag).not.toBe(written.etag);
    expect(updated.createdAt).toEqual(written.createdAt);
  });
});
