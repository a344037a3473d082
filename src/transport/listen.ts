import type { AddressInfo } from "node:net";
import type { Config } from "../config/config.js";
import { createServer, type RequestHandler } from "./server.js";

/** What a listener needs of the composed service (compose.ts's App). */
export interface Servable {
  readonly handler: RequestHandler;
  readonly metrics: { readonly connectionRefused: () => void };
  stop(closeListeners?: () => Promise<void>): Promise<void>;
}

export type ListenConfig = Pick<
  Config,
  "port" | "host" | "tls" | "connections" | "shutdownTimeoutMs"
>;

export interface Listening {
  /** Where the server listens (the port chosen when `config.port` is 0). */
  readonly address: AddressInfo;
  /**
   * Stops the service around its listener: not ready at once, the listener closed with `graceMs`
   * (default SHUTDOWN_TIMEOUT_MS) for in-flight calls, then the rest (compose.ts's `stop`).
   */
  stop(graceMs?: number): Promise<void>;
}

/** Serves a composed service on its configured port; if the port cannot be had, stops it. */
export async function listen(app: Servable, config: ListenConfig): Promise<Listening> {
  const server = createServer(app.handler, {
    tls: config.tls,
    limits: config.connections,
    onConnectionRefused: app.metrics.connectionRefused,
  });
  const address = await server.listen(config.port, config.host).catch(async (error: unknown) => {
    await app.stop();
    throw error;
  });
  return {
    address,
    stop: (graceMs = config.shutdownTimeoutMs) => app.stop(() => server.close(graceMs)),
  };
}
