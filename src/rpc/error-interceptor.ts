import type { Interceptor } from "@connectrpc/connect";
import { toConnectError } from "./connect-errors.js";

/** Maps every failure of the calls it wraps to the ConnectError a client sees (connect-errors.ts). */
export function createErrorInterceptor(): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      throw toConnectError(error);
    }
  };
}
