// Issue 19, item 2: optional mTLS on the internal door (INTERNAL_TLS_CLIENT_CA_FILE). A client
// with a certificate the client CA signed calls as the gateway does; one without a certificate,
// or with one another CA signed, never gets past the handshake, and the refusal is logged. The
// public port is not affected.
import * as grpc from "@grpc/grpc-js";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorOf, grpcClient } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { answered, createGatewayClient, refusal } from "./support/gateway-client.js";
import { until } from "./support/nats.js";
import { startTestServer, type TestServer } from "./support/test-server.js";
import { type TestKeyPair, useTestMtls } from "./support/tls.js";

const mtls = useTestMtls();
let database: TestDatabase;
let server: TestServer;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const logger = pino({ level: "info" }, { write: (line) => logLines.push(JSON.parse(line)) });
  server = await startTestServer(database.db, {}, { logger, internal: { tls: mtls.serverFiles } });
});

afterAll(async () => {
  await server?.close();
  await database?.drop();
});

/** A gateway-like client of the door over TLS, presenting `identity` (none when undefined). */
function gatewayWith(identity: TestKeyPair | undefined) {
  return createGatewayClient(`127.0.0.1:${server.internalPort}`, {
    credentials: grpc.credentials.createSsl(mtls.serverCa, identity?.key, identity?.cert),
  });
}

describe("the internal door with mTLS", () => {
  it("serves a client whose certificate the client CA signed, as the gateway calls", async () => {
    const gateway = gatewayWith(mtls.client);
    const userId = crypto.randomUUID();
    try {
      await answered(
        gateway.updateProfile({ user_id: userId, display_name: "Meshed" }, { userId }),
      );

      const batch = await answered(gateway.batchGetProfiles([userId], { userId }));

      expect(batch.profiles.map((profile) => profile.display_name)).toEqual(["Meshed"]);
    } finally {
      gateway.close();
    }
  });

  it.each([
    ["no client certificate", undefined],
    ["a certificate another CA signed", "stranger"],
  ] as const)("refuses a client with %s at the handshake, and logs it", async (_, who) => {
    const before = logLines.length;
    const gateway = gatewayWith(who === undefined ? undefined : mtls[who]);
    const userId = crypto.randomUUID();
    try {
      expect(await refusal(gateway.getProfile(userId, { userId }))).toMatch(/^UNAVAILABLE: /);
    } finally {
      gateway.close();
    }
    await until(() =>
      logLines.slice(before).some((line) => String(line.msg).includes("TLS handshake failed")),
    );
  });

  it("leaves the public port as it is: plaintext, bearer tokens", async () => {
    const userId = crypto.randomUUID();

    const refused = await errorOf(grpcClient(server.baseUrl).getProfile({ userId }));

    expect(refused.rawMessage).toBe(`no profile for user ${userId}`);
  });
});
