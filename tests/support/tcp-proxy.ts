import net from "node:net";
import { freePort } from "./nats.js";

/**
 * A TCP proxy to a real server, so a test can make that server unreachable and bring it back
 * (the database "going away") without touching the server itself.
 */
export interface TcpProxy {
  readonly port: number;
  /** Refuses new connections and cuts the open ones. */
  stop(): Promise<void>;
  /** Accepts connections again, on the same port. */
  start(): Promise<void>;
  /**
   * Holds what the server sends back, on every connection, until `release()`: a query sent now
   * runs on the server, and its answer waits here (the database "answering late").
   */
  holdAnswers(): HeldAnswers;
}

export interface HeldAnswers {
  /** Everything held so far, in arrival order. */
  bytes(): Buffer;
  /** Delivers what was held, in order, and stops holding. */
  release(): void;
}

export async function startTcpProxy(
  targetPort: number,
  targetHost = "127.0.0.1",
): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let held: Array<{ deliver: () => void; chunk?: Buffer }> | undefined;

  const start = async () => {
    const listening = net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
      trackPair(sockets, client, upstream);
      client.pipe(upstream);
      const answer = (deliver: () => void, chunk?: Buffer) => {
        if (held === undefined) deliver();
        else held.push({ deliver, chunk });
      };
      upstream.on("data", (chunk: Buffer) => answer(() => client.write(chunk), chunk));
      upstream.on("end", () => answer(() => client.end()));
    });
    await new Promise<void>((resolve) => listening.listen(port, "127.0.0.1", resolve));
    server = listening;
  };
  const stop = async () => {
    const listening = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (listening !== undefined) await new Promise((resolve) => listening.close(resolve));
  };
  const holdAnswers = (): HeldAnswers => {
    const holding: NonNullable<typeof held> = [];
    held = holding;
    return {
      bytes: () =>
        Buffer.concat(holding.flatMap(({ chunk }) => (chunk === undefined ? [] : [chunk]))),
      release() {
        if (held === holding) held = undefined;
        for (const { deliver } of holding) deliver();
      },
    };
  };
  await start();
  return { port, start, stop, holdAnswers };
}

/**
 * Keeps both ends of a proxied connection in `sockets` while they are open; an error on either
 * destroys both.
 */
export function trackPair(
  sockets: Set<net.Socket>,
  client: net.Socket,
  upstream: net.Socket,
): void {
  for (const socket of [client, upstream]) {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => {
      client.destroy();
      upstream.destroy();
    });
  }
}
