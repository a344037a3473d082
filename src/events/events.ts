import {
  AckPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { connect, headers, type NatsConnection, nanos } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { EventsConfig } from "../config.js";
import type { DatabaseHandle } from "../db/open-database.js";
import type { ProfileService } from "../profile/profile-service.js";
import {
  type EventPublisher,
  type OutboxRelay,
  type RelayStats,
  startOutboxRelay,
} from "./outbox-relay.js";
import {
  type ConsumerStats,
  type RegistrationConsumer,
  startRegistrationConsumer,
} from "./registration-consumer.js";

/**
 * `disabled`: no NATS_URL. `connecting`: not yet connected and set up (streams, relay, consumer).
 * Then `connected`, or `reconnecting` while the broker is away; `closed` after stop().
 */
export type EventBusState = "disabled" | "connecting" | "connected" | "reconnecting" | "closed";

export interface EventStats {
  readonly consumed: ConsumerStats;
  readonly published: RelayStats;
}

export interface Events {
  state(): EventBusState;
  readonly stats: EventStats;
  /** Stops consuming and publishing, then drains the connection. */
  stop(): Promise<void>;
}

const AUTH_STREAM = "AUTH";
const PROFILE_STREAM = "PROFILE";
const CONSUMER_NAME = "profile-service";
/**
 * One filter subject rather than `filter_subjects`, which needs nats-server 2.10: the consumer
 * sees every `auth.user.*` event and ignores the ones it has no use for.
 */
const CONSUMER_FILTER = "auth.user.*";
/** Redeliveries of a registration that keeps failing, before JetStream gives up on it. */
const MAX_DELIVER = 20;
/** Window in which JetStream drops a re-published event with the same Nats-Msg-Id. */
const DUPLICATE_WINDOW_MS = 10 * 60_000;
const PUBLISH_TIMEOUT_MS = 5000;
const CONNECT_TIMEOUT_MS = 2000;
const CONNECT_RETRY_MS = 1000;

/**
 * Starts the event side of the service: connects to NATS in the background (the service serves
 * requests whether or not the broker is there), creates the streams, runs the outbox relay and
 * the UserRegistered consumer, and reconnects by itself when the broker comes back.
 */
export function startEvents(options: {
  readonly config: EventsConfig;
  readonly database: DatabaseHandle;
  readonly profiles: ProfileService;
  readonly logger: Logger;
}): Events {
  const { config, logger } = options;
  const stats: EventStats = {
    consumed: { provisioned: 0, alreadyPresent: 0, terminated: 0, retried: 0, ignored: 0 },
    published: { published: 0, duplicates: 0, failures: 0 },
  };
  if (config.natsUrl === undefined) {
    logger.warn(
      "NATS_URL is not set: events wait in the outbox and registrations are not consumed",
    );
    return { state: () => "disabled", stats, stop: async () => {} };
  }

  let state: EventBusState = "connecting";
  let stopped = false;
  let connection: NatsConnection | undefined;
  let relay: OutboxRelay | undefined;
  let consumer: RegistrationConsumer | undefined;

  /** First connection: retried until it succeeds; later losses are nats.js's to reconnect. */
  const connectOnce = async (natsUrl: string): Promise<NatsConnection | undefined> => {
    while (!stopped) {
      try {
        return await connect({
          servers: natsUrl,
          name: "realchat-profile",
          timeout: CONNECT_TIMEOUT_MS,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
        });
      } catch (error) {
        logger.warn({ err: error }, "NATS not reachable yet; retrying");
        await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS));
      }
    }
    return undefined;
  };

  const run = async (natsUrl: string) => {
    const nc = await connectOnce(natsUrl);
    if (nc === undefined) return;
    connection = nc;
    logger.info({ server: nc.getServer() }, "connected to NATS");
    void watchStatus(nc);
    if (!(await setUpStreams(nc))) return;
    const js = jetstream(nc);
    relay = await startOutboxRelay({
      database: options.database,
      publisher: natsPublisher(js, () => state !== "reconnecting"),
      encoding: config.encoding,
      pollIntervalMs: config.outboxPollIntervalMs,
      retentionSeconds: config.outboxRetentionSeconds,
      logger,
      stats: stats.published,
    });
    consumer = startRegistrationConsumer({
      getConsumer: () => js.consumers.get(AUTH_STREAM, CONSUMER_NAME),
      profiles: options.profiles,
      logger,
      stats: stats.consumed,
    });
    if (state === "connecting") state = "connected";
  };

  /**
   * Creates the streams and the consumer (EVENTS_CREATE_STREAMS), retrying until it works: a
   * broker that is up but not ready (JetStream still starting) must not leave events off for
   * good. Returns false when stopped first.
   */
  const setUpStreams = async (nc: NatsConnection): Promise<boolean> => {
    while (!stopped) {
      try {
        if (config.createStreams) await ensureStreams(await jetstreamManager(nc));
        return !stopped;
      } catch (error) {
        logger.warn({ err: error }, "cannot set up the NATS streams yet; retrying");
        await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS));
      }
    }
    return false;
  };

  const watchStatus = async (nc: NatsConnection) => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        state = "reconnecting";
        logger.warn("lost the NATS connection; reconnecting");
      } else if (status.type === "reconnect") {
        state = "connected";
        logger.info("reconnected to NATS");
        relay?.retryNow().catch((error: unknown) => logger.warn({ err: error }, "retry failed"));
      }
    }
  };

  const running = run(config.natsUrl).catch((error: unknown) => {
    if (!stopped)
      logger.error({ err: error }, "event bus set-up failed; events stay in the outbox");
  });

  return {
    state: () => state,
    stats,
    async stop() {
      stopped = true;
      await running;
      await consumer?.stop();
      await relay?.stop();
      if (connection !== undefined && !connection.isClosed()) {
        // Drain flushes what is in flight; without a server there is nothing to flush.
        await (state === "connected" ? connection.drain() : connection.close());
      }
      state = "closed";
    },
  };
}

function natsPublisher(js: JetStreamClient, isConnected: () => boolean): EventPublisher {
  return {
    isConnected,
    async publish(event) {
      const h = headers();
      h.set("Content-Type", event.contentType);
      h.set("Realchat-Event-Type", event.type);
      const ack = await js.publish(event.subject, event.data, {
        msgID: event.eventId,
        headers: h,
        timeout: PUBLISH_TIMEOUT_MS,
      });
      return { duplicate: ack.duplicate };
    },
  };
}

/** Creates the streams and the durable consumer unless they exist; existing ones are left as is. */
async function ensureStreams(jsm: JetStreamManager): Promise<void> {
  const streams = [
    { name: AUTH_STREAM, subjects: ["auth.>"] },
    { name: PROFILE_STREAM, subjects: ["profile.>"] },
  ];
  for (const stream of streams) {
    const exists = await jsm.streams.info(stream.name).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await jsm.streams.add({ ...stream, duplicate_window: nanos(DUPLICATE_WINDOW_MS) });
    }
  }
  const consumerExists = await jsm.consumers.info(AUTH_STREAM, CONSUMER_NAME).then(
    () => true,
    () => false,
  );
  if (!consumerExists) {
    await jsm.consumers.add(AUTH_STREAM, {
      durable_name: CONSUMER_NAME,
      ack_policy: AckPolicy.Explicit,
      filter_subject: CONSUMER_FILTER,
      max_deliver: MAX_DELIVER,
      ack_wait: nanos(30_000),
    });
  }
}
