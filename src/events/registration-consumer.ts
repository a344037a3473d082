import type { Consumer, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { InvalidArgumentError } from "../errors.js";
import type { ProfileService } from "../profile/profile-service.js";
import { decodeUserRegistered } from "./user-registered.js";

/** Outcomes of consumed registration events, by name. */
export interface ConsumerStats {
  /** A default profile was created. */
  provisioned: number;
  /** The profile existed already (repeated event, or UpdateProfile came first). */
  alreadyPresent: number;
  /** The message can never succeed (undecodable, bad user id): terminated. */
  terminated: number;
  /** Processing failed (database down): redelivered later. */
  retried: number;
  /** Another `auth.user.*` event, acknowledged without use. */
  ignored: number;
}

export interface RegistrationConsumer {
  /** Stops pulling; resolves when the message in hand is settled. */
  stop(): Promise<void>;
}

/** The subjects that announce a new user; other `auth.user.*` events are acknowledged unread. */
const REGISTRATION_SUBJECTS: ReadonlySet<string> = new Set([
  "auth.user.registered",
  "auth.user.created",
]);
const MAX_REDELIVERY_DELAY_MS = 60_000;

/**
 * Provisions a default profile for every UserRegistered (and `auth.user.created`) message pulled
 * from the durable consumer. Acknowledges only after the insert committed; a failure is
 * negatively acknowledged with a growing delay (redelivered); a message that can never succeed is
 * terminated with its reason, so it never holds up the ones behind it.
 */
export function startRegistrationConsumer(options: {
  readonly getConsumer: () => Promise<Consumer>;
  readonly profiles: ProfileService;
  readonly logger: Logger;
  readonly stats: ConsumerStats;
}): RegistrationConsumer {
  const { profiles, logger, stats } = options;
  let stopped = false;
  let stopCurrent = () => {};

  const handle = async (message: JsMsg) => {
    if (!REGISTRATION_SUBJECTS.has(message.subject)) {
      message.ack();
      stats.ignored += 1;
      return;
    }
    const decoded = decodeUserRegistered(message.data, message.headers?.get("Content-Type"));
    if (!decoded.ok) return terminate(message, decoded.reason);
    try {
      const created = await profiles.provisionProfile(decoded.userId, decoded.nameCandidates);
      message.ack();
      if (created) stats.provisioned += 1;
      else stats.alreadyPresent += 1;
    } catch (error) {
      if (error instanceof InvalidArgumentError) {
        return terminate(message, `invalid user_id ${JSON.stringify(decoded.userId)}`);
      }
      const delayMs = Math.min(
        MAX_REDELIVERY_DELAY_MS,
        1000 * 2 ** (message.info.deliveryCount - 1),
      );
      message.nak(delayMs);
      stats.retried += 1;
      logger.warn(
        { err: error, subject: message.subject, delivery: message.info.deliveryCount, delayMs },
        "registration not processed; redelivery requested",
      );
    }
  };

  const terminate = (message: JsMsg, reason: string) => {
    message.term(reason);
    stats.terminated += 1;
    logger.warn(
      { subject: message.subject, seq: message.seq, reason },
      "registration event terminated",
    );
  };

  const run = async () => {
    while (!stopped) {
      try {
        const consumer = await options.getConsumer();
        const messages = await consumer.consume({ max_messages: 64 });
        stopCurrent = () => void messages.stop();
        if (stopped) messages.stop();
        for await (const message of messages) await handle(message);
      } catch (error) {
        if (!stopped) logger.warn({ err: error }, "registration consumer interrupted; resuming");
      }
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  const running = run();

  return {
    async stop() {
      stopped = true;
      stopCurrent();
      await running;
    },
  };
}
