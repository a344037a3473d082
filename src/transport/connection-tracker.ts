import type http from "node:http";
import type http2 from "node:http2";
import type { Duplex } from "node:stream";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Tracks open connections so that closing the server never hangs on keep-alive ones, and closes
 * HTTP/2 connections that stay idle for `http2IdleTimeoutMs` without an open stream. PINGs are
 * answered (by nghttp2, at any rate a client sends them) but are no activity: Node's session
 * timer counts only streams' frames, so a client that only pings is idle. An HTTP/2 connection
 * closes with GOAWAY NO_ERROR naming the last stream taken: a stream the client opened as it
 * crossed is provably unprocessed (its id is higher), which gRPC clients retry transparently.
 */
export function createConnectionTracker(http2IdleTimeoutMs: number) {
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
      let openStreams = 0;
      session.on("stream", (stream: http2.ServerHttp2Stream) => {
        openStreams += 1;
        stream.once("close", () => {
          openStreams -= 1;
        });
      });
      // A quiet stream (a health watch) keeps its connection; the timer fires again after the
      // next frame in either direction, so the connection closes once it is idle and empty.
      // (A callback given to setTimeout would be called once only.)
      session.setTimeout(http2IdleTimeoutMs);
      session.on("timeout", () => {
        if (openStreams === 0) session.close();
      });
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
