// The outbox relay's ordering and backoff, against an in-memory outbox and a fake publisher: no
// database, no broker.
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PublishResult } from "../../src/events/metrics.js";
import type { OutgoingEvent } from "../../src/events/outbox/outbox-events.js";
import {
  type EventPublisher,
  type OutboxRelay,
  startOutboxRelay,
} from "../../src/events/outbox/outbox-relay.js";
import {
  createInMemoryOutboxStore,
  type InMemoryOutboxStore,
} from "./support/in-memory-outbox-store.js";

/**
 * A broker that stores what it is given after `delayMs(event)`, and refuses the events of the
 * users it is told to.
 */
function fakePublisher(delayMs: (event: OutgoingEvent) => number = () => 0) {
  const refused = new Set<string>();
  const stored: OutgoingEvent[] = [];
  const publisher: EventPublisher = {
    isConnected: () => true,
    async publish(event) {
      await sleep(delayMs(event));
      const userId = event.subject.split(".")[2] ?? "";
      if (refused.has(userId)) throw new Error(`refused ${event.subject}`);
      stored.push(event);
      return { duplicate: false };
    },
  };
  return {
    publisher,
    refused,
    /** The event types stored for `userId`, in order. */
    storedOf: (userId: string) =>
      stored
        .filter((event) => event.subject.endsWith(`.${userId}`))
        .map((event) => event.subject.split(".")[1]),
    stored,
  };
}

const relays: OutboxRelay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
});

async function startRelay(store: InMemoryOutboxStore, publisher: EventPublisher) {
  const results: PublishResult[] = [];
  const relay = await startOutboxRelay({
    store,
    publisher,
    encoding: "protobuf",
    // Only the store's notifications wake it: the test decides when a round runs.
    pollIntervalMs: 3_600_000,
    retentionSeconds: 3600,
    logger: pino({ level: "silent" }),
    metrics: { published: (result) => results.push(result) },
  });
  relays.push(relay);
  return { relay, results };
}

const unpublishedOf = (store: InMemoryOutboxStore, userId: string) =>
  store.rows.filter((row) => row.user_id === userId && row.published_at === null).length;

describe("per-user ordering", () => {
  it("holds back a user's later events behind a failed publish while other users' events go out", async () => {
    const store = createInMemoryOutboxStore();
    const broker = fakePublisher();
    broker.refused.add("ada");
    for (const userId of ["ada", "bob", "ada", "bob", "ada"]) store.add(userId);

    const { results } = await startRelay(store, broker.publisher);
    await vi.waitFor(() => expect(unpublishedOf(store, "bob")).toBe(0));

    expect(broker.storedOf("bob")).toEqual(["created", "updated"]);
    expect(broker.storedOf("ada")).toEqual([]);
    // One attempt at ada's first event; her second and third were not tried behind it.
    expect(store.retries).toHaveLength(1);
    expect(store.retries[0]?.eventId).toBe(store.rows[0]?.event_id);
    expect(results.filter((result) => result === "failed")).toHaveLength(1);

    broker.refused.delete("ada");
    store.advance(60_000);
    await vi.waitFor(() => expect(unpublishedOf(store, "ada")).toBe(0));

    const adaVersions = broker.stored
      .filter((event) => event.subject.endsWith(".ada"))
      .map((event) => store.rows.find((row) => row.event_id === event.eventId)?.version);
    expect(adaVersions).toEqual([1, 2, 3]);
  });

  it("publishes a user's events one at a time, each after the previous one's acknowledgement", async () => {
    const store = createInMemoryOutboxStore();
    const versionOf = (event: OutgoingEvent) =>
      store.rows.find((row) => row.event_id === event.eventId)?.version ?? 0;
    // Earlier events take longer: published side by side, they would be stored newest first.
    const broker = fakePublisher((event) => 40 - 10 * versionOf(event));
    for (let n = 0; n < 3; n++) store.add("ada");

    await startRelay(store, broker.publisher);
    await vi.waitFor(() => expect(unpublishedOf(store, "ada")).toBe(0));

    expect(broker.stored.map(versionOf)).toEqual([1, 2, 3]);
  });
});

describe("backoff", () => {
  it("doubles the wait of an event that keeps failing from 0.5 s up to 30 s, with ±20 % jitter", async () => {
    const store = createInMemoryOutboxStore();
    const broker = fakePublisher();
    broker.refused.add("ada");
    store.add("ada");
    await startRelay(store, broker.publisher);

    for (let failures = 1; failures <= 9; failures++) {
      await vi.waitFor(() => expect(store.retries).toHaveLength(failures));
      store.advance(60_000);
    }

    const waits = store.retries.map((retry) => retry.retryAfterMs);
    const bases = [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000];
    for (const [index, base] of bases.entries()) {
      expect(waits[index]).toBeGreaterThanOrEqual(base * 0.8);
      expect(waits[index]).toBeLessThanOrEqual(base * 1.2);
    }
  });

  it("starts again at 0.5 s for the next event once a failing one went out", async () => {
    const store = createInMemoryOutboxStore();
    const broker = fakePublisher();
    broker.refused.add("ada");
    store.add("ada");
    await startRelay(store, broker.publisher);
    for (let failures = 1; failures <= 4; failures++) {
      await vi.waitFor(() => expect(store.retries).toHaveLength(failures));
      store.advance(60_000);
    }
    expect(store.retries[3]?.retryAfterMs).toBeGreaterThanOrEqual(3200);

    broker.refused.delete("ada");
    await vi.waitFor(() => expect(unpublishedOf(store, "ada")).toBe(0));
    broker.refused.add("ada");
    const next = store.add("ada");
    await vi.waitFor(() => expect(store.retries).toHaveLength(5));

    expect(store.retries[4]?.eventId).toBe(next.event_id);
    expect(store.retries[4]?.retryAfterMs).toBeGreaterThanOrEqual(400);
    expect(store.retries[4]?.retryAfterMs).toBeLessThanOrEqual(600);
  });

  it("ends every wait at once when told the broker is back", async () => {
    const store = createInMemoryOutboxStore();
    const broker = fakePublisher();
    broker.refused.add("ada");
    store.add("ada");
    const { relay } = await startRelay(store, broker.publisher);
    await vi.waitFor(() => expect(store.retries).toHaveLength(1));

    broker.refused.delete("ada");
    await relay.retryNow();
    await vi.waitFor(() => expect(unpublishedOf(store, "ada")).toBe(0));

    expect(broker.storedOf("ada")).toEqual(["created"]);
  });
});

describe("trace context", () => {
  it("publishes a row's traceparent with its event, and none for a row without", async () => {
    const store = createInMemoryOutboxStore();
    const broker = fakePublisher();
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    store.add("ada", traceparent);
    store.add("bob");

    await startRelay(store, broker.publisher);
    await vi.waitFor(() => expect(broker.stored).toHaveLength(2));

    const bySubject = Object.fromEntries(
      broker.stored.map((event) => [event.subject, event.traceparent]),
    );
    expect(bySubject).toEqual({
      "profile.created.ada": traceparent,
      "profile.created.bob": undefined,
    });
  });
});
