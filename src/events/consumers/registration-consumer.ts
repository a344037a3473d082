import type { Consumer, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { InvalidArgumentError } from "../../errors.js";
import type { ProfileService } from "../../profile/profile-service.js";
import type { EventMetrics } from "../event-metrics.js";
import { type BackoffPolicy, backoffMs, retryUntilStopped } from "../retry.js";
import { decodeUserRegistered } from "./user-registered.js";

export interface RegistrationConsumer {
  /** Stops pulling; resolves when the message in hand is settled. */
  stop(): Promise<void>;
}

/** The subjects that announce a new user; other `auth.user.*` events are acknowledged unread. */
const REGISTRATION_SUBJECTS: ReadonlySet<string> = new Set([
  "auth.user.registered",
  "auth.user.created",
]);
/** Redelivery delays of a registration that failed: 1 s, 2 s, … 60 s. */
const REDELIVERY_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 60_000 };
/** Pause before pulling again after the message stream broke off. */
const RESUME_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 1000 };

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
  readonly metrics: Pick<EventMetrics, "consumed">;
}): RegistrationConsumer {
  const { profiles, logger, metrics } = options;
  const stopping = new AbortController();
  let stopCurrent = () => {};

  const handle = async (message: JsMsg) => {
    if (!REGISTRATION_SUBJECTS.has(message.subject)) {
      message.ack();
      metrics.consumed("ignored");
      return;
    }
    const decoded = decodeUserRegistered(message.data, message.headers?.get("Content-Type"));
    if (!decoded.ok) return terminate(message, decoded.reason);
    try {
      const created = await profiles.provisionProfile(decoded.userId, decoded.nameCandidates);
      message.ack();
      metrics.consumed(created ? "provisioned" : "already_present");
    } catch (error) {
      if (error instanceof InvalidArgumentError) {
        return terminate(message, `invalid user_id ${JSON.stringify(decoded.userId)}`);
      }
      const delayMs = backoffMs(REDELIVERY_BACKOFF, message.info.deliveryCount - 1);
      message.nak(delayMs);
      metrics.consumed("retried");
      logger.warn(
        { err: error, subject: message.subject, delivery: message.info.deliveryCount, delayMs },
        "registration not processed; redelivery requested",
      );
    }
  };

  const terminate = (message: JsMsg, reason: string) => {
    message.term(reason);
    metrics.consumed("terminated");
    logger.warn(
      { subject: message.subject, seq: message.seq, reason },
      "registration event terminated",
    );
  };

  /** Pulls until stopped; a message stream that ends or breaks off is opened again. */
  const consumeUntilStopped = async () => {
    const consumer = await options.getConsumer();
    const messages = await consumer.consume({ max_messages: 64 });
    stopCurrent = () => void messages.stop();
    if (stopping.signal.aborted) messages.stop();
    for await (const message of messages) await handle(message);
    if (!stopping.signal.aborted) throw new Error("the message stream ended");
  };
  const running = retryUntilStopped(consumeUntilStopped, {
    signal: stopping.signal,
    backoff: RESUME_BACKOFF,
    onFailure: (error) =>
      logger.warn({ err: error }, "registration consumer interrupted; resuming"),
  });

  return {
    async stop() {
      stopping.abort();
      stopCurrent();
      await running;
    },
  };
}
