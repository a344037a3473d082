import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { consumeOutcomes, type EventMetrics, publishResults } from "../events/metrics.js";
import type { OutboxBacklog } from "../events/outbox/outbox-repository.js";
import type { ProfileCacheStats } from "../profile/live/cache.js";
import type { WatchMetrics } from "../profile/live/watch.js";
import { registerCacheMetrics } from "./cache-metrics.js";
import { withTimeLimit } from "./time-limit.js";
import { createWatchMetrics } from "./watch-metrics.js";

/** Where the gauges read their values at scrape time; absent parts are not exported. */
export interface MetricSources {
  /** PostgreSQL pool occupancy (none for PGlite). */
  readonly pool?: () => { total: number; idle: number; waiting: number } | undefined;
  readonly outboxBacklog?: () => Promise<OutboxBacklog>;
  /** The read cache's totals (none when PROFILE_CACHE_ENABLED=false). */
  readonly profileCache?: () => ProfileCacheStats;
}

export interface Metrics {
  readonly registry: Registry;
  /** Counts a call as started; the returned function records its end. */
  rpcStarted(procedure: string): (code: string, seconds: number) => void;
  /** Counts a call refused by the caller's quota; `callerKind` is "user" or "service". */
  rateLimited(procedure: string, callerKind: string): void;
  /** Counts a connection closed unread because MAX_CONNECTIONS were open. */
  connectionRefused(): void;
  /** Counts a connection to the internal door closed unread: its peer is not trusted. */
  untrustedPeerRefused(): void;
  /** Where the event side counts what it publishes and consumes. */
  readonly events: EventMetrics;
  /** Where WatchProfiles' fan-out counts watchers, deliveries and coalesced drops. */
  readonly watch: WatchMetrics;
}

/** Longest a scrape waits for the outbox query. */
const OUTBOX_QUERY_TIMEOUT_MS = 1000;

/**
 * The service's Prometheus metrics, in a registry of its own. Label values are bounded: procedure
 * names of registered services, code names, fixed outcome names; never a user id or a raw path.
 */
export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: "profile_rpc_requests_total",
    help: "RPCs handled, by procedure and status code.",
    labelNames: ["procedure", "code"] as const,
    registers,
  });
  const duration = new Histogram({
    name: "profile_rpc_duration_seconds",
    help: "RPC handling time, by procedure and status code.",
    labelNames: ["procedure", "code"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const inFlight = new Gauge({
    name: "profile_rpc_in_flight",
    help: "RPCs being handled now, by procedure.",
    labelNames: ["procedure"] as const,
    registers,
  });

  const rateLimited = new Counter({
    name: "profile_rate_limited_total",
    help: "Calls refused with RESOURCE_EXHAUSTED by the caller's quota, by procedure and kind of caller.",
    labelNames: ["procedure", "caller_kind"] as const,
    registers,
  });

  const refusedConnections = new Counter({
    name: "profile_connections_refused_total",
    help: "Connections closed as soon as they were accepted, because MAX_CONNECTIONS were open.",
    registers,
  });
  const refusedPeers = new Counter({
    name: "profile_internal_peers_refused_total",
    help: "Connections to the internal door closed as soon as they were accepted, because the peer is outside INTERNAL_TRUSTED_CIDRS.",
    registers,
  });

  const { pool } = sources;
  if (pool !== undefined) {
    new Gauge({
      name: "profile_db_pool_connections",
      help: "PostgreSQL pool connections: total, idle, and callers waiting for one.",
      labelNames: ["state"] as const,
      registers,
      collect() {
        const stats = pool();
        if (stats === undefined) return;
        this.set({ state: "total" }, stats.total);
        this.set({ state: "idle" }, stats.idle);
        this.set({ state: "waiting" }, stats.waiting);
      },
    });
  }

  const { outboxBacklog } = sources;
  if (outboxBacklog !== undefined) {
    // One query feeds both gauges; a scrape that cannot reach the database keeps the last values.
    let backlog: Promise<OutboxBacklog | undefined> | undefined;
    const currentBacklog = () => {
      backlog ??= withTimeLimit(outboxBacklog(), OUTBOX_QUERY_TIMEOUT_MS)
        .catch(() => undefined)
        .finally(() => {
          backlog = undefined;
        });
      return backlog;
    };
    new Gauge({
      name: "profile_outbox_pending_events",
      help: "Events written to the outbox and not yet published.",
      registers,
      async collect() {
        const current = await currentBacklog();
        if (current !== undefined) this.set(current.pending);
      },
    });
    new Gauge({
      name: "profile_outbox_oldest_event_age_seconds",
      help: "Age of the oldest unpublished event (0 when none).",
      registers,
      async collect() {
        const current = await currentBacklog();
        if (current !== undefined) this.set(current.oldestAgeSeconds);
      },
    });
  }

  const consumed = new Counter({
    name: "profile_events_consumed_total",
    help: "Registration events consumed, by outcome.",
    labelNames: ["outcome"] as const,
    registers,
  });
  // Every label value is exported from the start, at 0.
  for (const outcome of consumeOutcomes) consumed.inc({ outcome }, 0);
  const published = new Counter({
    name: "profile_events_published_total",
    help: "Outbox publish attempts, by result (a duplicate was already in the stream).",
    labelNames: ["result"] as const,
    registers,
  });
  for (const result of publishResults) published.inc({ result }, 0);
  const busUp = new Gauge({
    name: "profile_event_bus_up",
    help: "1 while connected to NATS with streams, relay and consumer running.",
    registers,
  });

  const feedLag = new Histogram({
    name: "profile_cache_feed_lag_seconds",
    help: "Time from a profile event's occurred_at to its receipt by this instance's feed.",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers,
  });
  if (sources.profileCache !== undefined) registerCacheMetrics(registers, sources.profileCache);

  return {
    registry,
    rpcStarted(procedure) {
      inFlight.inc({ procedure });
      return (code, seconds) => {
        inFlight.dec({ procedure });
        requests.inc({ procedure, code });
        duration.observe({ procedure, code }, seconds);
      };
    },
    rateLimited(procedure, callerKind) {
      rateLimited.inc({ procedure, caller_kind: callerKind });
    },
    connectionRefused: () => refusedConnections.inc(),
    untrustedPeerRefused: () => refusedPeers.inc(),
    events: {
      published: (result) => published.inc({ result }),
      consumed: (outcome) => consumed.inc({ outcome }),
      busUp: (up) => busUp.set(up ? 1 : 0),
      feedLag: (seconds) => feedLag.observe(seconds),
    },
    watch: createWatchMetrics(registers),
  };
}
