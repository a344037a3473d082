import net from "node:net";
import { trackPair } from "./tcp-proxy.js";

/** One HTTP/2 frame seen passing through the tap. */
export interface TappedFrame {
  /** Which connection through the tap (0, 1, …) and which way. */
  readonly connection: number;
  readonly from: "client" | "server";
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/**
 * A TCP proxy in front of an HTTP/2 server that records every frame either side sends (after the
 * client's connection preface), so a test can see what a real client and the server said: PINGs
 * and their answers, GOAWAYs and their last stream ids.
 */
export interface Http2Tap {
  readonly port: number;
  readonly frames: readonly TappedFrame[];
  /** Connections made through the tap so far. */
  connections(): number;
  /** Connections through the tap that are still open. */
  openConnections(): number;
  close(): Promise<void>;
}

const prefaceLength = 24;

export async function startHttp2Tap(targetPort: number): Promise<Http2Tap> {
  const frames: TappedFrame[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let open = 0;
  const server = net.createServer((client) => {
    const connection = connections++;
    open += 1;
    const upstream = net.connect(targetPort, "127.0.0.1");
    trackPair(sockets, client, upstream);
    client.once("close", () => {
      open -= 1;
      upstream.destroy();
    });
    upstream.once("close", () => client.destroy());
    tapFrames(
      client,
      upstream,
      (frame) => frames.push({ connection, from: "client", ...frame }),
      prefaceLength,
    );
    tapFrames(
      upstream,
      client,
      (frame) => frames.push({ connection, from: "server", ...frame }),
      0,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    frames,
    connections: () => connections,
    openConnections: () => open,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Forwards `from` to `to` as it arrives, and reports each whole frame after `skip` bytes. */
function tapFrames(
  from: net.Socket,
  to: net.Socket,
  onFrame: (frame: Omit<TappedFrame, "connection" | "from">) => void,
  skip: number,
): void {
  let toSkip = skip;
  let pending = Buffer.alloc(0);
  from.on("data", (chunk: Buffer) => {
    to.write(chunk);
    let bytes = chunk;
    if (toSkip > 0) {
      const skipped = Math.min(toSkip, bytes.length);
      toSkip -= skipped;
      bytes = bytes.subarray(skipped);
    }
    pending = Buffer.concat([pending, bytes]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      onFrame({
        type: pending[3] ?? 0,
        flags: pending[4] ?? 0,
        streamId: pending.readUInt32BE(5) & 0x7fffffff,
        payload: Buffer.from(pending.subarray(9, 9 + length)),
      });
      pending = pending.subarray(9 + length);
    }
  });
  from.on("end", () => to.end());
}
