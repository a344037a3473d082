import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { EventMetrics } from "../metrics.js";
import { type BackoffPolicy, retryUntilStopped } from "../retry.js";

/**
 * `disabled`: no NATS_URL. `connecting`: not yet connected and set up (streams, relay, consumer).
 * Then `connected`, or `reconnecting` while the broker is away; `closed` after stop().
 */
export type EventBusState = "disabled" | "connecting" | "connected" | "reconnecting" | "closed";

/** What runs on the connection once it is there: the event side's workers. */
export interface BusWorkers {
  /** The broker came back after a loss. */
  reconnected(): void;
  /** Stops them; the connection drains after. */
  stop(): Promise<void>;
}

export interface EventBus {
  state(): EventBusState;
  /** Stops the workers, then drains the connection. */
  stop(): Promise<void>;
}

export interface EventBusOptions {
  readonly natsUrl: string;
  readonly logger: Logger;
  readonly metrics: Pick<EventMetrics, "busUp">;
  /**
   * Starts the workers on a new connection; undefined when `stopping` aborted first. The bus is
   * `connected` once they run.
   */
  readonly startWorkers: (
    connection: NatsConnection,
    stopping: AbortSignal,
  ) => Promise<BusWorkers | undefined>;
}

/** A steady second between attempts while the broker is not there or not ready. */
export const BROKER_RETRY: BackoffPolicy = { initialMs: 1000, maxMs: 1000 };
const CONNECT_TIMEOUT_MS = 2000;

/**
 * The connection to NATS: opened in the background and retried until it succeeds (the service
 * serves requests whether or not the broker is there), then kept by nats.js, which reconnects by
 * itself after a loss. Tracks the bus state and reports it to metrics.
 */
export function startEventBus(options: EventBusOptions): EventBus {
  const { logger, metrics } = options;
  const stopping = new AbortController();
  let state: EventBusState = "connecting";
  let connection: NatsConnection | undefined;
  let workers: BusWorkers | undefined;
  const enter = (next: EventBusState) => {
    state = next;
    metrics.busUp(next === "connected");
  };
  enter("connecting");

  const watchStatus = async (nc: NatsConnection) => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        enter("reconnecting");
        logger.warn("lost the NATS connection; reconnecting");
      } else if (status.type === "reconnect") {
        enter("connected");
        logger.info("reconnected to NATS");
        workers?.reconnected();
      }
    }
  };

  const run = async () => {
    const nc = await retryUntilStopped(
      () =>
        connect({
          servers: options.natsUrl,
          name: "realchat-profile",
          timeout: CONNECT_TIMEOUT_MS,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
        }),
      {
        signal: stopping.signal,
        backoff: BROKER_RETRY,
        onFailure: (error) => logger.warn({ err: error }, "NATS not reachable yet; retrying"),
      },
    );
    if (nc === undefined) return;
    connection = nc;
    logger.info({ server: nc.getServer() }, "connected to NATS");
    void watchStatus(nc);
    workers = await options.startWorkers(nc, stopping.signal);
    if (workers !== undefined && state === "connecting") enter("connected");
  };

  const running = run().catch((error: unknown) => {
    if (!stopping.signal.aborted)
      logger.error({ err: error }, "event bus set-up failed; events stay in the outbox");
  });

  return {
    state: () => state,
    async stop() {
      stopping.abort();
      await running;
      await workers?.stop();
      if (connection !== undefined && !connection.isClosed()) {
        // Drain flushes what is in flight; without a server there is nothing to flush.
        await (state === "connected" ? connection.drain() : connection.close());
      }
      enter("closed");
    },
  };
}
