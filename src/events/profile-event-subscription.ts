import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { ProfileFeedListener, RelationChange } from "../profile/live/feed.js";
import { profileFromMessage } from "../profile/rpc/message.js";
import type { UserId } from "../profile/user-id.js";
import { decodeProfileEvent, privacySettingsFromEvent } from "./outbox/profile-events.js";
import { decodeSocialGraphEvent, type SocialGraphEvent } from "./outbox/social-graph-events.js";

/** Every profile event of every instance: `profile.{created,updated,deleted,privacy}.<id>`. */
const PROFILE_EVENTS = "profile.>";
/** Every contact and block added or removed, by any instance: what the visibility rules read. */
const SOCIAL_EVENTS = "social.>";

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
 * The instance's subscriptions to the profile and social graph events, plain NATS subscriptions
 * (not JetStream consumers) on one connection: the feed only needs what happens while it listens,
 * since a gap is answered by dropping everything cached, not by replay. The feed is live once the
 * server has both (a flush round trip after subscribing), lost at every disconnect, and live
 * again after the reconnect's flush. Messages are handled in the subscriptions' callbacks as they
 * arrive, in the order one connection receives them (the outbox publishes an owner's graph and
 * profile events in commit order), so nothing queues here.
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
    } else if (event.$typeName === "realchat.profile.v1.PrivacySettingsChanged") {
      feed.privacyChanged?.(privacySettingsFromEvent(event));
    } else if (event.profile !== undefined) {
      feed.changed(profileFromMessage(event.profile, Number(event.version)));
    }
  };

  const onGraphEvent = (message: Msg) => {
    const type = message.headers?.get("Realchat-Event-Type") ?? "";
    const contentType = message.headers?.get("Content-Type") ?? "";
    try {
      feed.relationChanged?.(
        relationChangeOf(decodeSocialGraphEvent(type, contentType, message.data)),
      );
    } catch (error) {
      logger.warn({ err: error, subject: message.subject }, "ignored an undecodable graph event");
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

  const subscribe = (subject: string, handle: (message: Msg) => void): Subscription => {
    const subscription = connection.subscribe(subject, {
      callback: (error, message) => {
        if (error === null) return handle(message);
        logger.error({ err: error, subject }, "profile feed: subscription failed");
        feed.lost();
      },
    });
    void subscription.closed.then(() => {
      if (!stopped) feed.lost();
    });
    return subscription;
  };
  const subscriptions = [
    subscribe(PROFILE_EVENTS, onEvent),
    subscribe(SOCIAL_EVENTS, onGraphEvent),
  ];
  void watchStatus();
  void goLive();

  return {
    stop() {
      stopped = true;
      for (const subscription of subscriptions) subscription.unsubscribe();
      feed.lost();
    },
  };
}

/** The edge a graph event adds or removes. */
function relationChangeOf(event: SocialGraphEvent): RelationChange {
  const contact = "contactUserId" in event;
  return {
    ownerId: event.userId as UserId,
    otherUserId: (contact ? event.contactUserId : event.blockedUserId) as UserId,
    kind: contact ? "contact" : "block",
    present:
      event.$typeName === "realchat.profile.v1.ContactAdded" ||
      event.$typeName === "realchat.profile.v1.UserBlocked",
  };
}
