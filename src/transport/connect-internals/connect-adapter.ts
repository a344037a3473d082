import {
  Code,
  ConnectError,
  type ConnectRouterOptions,
  createConnectRouter,
  createContextValues,
  type HandlerContext,
} from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Routes } from "../routes.js";
import type { RequestHandler } from "../server.js";
import { type AbortableContext, kCallDeadline, startCallDeadline } from "./call-deadline.js";

/**
 * Connect's router for Node's requests, as connect-node's `connectNodeAdapter` is, with every
 * call under its one deadline (call-deadline.ts): started before Connect sees the request, handed
 * to the call's context through its context values and the request gate, and withheld from the
 * headers Connect parses, so that Connect starts no second timer. What Connect still writes
 * after the deadline answered a call fails, and is not reported.
 */
export function createConnectHandler(
  routes: Routes,
  options: ConnectRouterOptions,
  maxDeadlineMs: number,
): RequestHandler {
  const { requestGate } = options;
  const router = createConnectRouter({
    ...options,
    // Both serving paths run the gate first, once the call's context exists.
    requestGate: (context) => {
      if (isAbortable(context)) context.values.get(kCallDeadline)?.attach(context);
      return requestGate === undefined ? Promise.resolve() : requestGate(context);
    },
  });
  routes(router);
  const handlers = new Map<string, UniversalHandler>();
  for (const handler of router.handlers) handlers.set(handler.requestPath, handler);

  return (request, response) => {
    const url = request.url ?? "";
    const query = url.indexOf("?");
    const handler = handlers.get(query === -1 ? url : url.slice(0, query));
    if (handler === undefined) {
      response.statusCode = 404;
      response.end();
      return;
    }
    const unary = handler.method.methodKind === "unary";
    const deadline = startCallDeadline(request, response, unary, maxDeadlineMs);
    const values = createContextValues().set(kCallDeadline, deadline);
    const universalRequest = universalRequestFromNodeRequest(request, response, undefined, values);
    deadline.withholdTimeout(universalRequest.header);
    handler(universalRequest)
      .then((answer) => universalResponseToNodeResponse(answer, response))
      .catch((reason: unknown) => {
        if (deadline.expired || ConnectError.from(reason).code === Code.Aborted) return;
        // As connectNodeAdapter reports a handler that failed to answer.
        console.error(
          `handler for rpc ${handler.method.name} of ${handler.service.typeName} failed`,
          reason,
        );
      });
  };
}

/** Connect's handlers give the gate the context they created, which can be aborted. */
function isAbortable(context: HandlerContext): context is HandlerContext & AbortableContext {
  return "abort" in context && typeof context.abort === "function";
}
