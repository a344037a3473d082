import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import type { Profile } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import type {
  PrivacySettingsChanged,
  ProfileCreated,
  ProfileDeleted,
  ProfileUpdated,
} from "../../gen/realchat/profile/v1/profile_events_pb.js";
import { decodeProfileEvent } from "../../src/events/outbox/profile-events.js";

/** A nats-server of the test's own, on a free port with its own store, that it may stop. */
export interface PrivateNats {
  readonly url: string;
  /** Starts it again on the same port and store; JetStream on unless told otherwise. */
  start(options?: { jetstream?: boolean }): Promise<void>;
  /** Stops it (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

function natsServerBinary(): string {
  if (process.env.NATS_SERVER_BIN !== undefined) return process.env.NATS_SERVER_BIN;
  return existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server";
}

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => resolve(true));
      socket.once("error", () => resolve(false));
    }).catch(() => false);
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export async function startNatsServer(options: { jetstream?: boolean } = {}): Promise<PrivateNats> {
  const port = await freePort();
  const storeDir = await mkdtemp(path.join(tmpdir(), "profile-nats-"));
  let child: ChildProcess | undefined;
  const start = async ({ jetstream = true }: { jetstream?: boolean } = {}) => {
    const args = [
      "-a",
      "127.0.0.1",
      "-p",
      String(port),
      ...(jetstream ? ["-js"] : []),
      "-sd",
      storeDir,
    ];
    const started = spawn(natsServerBinary(), args, { stdio: "ignore" });
    started.once("error", (error) => {
      throw new Error(`cannot start nats-server (set NATS_SERVER_BIN): ${error.message}`);
    });
    child = started;
    await waitForPort(port);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    running.kill("SIGTERM");
    await once(running, "exit");
  };
  await start(options);
  return {
    url: `nats://127.0.0.1:${port}`,
    start,
    stop,
    async dispose() {
      await stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** Publishes a registration as Auth would, to JetStream, with an optional Content-Type. */
export async function publishToStream(
  nc: NatsConnection,
  subject: string,
  data: Uint8Array | string,
  contentType?: string,
): Promise<void> {
  const h = headers();
  if (contentType !== undefined) h.set("Content-Type", contentType);
  await jetstream(nc).publish(subject, data, { headers: h });
}

/** One profile event as a subscriber receives it. */
export interface ReceivedEvent {
  readonly subject: string;
  readonly type: string;
  readonly contentType: string;
  readonly msgId: string;
  /** The W3C `traceparent` header, when the event carries the trace of the call behind it. */
  readonly traceparent: string | undefined;
  readonly event: ProfileCreated | ProfileUpdated | ProfileDeleted | PrivacySettingsChanged;
}

/** The profile a received ProfileCreated or ProfileUpdated carries; undefined for ProfileDeleted. */
export function profileOf(received: ReceivedEvent | undefined): Profile | undefined {
  return received !== undefined && "profile" in received.event ? received.event.profile : undefined;
}

/** Decodes a profile event message by its Realchat-Event-Type and Content-Type headers. */
function receivedEvent(message: {
  subject: string;
  data: Uint8Array;
  headers?: { get(name: string): string } | undefined;
}): ReceivedEvent {
  const type = message.headers?.get("Realchat-Event-Type") ?? "";
  const contentType = message.headers?.get("Content-Type") ?? "";
  return {
    subject: message.subject,
    type,
    contentType,
    msgId: message.headers?.get("Nats-Msg-Id") ?? "",
    // nats.js answers "" for a header that is not there.
    traceparent: message.headers?.get("traceparent") || undefined,
    event: decodeProfileEvent(type, contentType, message.data),
  };
}

/**
 * Every event about `userId` the PROFILE stream holds, in stream order: what a JetStream consumer
 * would get (duplicates dropped by the stream are not there).
 */
export function storedEventsOf(natsUrl: string, userId: string): Promise<ReceivedEvent[]> {
  return storedEvents(natsUrl, `profile.*.${userId}`);
}

/** Every event in the PROFILE stream (or those on `filter`), in stream order. */
export async function storedEvents(natsUrl: string, filter?: string): Promise<ReceivedEvent[]> {
  const nc = await connect({ servers: natsUrl });
  try {
    const consumer = await jetstream(nc).consumers.get(
      "PROFILE",
      filter === undefined ? {} : { filter_subjects: filter },
    );
    const events: ReceivedEvent[] = [];
    for (;;) {
      const message = await consumer.next({ expires: 1000 });
      if (message === null) return events;
      events.push(receivedEvent(message));
      if (message.info.pending === 0) return events;
    }
  } finally {
    await nc.close();
  }
}

/** Listens to every `profile.>` message from now on and decodes it. */
export async function watchProfileEvents(natsUrl: string) {
  const nc = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const received: ReceivedEvent[] = [];
  const subscription = nc.subscribe("profile.>", {
    callback: (error, message) => {
      if (error === null) received.push(receivedEvent(message));
    },
  });
  await nc.flush();
  return {
    received,
    /** The events about one user, in arrival order. */
    of(userId: string): ReceivedEvent[] {
      return received.filter((event) => event.subject.endsWith(`.${userId}`));
    },
    async close() {
      subscription.unsubscribe();
      await nc.close();
    },
  };
}

/** Waits until `done()` holds, checking every 20 ms; fails after `timeoutMs`. */
export async function until(
  done: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export type EventWatcher = Awaited<ReturnType<typeof watchProfileEvents>>;
