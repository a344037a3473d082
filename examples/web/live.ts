// Keeps profiles on screen live through WatchProfiles, reopening the stream when it ends.
import { Code, ConnectError } from "@connectrpc/connect";
import type { WatchProfilesResponse } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { describe, profileApi, transportName } from "./session.js";

/** Refusals that another try cannot change: shown, and the watch stops. */
const final = new Set([
  Code.InvalidArgument,
  Code.PermissionDenied,
  Code.Unauthenticated,
  Code.Unimplemented,
]);

export interface WatchHandlers {
  /** Each message: first a snapshot per id, then every change. */
  message(message: WatchProfilesResponse): void;
  /** How the watch stands, for a status line. */
  status(text: string, problem: boolean): void;
}

/**
 * Watches `userIds` until the returned function is called. The stream ends with UNAVAILABLE when
 * the server can no longer see every change, and at its deadline: it is then opened again after a
 * backoff (0.5 s doubling to 10 s), and its new snapshot is taken as the truth, so nothing missed
 * while away stays missed.
 */
export function keepWatching(userIds: readonly string[], handlers: WatchHandlers): () => void {
  const controller = new AbortController();
  void (async () => {
    let delayMs = 500;
    while (!controller.signal.aborted) {
      try {
        handlers.status(`connecting (${transportName()})…`, false);
        const stream = profileApi().watchProfiles(
          { userIds: [...userIds] },
          { signal: controller.signal },
        );
        for await (const message of stream) {
          handlers.status(`live over ${transportName()}`, false);
          delayMs = 500;
          handlers.message(message);
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        if (final.has(ConnectError.from(error).code)) {
          handlers.status(describe(error), true);
          return;
        }
        handlers.status(`${describe(error)}; reconnecting in ${delayMs / 1000} s`, true);
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 10_000);
    }
  })();
  return () => controller.abort();
}
