import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { type ConnectionConfig, defaultConnectionConfig } from "../config/config.js";
import { createConnectionTracker } from "./connection-tracker.js";
import type { PeerFilter } from "./trusted-peers.js";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/**
 * A request handler that serves both HTTP/1.1 and HTTP/2 requests (such as Connect's); with
 * `http2Stream`, it serves some HTTP/2 streams straight from Node's stream API.
 */
export type RequestHandler = ((request: Request, response: Response) => void) & {
  readonly http2Stream?: Http2StreamHandler | undefined;
};

/**
 * Takes an HTTP/2 stream before Node's compatibility layer wraps it in a request and a response,
 * and returns true; or returns false, and the stream goes on to the request handler.
 */
export type Http2StreamHandler = (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
) => boolean;

export interface ServerOptions {
  /**
   * PEM files; with them the port speaks TLS and picks h2 or http/1.1 by ALPN. With
   * `clientCaFile` every client must present a certificate that CA signed (mTLS).
   */
  readonly tls?:
    | { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string }
    | undefined;
  /**
   * Which peers may connect: a connection from any other address is closed as soon as it is
   * accepted, before a byte is read, and `onRefused` is told. Every peer when absent.
   */
  readonly peers?: {
    readonly admits: PeerFilter;
    readonly onRefused: (address: string | undefined) => void;
  };
  /** Told of every TLS handshake that failed (no client certificate, an untrusted one, …). */
  readonly onTlsClientError?: (error: Error, address: string | undefined) => void;
  /** Connection-level bounds; each one missing takes its production default. */
  readonly limits?: Partial<ConnectionConfig> | undefined;
  /** Told of every connection closed unread because `maxConnections` were open. */
  readonly onConnectionRefused?: () => void;
}

export interface Server {
  /** Starts listening; port 0 picks a free port. Resolves with the bound address. */
  listen(port: number, host: string): Promise<AddressInfo>;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `graceMs`, then closes
   * every connection that is still open, idle keep-alive ones included.
   */
  close(graceMs: number): Promise<void>;
}

/** What an HTTP/2 connection starts with (RFC 9113, section 3.4). */
const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/**
 * What one HTTP/2 connection may make the process hold natively (nghttp2's state, header tables,
 * frames queued for a client that does not read), in MB; new streams are refused above it. This
 * is Node's default, set here so that the bound is visible: request bodies are read into the
 * handler's buffers, which the stream cap and MAX_REQUEST_BYTES bound instead.
 */
const http2MaxSessionMemoryMb = 10;
/**
 * Largest header block an HTTP/2 request may carry: the same 16 KiB as Node's HTTP/1.1 parser
 * accepts, so that no client gets more room by switching protocol. Node advertises no limit.
 */
const http2MaxHeaderListSize = 16 * 1024;
/**
 * RST_STREAM frames a client may send in a burst, then per second, before the connection gets
 * GOAWAY (HTTP/2 rapid reset, CVE-2023-44487). nghttp2 allows 1000 and 33/s. The burst is small:
 * a client that cancels twice as many calls as it may have open at once is not cancelling calls.
 * The rate is not: a busy client whose deadlines expire while the database is slow cancels one
 * call per deadline, and losing its whole connection then would turn a slow-down into an outage
 * (a soak under overload showed it). Cancelled calls cost little anyway: they skip their SQL.
 */
const http2StreamResetBurst = 200;
const http2StreamResetRate = 200;

/**
 * Builds a server that serves gRPC (HTTP/2), gRPC-Web and Connect (HTTP/1.1 and HTTP/2) on one
 * port. Without TLS, Node's http2 server cannot fall back to HTTP/1.1, so each connection's first
 * bytes decide: the HTTP/2 preface goes to an http2 server (h2c with prior knowledge), anything
 * else to an http/1.1 server; both share one handler. With TLS, ALPN decides.
 */
