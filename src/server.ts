import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/** A request handler that serves both HTTP/1.1 and HTTP/2 requests (such as Connect's). */
export type RequestHandler = (request: Request, response: Response) => void;

export interface ServerOptions {
  /** PEM files; with them the port speaks TLS and picks h2 or http/1.1 by ALPN. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string } | undefined;
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
/** How long a new cleartext connection may stay silent before it is dropped. */
const firstBytesTimeoutMs = 10_000;

/**
 * Builds a server that serves gRPC (HTTP/2), gRPC-Web and Connect (HTTP/1.1 and HTTP/2) on one
 * port. Without TLS, Node's http2 server cannot fall back to HTTP/1.1, so each connection's first
 * bytes decide: the HTTP/2 preface goes to an http2 server (h2c with prior knowledge), anything
 * else to an http/1.1 server; both share one handler. With TLS, ALPN decides.
 */
export function createServer(handler: RequestHandler, options: ServerOptions = {}): Server {
  const connections = createConnectionTracker();
  const onRequest: RequestHandler = (request, response) => {
    connections.onRequest(request, response);
    handler(request, response);
  };

  let listener: net.Server;
  if (options.tls !== undefined) {
    const secure = http2.createSecureServer(
      {
        cert: readFileSync(options.tls.certFile),
        key: readFileSync(options.tls.keyFile),
        allowHTTP1: true,
      },
      onRequest,
    );
    secure.on("secureConnection", (socket: TLSSocket) => {
      connections.add(socket, socket.alpnProtocol === "h2");
    });
    secure.on("session", connections.addSession);
    listener = secure;
  } else {
    const http1Server = http.createServer(onRequest);
    const http2Server = http2.createServer({}, onRequest);
    http2Server.on("session", connections.addSession);
    listener = net.createServer((socket) => {
      routeByPreface(socket, (isHttp2) => {
        connections.add(socket, isHttp2);
        (isHttp2 ? http2Server : http1Server).emit("connection", socket);
      });
    });
  }

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
      await connections.closeAll(graceMs);
    },
  };
}

/** Reads a connection's first bytes, puts them back, and hands it on, saying whether it is h2c. */
function routeByPreface(socket: net.Socket, handOver: (isHttp2: boolean) => void): void {
  let received = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    const compared = Math.min(received.length, http2Preface.length);
    const isHttp2 = received.subarray(0, compared).equals(http2Preface.subarray(0, compared));
    if (isHttp2 && received.length < http2Preface.length) return;
    socket.off("data", onData);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(received);
    handOver(isHttp2);
    // The http/1.1 parser listens for 'data' events, which a paused socket does not emit; the
    // http2 session reads what was unshifted itself, then takes over the socket's handle.
    if (!isHttp2) socket.resume();
  };
  socket.on("data", onData);
  socket.setTimeout(firstBytesTimeoutMs, () => socket.destroy());
  socket.on("error", () => socket.destroy());
}

/** Tracks open connections so that closing the server never hangs on keep-alive ones. */
function createConnectionTracker() {
  const sockets = new Set<Duplex>();
  const sessions = new Set<http2.Http2Session>();
  // HTTP/2 connections close through their session (GOAWAY), never by ending the socket.
  const http2Sockets = new WeakSet<Duplex>();
  // Weak: a response can end after its socket closed, and must not keep the socket alive.
  const inFlight = new WeakMap<Duplex, number>();
  let closing = false;
  let onEmpty = () => {};

  const add = (socket: Duplex, isHttp2: boolean) => {
    sockets.add(socket);
    if (isHttp2) http2Sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0) onEmpty();
    });
  };

  return {
    add,
    addSession(session: http2.Http2Session) {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
      if (closing) session.close();
    },
    /** HTTP/1.1 requests are counted per socket, so an idle socket can be closed at once. */
    onRequest(request: Request, response: Response) {
      if (request.httpVersionMajor !== 1) return;
      const socket = request.socket;
      inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
      if (closing) response.setHeader("connection", "close");
      response.once("close", () => {
        const remaining = (inFlight.get(socket) ?? 1) - 1;
        inFlight.set(socket, remaining);
        if (closing && remaining === 0) socket.end();
      });
    },
    async closeAll(graceMs: number) {
      closing = true;
      for (const session of sessions) session.close();
      for (const socket of sockets) {
        if (!http2Sockets.has(socket) && (inFlight.get(socket) ?? 0) === 0) socket.end();
      }
      if (sockets.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          onEmpty = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      for (const socket of sockets) socket.destroy();
    },
  };
}
