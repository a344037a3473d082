import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { EventsConfig } from "../config/config.js";
import type { DatabaseHandle } from "../db/open.js";
import type { ProfileFeedListener } from "../profile/live/feed.js";
import type { ProfileService } from "../profile/service.js";
import { startAuthUserConsumer } from "./auth-users/consumer.js";
import {
  BROKER_RETRY,
  type BusWorkers,
  type EventBusState,
  startEventBus,
} from "./bus/event-bus.js";
import { createJetStreamPublisher } from "./bus/jetstream-publisher.js";
import type { EventMetrics } from "./metrics.js";
import { startOutboxRelay } from "./outbox/outbox-relay.js";
import { createOutboxStore } from "./outbox/outbox-repository.js";
import { startProfileEventSubscription } from "./profile-event-subscription.js";
import { retryUntilStopped } from "./retry.js";
import { authUserConsumer, ensureStreams } from "./streams.js";

export type { EventBusState } from "./bus/event-bus.js";

export interface Events {
  state(): EventBusState;
  /** Stops consuming and publishing, then drains the connection. */
  stop(): Promise<void>;
}

export interface EventsOptions {
  readonly config: EventsConfig;
  readonly database: DatabaseHandle;
  readonly profiles: ProfileService;
  /** Hears every profile event of every instance, through one subscription. */
  readonly profileFeed: ProfileFeedListener;
  readonly logger: Logger;
  readonly metrics: EventMetrics;
}

/**
 * Starts the event side of the service: the bus connects to NATS in the background; once it is
 * there the profile events are subscribed to (the profile feed), the streams are set up, then
 * the outbox relay and the UserRegistered consumer run on it.
 */
export function startEvents(options: EventsOptions): Events {
  const { config, logger, metrics } = options;
  if (config.natsUrl === undefined) {
    logger.warn(
      "NATS_URL is not set: events wait in the outbox and registrations are not consumed",
    );
    metrics.busUp(false);
    return { state: () => "disabled", stop: async () => {} };
  }

  const startWorkers = async (
    nc: NatsConnection,
    stopping: AbortSignal,
  ): Promise<BusWorkers | undefined> => {
    const subscription = startProfileEventSubscription({
      connection: nc,
      feed: options.profileFeed,
      logger,
      observeLag: metrics.feedLag,
    });
    if (!(await setUpStreams(nc, stopping))) {
      subscription.stop();
      return undefined;
    }
    const js = jetstream(nc);
    const relay = await startOutboxRelay({
      store: createOutboxStore(options.database),
      publisher: createJetStreamPublisher(js, () => bus.state() !== "reconnecting"),
      encoding: config.encoding,
      pollIntervalMs: config.outboxPollIntervalMs,
      retentionSeconds: config.outboxRetentionSeconds,
      logger,
      metrics,
    });
    const consumer = startAuthUserConsumer({
      getConsumer: () => authUserConsumer(js),
      profiles: options.profiles,
      logger,
      metrics,
    });
    return {
      reconnected: () =>
        void relay
          .retryNow()
          .catch((error: unknown) => logger.warn({ err: error }, "retry failed")),
      async stop() {
        subscription.stop();
        await consumer.stop();
        await relay.stop();
      },
    };
  };

  /**
   * Creates the streams and the consumer (EVENTS_CREATE_STREAMS), retrying until it works: a
   * broker that is up but not ready (JetStream still starting) must not leave events off for
   * good. Returns false when stopped first.
   */
  const setUpStreams = async (nc: NatsConnection, stopping: AbortSignal): Promise<boolean> => {
    const done = await retryUntilStopped(
      async () => {
        if (config.createStreams) await ensureStreams(await jetstreamManager(nc));
        return true;
      },
      {
        signal: stopping,
        backoff: BROKER_RETRY,
        onFailure: (error) =>
          logger.warn({ err: error }, "cannot set up the NATS streams yet; retrying"),
      },
    );
    return done === true && !stopping.aborted;
  };

  const bus = startEventBus({ natsUrl: config.natsUrl, logger, metrics, startWorkers });
  return bus;
}
