import net from "node:net";

/** HTTP/2 frame types (RFC 9113, section 6) that the tests send or look for. */
export const frameType = {
  data: 0x0,
  headers: 0x1,
  rstStream: 0x3,
  settings: 0x4,
  ping: 0x6,
  goaway: 0x7,
} as const;

/** A frame the server sent. */
export interface ReceivedFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/**
 * A bare HTTP/2 client over a plain socket that sends the frames it is told to, whatever the
 * server's SETTINGS say (Node's client queues streams beyond SETTINGS_MAX_CONCURRENT_STREAMS
 * instead of sending them), and records every frame the server sends.
 */
export interface RawHttp2Connection {
  readonly frames: readonly ReceivedFrame[];
  /** Opens a request stream with `headers`; the body stays open unless `endStream`. */
  headers(streamId: number, headers: Record<string, string>, endStream?: boolean): void;
  data(streamId: number, payload: Buffer, endStream?: boolean): void;
  /** Resolves when a frame matching `predicate` has arrived (or at once if one has). */
  waitFor(predicate: (frame: ReceivedFrame) => boolean, timeoutMs?: number): Promise<ReceivedFrame>;
  /** Resolves when the server has closed the socket. */
  readonly closed: Promise<void>;
  close(): void;
}

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const flagEndStream = 0x1;
const flagEndHeaders = 0x4;
const flagAck = 0x1;

/**
 * Connects, sends the preface and an empty SETTINGS frame, and acknowledges the server's SETTINGS,
 * so that what the server advertised is in force when this resolves.
 */
export async function connectRawHttp2(port: number): Promise<RawHttp2Connection> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  const frames: ReceivedFrame[] = [];
  const waiters = new Set<() => void>();
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const frame = {
        type: pending[3] ?? 0,
        flags: pending[4] ?? 0,
        streamId: pending.readUInt32BE(5) & 0x7fffffff,
        payload: pending.subarray(9, 9 + length),
      };
      pending = pending.subarray(9 + length);
      frames.push(frame);
      if (frame.type === frameType.settings && (frame.flags & flagAck) === 0) {
        socket.write(encodeFrame(frameType.settings, flagAck, 0, Buffer.alloc(0)));
      }
    }
    for (const wake of waiters) wake();
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.write(Buffer.concat([preface, encodeFrame(frameType.settings, 0, 0, Buffer.alloc(0))]));

  const connection: RawHttp2Connection = {
    frames,
    closed,
    headers(streamId, headers, endStream = false) {
      const flags = flagEndHeaders | (endStream ? flagEndStream : 0);
      socket.write(encodeFrame(frameType.headers, flags, streamId, encodeHeaderBlock(headers)));
    },
    data(streamId, payload, endStream = false) {
      socket.write(encodeFrame(frameType.data, endStream ? flagEndStream : 0, streamId, payload));
    },
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = frames.find(predicate);
          if (found === undefined) return;
          finish();
          resolve(found);
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error("no such frame from the server in time"));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      socket.destroy();
    },
  };
  // The server's SETTINGS is acknowledged once the acknowledgement of ours has arrived too.
  await connection.waitFor((frame) => frame.type === frameType.settings && frame.flags === flagAck);
  return connection;
}

/** The error code of a RST_STREAM or GOAWAY frame. */
export function errorCodeOf(frame: ReceivedFrame): number {
  return frame.payload.readUInt32BE(frame.type === frameType.goaway ? 4 : 0);
}

function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK literal fields without indexing and without Huffman coding (RFC 7541, section 6.2.2). */
function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    parts.push(Buffer.from([0x00]), encodeString(name), encodeString(value));
  }
  return Buffer.concat(parts);
}

function encodeString(text: string): Buffer {
  const bytes = Buffer.from(text);
  if (bytes.length >= 127) throw new Error("raw-http2: header strings are kept under 127 bytes");
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}
