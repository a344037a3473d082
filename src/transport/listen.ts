import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Config, InternalDoorConfig } from "../config/config.js";
import { createServer, type RequestHandler, type Server } from "./server.js";
import { createPeerFilter } from "./trusted-peers.js";

/** What a listener needs of the composed service (compose.ts's App). */
export interface Servable {
  readonly handler: RequestHandler;
  /** Served on the internal door; compose.ts builds it when the configuration has one. */
  readonly internalHandler: RequestHandler | undefined;
  readonly metrics: {
    readonly connectionRefused: () => void;
    readonly untrustedPeerRefused: () => void;
  };
  readonly logger: Pick<Logger, "warn">;
  stop(closeListeners?: () => Promise<void>): Promise<void>;
}

export type ListenConfig = Pick<
  Config,
  "port" | "host" | "tls" | "internal" | "connections" | "shutdownTimeoutMs"
>;

export interface Listening {
  /** Where the server listens (the port chosen when `config.port` is 0). */
  readonly address: AddressInfo;
  /** Where the internal door listens; none unless INTERNAL_PORT is set. */
  readonly internalAddress: AddressInfo | undefined;
  /**
   * Stops the service around its listeners: not ready at once, both listeners closed with
   * `graceMs` (default SHUTDOWN_TIMEOUT_MS) for in-flight calls, then the rest (compose.ts's
   * `stop`).
   */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Serves a composed service on its configured port, and on the internal door when configured
 * (never on the same port: load-config.ts refuses it); if a port cannot be had, stops it.
 */
export async function listen(app: Servable, config: ListenConfig): Promise<Listening> {
  const { internal } = config;
  const { internalHandler } = app;
  if (internal !== undefined && internalHandler === undefined) {
    throw new Error(
      "the service was composed without its internal door: compose it with config.internal",
    );
  }
  const servers: Server[] = [];
  const closeAll = (graceMs: number) =>
    Promise.all(servers.map((server) => server.close(graceMs))).then(() => {});
  const start = async (server: Server, port: number, host: string) => {
    servers.push(server);
    return server.listen(port, host).catch(async (error: unknown) => {
      await app.stop(() => closeAll(0));
      throw error;
    });
  };
  const publicServer = createServer(app.handler, {
    tls: config.tls,
    limits: config.connections,
    onConnectionRefused: app.metrics.connectionRefused,
  });
  // Both built before either listens: a door that cannot be built (its TLS files) opens nothing.
  const internalServer =
    internal === undefined || internalHandler === undefined
      ? undefined
      : createInternalDoor(app, internalHandler, internal, config);
  const address = await start(publicServer, config.port, config.host);
  const internalAddress =
    internal === undefined || internalServer === undefined
      ? undefined
      : await start(internalServer, internal.port, internal.host);
  return {
    address,
    internalAddress,
    stop: (graceMs = config.shutdownTimeoutMs) => app.stop(() => closeAll(graceMs)),
  };
}

/**
 * The trusted internal door's server: only peers in INTERNAL_TRUSTED_CIDRS get further than the
 * accept (the others are closed, logged and counted), with the door's own TLS and client CA.
 */
function createInternalDoor(
  app: Servable,
  internalHandler: RequestHandler,
  internal: InternalDoorConfig,
  config: ListenConfig,
): Server {
  const { logger, metrics } = app;
  const logRefusedPeer = atMostEverySecond((peer: string | undefined, suppressed: number) =>
    logger.warn(
      { peer, suppressed },
      "internal door: connection refused, the peer is outside INTERNAL_TRUSTED_CIDRS",
    ),
  );
  const logFailedHandshake = atMostEverySecond((peer: string | undefined, suppressed: number) =>
    logger.warn(
      { peer, suppressed },
      "internal door: TLS handshake failed (with mTLS, a client needs a certificate the client CA signed)",
    ),
  );
  return createServer(internalHandler, {
    tls: internal.tls,
    limits: config.connections,
    onConnectionRefused: metrics.connectionRefused,
    peers: {
      admits: createPeerFilter(internal.trustedCidrs),
      onRefused(address) {
        metrics.untrustedPeerRefused();
        logRefusedPeer(address);
      },
    },
    onTlsClientError: (_, address) => logFailedHandshake(address),
  });
}

/**
 * Calls `log` at most once a second, with how many calls it skipped since the last one: a flood
 * of refused connections must not become a flood of log lines (the metric counts each one).
 */
function atMostEverySecond(
  log: (peer: string | undefined, suppressed: number) => void,
): (peer: string | undefined) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (peer) => {
    const now = performance.now();
    if (now - lastAt < 1000) {
      suppressed += 1;
      return;
    }
    lastAt = now;
    log(peer, suppressed);
    suppressed = 0;
  };
}
