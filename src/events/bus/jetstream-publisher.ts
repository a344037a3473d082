import type { JetStreamClient } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import type { EventPublisher } from "../outbox/outbox-relay.js";

const PUBLISH_TIMEOUT_MS = 5000;

/**
 * The relay's publisher on JetStream: the event id goes in `Nats-Msg-Id`, so the stream drops a
 * row published twice, and the causing call's W3C trace in `traceparent`; `isConnected` says
 * whether the bus has its connection now.
 */
export function createJetStreamPublisher(
  js: JetStreamClient,
  isConnected: () => boolean,
): EventPublisher {
  return {
    isConnected,
    async publish(event) {
      const h = headers();
      h.set("Content-Type", event.contentType);
      h.set("Realchat-Event-Type", event.type);
      // W3C Trace Context over NATS headers, as OpenTelemetry's NATS propagation reads it.
      if (event.traceparent !== undefined) h.set("traceparent", event.traceparent);
      const ack = await js.publish(event.subject, event.data, {
        msgID: event.eventId,
        headers: h,
        timeout: PUBLISH_TIMEOUT_MS,
      });
      return { duplicate: ack.duplicate };
    },
  };
}
