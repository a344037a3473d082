import { Counter, Gauge, type Registry } from "prom-client";
import type { WatchMetrics } from "../profile/live/watch.js";

/** WatchProfiles' metrics: open watchers, updates delivered, updates coalesced away. */
export function createWatchMetrics(registers: Registry[]): WatchMetrics {
  const open = new Gauge({
    name: "profile_watchers_open",
    help: "WatchProfiles streams open on this instance.",
    registers,
  });
  const delivered = new Counter({
    name: "profile_watch_deliveries_total",
    help: "Messages handed to WatchProfiles streams (snapshots and changes).",
    registers,
  });
  const coalesced = new Counter({
    name: "profile_watch_coalesced_total",
    help: "Pending WatchProfiles messages replaced by a newer version before their client read them.",
    registers,
  });
  return {
    watcherOpened: () => open.inc(),
    watcherClosed: () => open.dec(),
    delivered: () => delivered.inc(),
    coalesced: () => coalesced.inc(),
  };
}
