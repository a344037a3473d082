import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { ProfileFeedListener } from "../profile/live/feed.js";
import { profileFromMessage } from "../profile/rpc/message.js";
import type { UserId } from "../profile/user-id.js";
import { decodeProfileEvent } from "./outbox/profile-events.js";

/** Every profile event of every instance: `profile.{created,updated,deleted}.<id>`. */
const PROFILE_EVENTS = "profile.>";

export interface ProfileEventSubscription {
  /** Unsubscribes; the feed is then no longer live. */
  stop(): void;
}

export interface ProfileEventSubscriptionOptions {
  readonly connection: NatsConnection;
  /** Hears each event, and the subscription's loss and return. */
  readonly feed: ProfileFeedListener;
  readonly logger: Logger;
  /** Seconds from an event's `occurred_at` to its receipt here. */
  readonly observeLag: (seconds: number) => void;
}

/**
 * The instance's one subscription to the profile events, a plain NATS subscription (not a
 * JetStream consumer): the feed only needs what happens while it listens, since a gap is
 * answered by dropping everything cached, not by replay. The feed is live once the server has
 * the subscription (a flush round trip after subscribing), lost at every disconnect, and live
 * again after the reconnect's flush. Messages are handled in the subscription's callback as they
 * arrive, so nothing queues here.
 */
export function startProfileEventSubscription(
  options: ProfileEventSubscriptionOptions,
): ProfileEventSubscription {
  const { connection, feed, logger, observeLag } = options;
  let stopped = false;
  /** Bumped at each disconnect: a flush begun before one must not declare the feed live. */
  let connectionEpoch = 0;

  const onEvent = (message: Msg) => {
    const type = message.headers?.get("Realchat-Event-Type") ?? "";
    const contentType = message.headers?.get("Content-Type") ?? "";
    let event: ReturnType<typeof decodeProfileEvent>;
    try {
      event = decodeProfileEvent(type, contentType, message.data);
    } catch (error) {
      logger.warn({ err: error, subject: message.subject }, "ignored an undecodable profile event");
      return;
    }
    if (event.occurredAt !== undefined) {
      observeLag(Math.max(0, Date.now() - timestampMs(event.occurredAt)) / 1000);
    }
    if (event.$typeName === "realchat.profile.v1.ProfileDeleted") {
      feed.removed(event.userId as UserId, Number(event.version));
    } else if (event.profile !== undefined) {
      feed.changed(profileFromMessage(event.profile, Number(event.version)));
    }
  };

  const goLive = async () => {
    const epoch = connectionEpoch;
    try {
      await connection.flush();
    } catch (error) {
      logger.warn({ err: error }, "profile feed: flush failed; waiting for the next reconnect");
      return;
    }
    if (!stopped && epoch === connectionEpoch) feed.resumed();
  };

  const watchStatus = async () => {
    for await (const status of connection.status()) {
      if (stopped) return;
      if (status.type === "disconnect") {
        connectionEpoch += 1;
        feed.lost();
      } else if (status.type === "reconnect") {
        void goLive();
      }
    }
  };

  const subscription: Subscription = connection.subscribe(PROFILE_EVENTS, {
    callback: (error, message) => {
      if (error === null) return onEvent(message);
      logger.error({ err: error }, "profile feed: subscription failed");
      feed.lost();
    },
  });
  void subscription.closed.then(() => {
    if (!stopped) feed.lost();
  });
  void watchStatus();
  void goLive();

  return {
    stop() {
      stopped = true;
      subscription.unsubscribe();
      feed.lost();
    },
  };
}
