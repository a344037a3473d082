import { afterEach } from "vitest";
import type { EventsConfig } from "../../src/config/config.js";
import { createTestDatabase, type StorageKind, type TestDatabase } from "./databases.js";
import { startInstance, type TestInstance } from "./instance.js";
import { type PrivateNats, startNatsServer } from "./nats.js";

/**
 * For test files whose tests each start their own broker, database and instances: what a test
 * starts here (and what it adds to `cleanups`) is stopped after it, last first, whatever happens.
 */
export function useScratch() {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });
  return {
    cleanups,
    /** A nats-server of the test's own, which it may stop and start. */
    async privateBroker(): Promise<PrivateNats> {
      const nats = await startNatsServer();
      cleanups.push(() => nats.dispose());
      return nats;
    },
    async database(kind: StorageKind = "postgres"): Promise<TestDatabase> {
      const created = await createTestDatabase(kind);
      cleanups.push(() => created.drop());
      return created;
    },
    /** The whole service, events on, on `db` and the broker at `natsUrl`. */
    async instanceOn(
      db: Pick<TestDatabase, "handle">,
      natsUrl: string,
      events: Partial<EventsConfig> = {},
    ): Promise<TestInstance> {
      const started = await startInstance(db, { ...events, natsUrl });
      cleanups.push(() => started.stop());
      return started;
    },
  };
}
