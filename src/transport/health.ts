import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
} from "../../gen/health/v1/health_pb.js";
import type { Readiness } from "../ops/readiness.js";

/**
 * `grpc.health.v1.Health` for the whole server ("") and the named services: SERVING while the
 * instance is ready (database reachable, migrations applied, not shutting down). Watch streams
 * need no token, so at most `maxWatchStreams` are open at once; more are RESOURCE_EXHAUSTED.
 */
export function createHealthHandlers(
  readiness: Readiness,
  serviceNames: readonly string[],
  maxWatchStreams: number,
): ServiceImpl<typeof Health> {
  const known = new Set(["", ...serviceNames]);
  let watchStreams = 0;
  const status = () =>
    readiness.isReady()
      ? HealthCheckResponse_ServingStatus.SERVING
      : HealthCheckResponse_ServingStatus.NOT_SERVING;

  return {
    check(request) {
      if (!known.has(request.service)) {
        throw new ConnectError(`unknown service ${request.service}`, Code.NotFound);
      }
      return create(HealthCheckResponseSchema, { status: status() });
    },

    list() {
      const current = create(HealthCheckResponseSchema, { status: status() });
      return create(HealthListResponseSchema, {
        statuses: Object.fromEntries([...known].map((name) => [name, current])),
      });
    },

    // Counted from its first message until it ends: client gone, deadline or shutdown.
    async *watch(request, context) {
      if (watchStreams >= maxWatchStreams) {
        throw new ConnectError(
          `too many health watch streams (at most ${maxWatchStreams}); use Check or retry later`,
          Code.ResourceExhausted,
        );
      }
      watchStreams++;
      try {
        yield* watchStatus(request.service, context.signal);
      } finally {
        watchStreams--;
      }
    },
  };

  // The stream sends the current status, then every change, until the client goes away. An
  // unknown service gets SERVICE_UNKNOWN once and the stream stays open, as the protocol asks.
  async function* watchStatus(service: string, signal: AbortSignal) {
    if (!known.has(service)) {
      yield create(HealthCheckResponseSchema, {
        status: HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN,
      });
      await untilAborted(signal);
      return;
    }
    const changes: boolean[] = [];
    let wake = () => {};
    const unsubscribe = readiness.onChange((ready) => {
      changes.push(ready);
      wake();
    });
    try {
      let last = status();
      yield create(HealthCheckResponseSchema, { status: last });
      while (!signal.aborted) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (changes.length > 0) resolve();
          signal.addEventListener("abort", () => resolve(), { once: true });
        });
        changes.length = 0;
        const current = status();
        if (current !== last && !signal.aborted) {
          last = current;
          yield create(HealthCheckResponseSchema, { status: current });
        }
      }
    } finally {
      unsubscribe();
    }
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
