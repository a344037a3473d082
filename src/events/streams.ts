import {
  AckPolicy,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

const AUTH_STREAM = "AUTH";
const PROFILE_STREAM = "PROFILE";
/** Contacts and blocks (graph events); created beside PROFILE where it is missing. */
const SOCIAL_STREAM = "SOCIAL";
const CONSUMER_NAME = "profile-service";
/**
 * One filter subject rather than `filter_subjects`, which needs nats-server 2.10: the consumer
 * sees every `auth.user.*` event and ignores the ones it has no use for.
 */
const CONSUMER_FILTER = "auth.user.*";
/** Redeliveries of a registration that keeps failing, before JetStream gives up on it. */
const MAX_DELIVER = 20;
/** Window in which JetStream drops a re-published event with the same Nats-Msg-Id. */
const DUPLICATE_WINDOW_MS = 10 * 60_000;

/**
 * Creates the AUTH, PROFILE and SOCIAL streams and the durable registration consumer unless they
 * exist; existing ones are left as they are.
 */
export async function ensureStreams(jsm: JetStreamManager): Promise<void> {
  const streams = [
    { name: AUTH_STREAM, subjects: ["auth.>"] },
    { name: PROFILE_STREAM, subjects: ["profile.>"] },
    { name: SOCIAL_STREAM, subjects: ["social.>"] },
  ];
  for (const stream of streams) {
    const exists = await jsm.streams.info(stream.name).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await jsm.streams.add({ ...stream, duplicate_window: nanos(DUPLICATE_WINDOW_MS) });
    }
  }
  const consumerExists = await jsm.consumers.info(AUTH_STREAM, CONSUMER_NAME).then(
    () => true,
    () => false,
  );
  if (!consumerExists) {
    await jsm.consumers.add(AUTH_STREAM, {
      durable_name: CONSUMER_NAME,
      ack_policy: AckPolicy.Explicit,
      filter_subject: CONSUMER_FILTER,
      max_deliver: MAX_DELIVER,
      ack_wait: nanos(30_000),
    });
  }
}

/** The durable consumer all instances share: each auth user event goes to one of them. */
export function authUserConsumer(js: JetStreamClient): Promise<Consumer> {
  return js.consumers.get(AUTH_STREAM, CONSUMER_NAME);
}
