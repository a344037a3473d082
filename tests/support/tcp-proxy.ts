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
   * runs on the server, and its answer waits here (the database "answering late"). The start-up
   * of a connection (up to the server's first ReadyForQuery) is let through, so a connection the
   * pool opens meanwhile can send its query too, and its answer is held.
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
      const startup = startupOf();
      upstream.on("data", (chunk: Buffer) => {
        // The server's side of the start-up is never held: only answers to queries are.
        const [handshake, rest] = startup.split(chunk);
        if (handshake.length > 0) client.write(handshake);
        if (rest.length > 0) answer(() => client.write(rest), rest);
      });
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

/**
 * Follows the server's side of one connection until its start-up ends with the first
 * ReadyForQuery ('Z'): `split` cuts a chunk into what belongs to the start-up and the rest.
 * Every message the server sends is a type byte and a 32-bit length that counts itself (no SSL
 * negotiation here, whose one-byte answer is unframed: the tests' URLs ask for none).
 */
function startupOf(): { split(chunk: Buffer): [Buffer, Buffer] } {
  const none = Buffer.alloc(0);
  let done = false;
  /** The start-up's bytes from the first message not yet seen whole. */
  let unframed = none;
  return {
    split(chunk) {
      if (done) return [none, chunk];
      unframed = Buffer.concat([unframed, chunk]);
      const chunkStart = unframed.length - chunk.length;
      let at = 0;
      while (unframed.length - at >= 5) {
        const end = at + 1 + unframed.readInt32BE(at + 1);
        if (end > unframed.length) break;
        if (unframed[at] === 0x5a) {
          done = true;
          unframed = none;
          const cut = end - chunkStart;
          return [chunk.subarray(0, cut), chunk.subarray(cut)];
        }
        at = end;
      }
      unframed = unframed.subarray(at);
      return [chunk, none];
    },
  };
}
