import type { OutgoingHttpHeaders } from "node:http";
import type { RequestHandler } from "./server.js";

/** The part of a Node response (HTTP/1.1 or HTTP/2) that Connect writes an answer through. */
interface AnswerWriter {
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
  write(chunk: unknown, ...rest: unknown[]): boolean;
  end(...rest: unknown[]): unknown;
  getHeader(name: string): unknown;
}

/** Headers that describe a body: a 304 has none. */
const bodyHeaders = new Set(["content-type", "content-length", "content-encoding"]);

/**
 * Answers a GET whose `If-None-Match` names the entity tag of the answer about to be sent with
 * `304 Not Modified` and no body (RFC 9110, section 13.1.2). The handler still runs: the entity
 * tag comes from the versions it read.
 */
export function withConditionalGet(handler: RequestHandler): RequestHandler {
  return (request, response) => {
    const condition = request.headers["if-none-match"];
    if (request.method === "GET" && typeof condition === "string") {
      answerNotModifiedWhenFresh(response as unknown as AnswerWriter, condition);
    }
    handler(request, response);
  };
}

function answerNotModifiedWhenFresh(response: AnswerWriter, condition: string): void {
  const { writeHead, write, end } = response;
  let notModified = false;
  response.writeHead = (status, headers = {}) => {
    const etag = headers.etag ?? response.getHeader("etag");
    notModified = status === 200 && typeof etag === "string" && matches(condition, etag);
    if (!notModified) return writeHead.call(response, status, headers);
    const kept = Object.entries(headers).filter(([name]) => !bodyHeaders.has(name.toLowerCase()));
    return writeHead.call(response, 304, Object.fromEntries(kept));
  };
  response.write = (chunk, ...rest) => {
    if (!notModified) return write.call(response, chunk, ...rest);
    const callback = rest.find((argument) => typeof argument === "function");
    if (callback !== undefined) queueMicrotask(() => (callback as () => void)());
    return true;
  };
  response.end = (...rest) => {
    if (!notModified) return end.call(response, ...rest);
    return end.call(response, ...rest.filter((argument) => typeof argument === "function"));
  };
}

/** Weak comparison (RFC 9110, section 8.8.3.2) against each tag of an `If-None-Match` list. */
function matches(condition: string, etag: string): boolean {
  if (condition.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return condition.split(",").some((tag) => opaque(tag) === opaque(etag));
}
