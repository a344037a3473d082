import type { Interceptor } from "@connectrpc/connect";
import { toConnectError } from "../connect-errors.js";

/**
 * Maps every failure of the calls it wraps to the ConnectError a client sees (connect-errors.ts),
 * including a failure that ends a server stream after its first messages.
 */
export function createErrorInterceptor(): Interceptor {
  return (next) => async (request) => {
    try {
      const response = await next(request);
      if (!response.stream) return response;
      return { ...response, message: mappingErrors(response.message) };
    } catch (error) {
      throw toConnectError(error);
    }
  };
}

async function* mappingErrors<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    throw toConnectError(error);
  }
}
