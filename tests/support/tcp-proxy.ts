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
}

export async function startTcpProxy(
  targetPort: number,
  targetHost = "127.0.0.1",
): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;

  const start = async () => {
    const listening = net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
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
  await start();
  return { port, start, stop };
}
