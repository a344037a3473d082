import type { Consumer, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { InvalidUserId } from "../../profile/errors.js";
import type { ProfileService } from "../../profile/service.js";
import type { ConsumeOutcome, EventMetrics } from "../metrics.js";
import { type BackoffPolicy, backoffMs, retryUntilStopped } from "../retry.js";
import { decodeUserDeleted, decodeUserRegistered } from "./messages.js";

export interface AuthUserConsumer {
  /** Stops pulling; resolves when the message in hand is settled. */
  stop(): Promise<void>;
}

/** The subjects that announce a new user; other `auth.user.*` events are acknowledged unread. */
const REGISTRATION_SUBJECTS: ReadonlySet<string> = new Set([
  "auth.user.registered",
  "auth.user.created",
]);
/** The subject that announces a deleted account. */
const DELETION_SUBJECT = "auth.user.deleted";
/** Redelivery delays of a registration that failed: 1 s, 2 s, … 60 s. */
const REDELIVERY_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 60_000 };
/** Pause before pulling again after the message stream broke off. */
const RESUME_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 1000 };

/**
 * Provisions a default profile for every UserRegistered (and `auth.user.created`) message pulled
 * from the durable consumer, and deletes the account of every UserDeleted (`auth.user.deleted`):
 * profile, contacts and blocks on either side, in one transaction, leaving a tombstone; deleting
 * again changes nothing. Acknowledges only after the commit; a failure is
 * negatively acknowledged with a growing delay (redelivered); a message that can never succeed is
 * terminated with its reason, so it never holds up the ones behind it.
 */
export function startAuthUserConsumer(options: {
  readonly getConsumer: () => Promise<Consumer>;
  readonly profiles: ProfileService;
  readonly logger: Logger;
  readonly metrics: Pick<EventMetrics, "consumed">;
}): AuthUserConsumer {
  const { profiles, logger, metrics } = options;
  const stopping = new AbortController();
  let stopCurrent = () => {};

  /** Decodes and applies one message; returns its outcome, or a reason never to retry it. */
  const apply = async (
    message: JsMsg,
  ): Promise<{ outcome: ConsumeOutcome } | { reason: string }> => {
    const contentType = message.headers?.get("Content-Type");
    if (message.subject === DELETION_SUBJECT) {
      const decoded = decodeUserDeleted(message.data, contentType);
      if (!decoded.ok) return decoded;
      const version = await profiles.deleteAccount(decoded.userId);
      return { outcome: version === undefined ? "already_deleted" : "deleted" };
    }
    const decoded = decodeUserRegistered(message.data, contentType);
    if (!decoded.ok) return decoded;
    const created = await profiles.provisionProfile(
      decoded.userId,
      decoded.nameCandidates,
      decoded.username,
    );
    return { outcome: created ? "provisioned" : "already_present" };
  };

  const handle = async (message: JsMsg) => {
    if (!REGISTRATION_SUBJECTS.has(message.subject) && message.subject !== DELETION_SUBJECT) {
      message.ack();
      metrics.consumed("ignored");
      return;
    }
    try {
      const applied = await apply(message);
      if ("reason" in applied) return terminate(message, applied.reason);
      message.ack();
      metrics.consumed(applied.outcome);
    } catch (error) {
      if (error instanceof InvalidUserId) return terminate(message, "invalid user_id");
      const delayMs = backoffMs(REDELIVERY_BACKOFF, message.info.deliveryCount - 1);
      message.nak(delayMs);
      metrics.consumed("retried");
      logger.warn(
        { err: error, subject: message.subject, delivery: message.info.deliveryCount, delayMs },
        "auth user event not processed; redelivery requested",
      );
    }
  };

  const terminate = (message: JsMsg, reason: string) => {
    message.term(reason);
    metrics.consumed("terminated");
    logger.warn(
      { subject: message.subject, seq: message.seq, reason },
      "auth user event terminated",
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
