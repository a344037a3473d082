import type { Metrics } from "../ops/metrics.js";
import type { Readiness } from "../ops/readiness.js";
import type { RequestHandler } from "./server.js";

type Request = Parameters<RequestHandler>[0];
/** What these endpoints need of a response, HTTP/1.1 or HTTP/2 alike. */
interface Response {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

/**
 * Plain HTTP endpoints for orchestrators, beside the RPCs on the same port:
 * - `GET /healthz`: the process is alive (200 as long as it answers);
 * - `GET /readyz`: 200 when it should get traffic, else 503, with the report as JSON;
 * - `GET /metrics`: Prometheus text format.
 * Returns false for any other request, which then goes to the RPC handler.
 */
export function createHttpEndpoints(readiness: Readiness, metrics: Metrics) {
  const send = (response: Response, status: number, contentType: string, body: string) => {
    response.statusCode = status;
    response.setHeader("content-type", contentType);
    response.setHeader("cache-control", "no-store");
    response.end(body);
  };
  const json = (response: Response, status: number, body: unknown) =>
    send(response, status, "application/json", `${JSON.stringify(body)}\n`);

  return (request: Request, response: Parameters<RequestHandler>[1]): boolean => {
    if (request.method !== "GET" && request.method !== "HEAD") return false;
    const path = (request.url ?? "").split("?")[0];
    switch (path) {
      case "/healthz":
        json(response, 200, { status: "alive" });
        return true;
      case "/readyz": {
        const report = readiness.report();
        json(response, report.ready ? 200 : 503, report);
        return true;
      }
      case "/metrics":
        metrics.registry.metrics().then(
          (text) => send(response, 200, metrics.registry.contentType, text),
          () => send(response, 500, "text/plain", "metrics unavailable\n"),
        );
        return true;
      default:
        return false;
    }
  };
}