export function createServer(handler: RequestHandler, options: ServerOptions = {}): Server {
  const limits = { ...defaultConnectionConfig, ...options.limits };
  const connections = createConnectionTracker(limits.http2IdleTimeoutMs);
  const onRequest: RequestHandler = (request, response) => {
    connections.onRequest(request, response);
    handler(request, response);
  };
  const http1Options: http.ServerOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.http1RequestTimeoutMs,
    keepAliveTimeout: limits.http1KeepAliveTimeoutMs,
    // Node checks the header and request timers this often (30 s by default, which let a
    // stalled request live up to 30 s past its timeout).
    connectionsCheckingInterval: Math.min(1000, Math.ceil(limits.headersTimeoutMs / 4)),
  };
  const http2Options: http2.ServerOptions = {
    settings: {
      maxConcurrentStreams: limits.http2MaxConcurrentStreams,
      maxHeaderListSize: http2MaxHeaderListSize,
    },
    maxSessionMemory: http2MaxSessionMemoryMb,
    streamResetBurst: http2StreamResetBurst,
    streamResetRate: http2StreamResetRate,
  };

  let listener: net.Server;
  let http1Server: http.Server | undefined;
  if (options.tls !== undefined) {
    const { clientCaFile } = options.tls;
    const secure = http2.createSecureServer(
      {
        ...http1Options,
        ...http2Options,
        cert: readFileSync(options.tls.certFile),
        key: readFileSync(options.tls.keyFile),
        ...(clientCaFile === undefined
          ? {}
          : { ca: readFileSync(clientCaFile), requestCert: true, rejectUnauthorized: true }),
        allowHTTP1: true,
        handshakeTimeout: limits.headersTimeoutMs,
      },
      onRequest,
    );
    secure.on("secureConnection", (socket: TLSSocket) => {
      connections.add(socket, socket.alpnProtocol === "h2");
    });
    const { onTlsClientError } = options;
    secure.on("tlsClientError", (error: Error, socket: TLSSocket) => {
      socket.destroy();
      onTlsClientError?.(error, socket.remoteAddress);
    });
    secure.on("session", connections.addSession);
    takeStreamsFirst(secure, handler.http2Stream);
    listener = secure;
  } else {
    const inner = http.createServer(http1Options, onRequest);
    // Node keeps the connection list that its header, request and keep-alive checks read, and
    // starts the timer that runs them, on 'listening' (setupConnectionsTracking in
    // lib/_http_server.js). This server never listens: the outer one hands it its sockets.
    inner.emit("listening");
    http1Server = inner;
    const http2Server = http2.createServer(http2Options, onRequest);
    http2Server.on("session", connections.addSession);
    takeStreamsFirst(http2Server, handler.http2Stream);
    listener = net.createServer((socket) => {
      routeByPreface(socket, limits.headersTimeoutMs, (isHttp2) => {
        connections.add(socket, isHttp2);
        (isHttp2 ? http2Server : inner).emit("connection", socket);
      });
    });
  }
  // Node closes connections over the cap as soon as it accepts them, before any byte is read.
  listener.maxConnections = limits.maxConnections;
  const { onConnectionRefused } = options;
  if (onConnectionRefused !== undefined) listener.on("drop", () => onConnectionRefused());
  if (options.peers !== undefined) admitPeersFirst(listener, options.peers);

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        listener.once("error", reject);
        listener.listen(port, host, () => {
          listener.off("error", reject);
          resolve(listener.address() as AddressInfo);
        });
      });
    },
    async close(graceMs) {
      listener.close();
      // Stops its connection checks; it was never listening, so it says so in an event we ignore.
      http1Server?.close();
      await connections.closeAll(graceMs);
    },
  };
}

/**
 * Lets `take` see each HTTP/2 stream before Node's compatibility layer, which a server created
 * with a request listener installs as its one 'stream' listener: the streams `take` declines go
 * on to that listener, and so to the request handler.
 */
function takeStreamsFirst(
  server: http2.Http2Server | http2.Http2SecureServer,
  take: Http2StreamHandler | undefined,
): void {
  if (take === undefined) return;
  const compatibilityLayer = server.listeners("stream");
  server.removeAllListeners("stream");
  server.on("stream", (stream, headers, ...rest) => {
    if (take(stream, headers)) return;
    for (const listener of compatibilityLayer) listener.call(server, stream, headers, ...rest);
  });
}

/**
 * Closes each accepted connection whose peer `peers` does not admit, before the listener's own
 * 'connection' listeners (the TLS handshake, the preface sniffing) see it.
 */
function admitPeersFirst(listener: net.Server, peers: NonNullable<ServerOptions["peers"]>): void {
  const accept = listener.listeners("connection");
  listener.removeAllListeners("connection");
  listener.on("connection", (socket: net.Socket) => {
    const address = socket.remoteAddress;
    if (!peers.admits(address)) {
      socket.destroy();
      peers.onRefused(address);
      return;
    }
    for (const next of accept) next.call(listener, socket);
  });
}

/**
 * Reads a connection's first bytes, puts them back, and hands it on, saying whether it is h2c.
 * A connection that has not told which protocol it speaks within `timeoutMs` is dropped; the
 * deadline is fixed, so dribbling the preface a byte at a time does not extend it.
 */
function routeByPreface(
  socket: net.Socket,
  timeoutMs: number,
  handOver: (isHttp2: boolean) => void,
): void {
  const deadline = setTimeout(() => socket.destroy(), timeoutMs);
  socket.once("close", () => clearTimeout(deadline));
  let received = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    const compared = Math.min(received.length, http2Preface.length);
    const isHttp2 = received.subarray(0, compared).equals(http2Preface.subarray(0, compared));
    if (isHttp2 && received.length < http2Preface.length) return;
    socket.off("data", onData);
    clearTimeout(deadline);
    socket.pause();
    socket.unshift(received);
    handOver(isHttp2);
    // The http/1.1 parser listens for 'data' events, which a paused socket does not emit; the
    // http2 session reads what was unshifted itself, then takes over the socket's handle.
    if (!isHttp2) socket.resume();
  };
  socket.on("data", onData);
  socket.on("error", () => socket.destroy());
}
