// The soak's /healthz probe, off the main thread.
import { Worker } from "node:worker_threads";

/** One probe: when it began (performance.now() of the soak's thread), how long, whether 200. */
export interface Probe {
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
}

/**
 * GET /healthz every 250 ms, each bounded to 10 s, from a worker thread of its own: the soak's
 * main thread drives the load and the attackers, and its event-loop delay must not count as the
 * service's.
 */
export function probeHealth(origin: string) {
  const probes: Probe[] = [];
  const worker = new Worker(healthProbeSource, { eval: true, workerData: { origin } });
  worker.on("message", (probe: { atEpochMs: number; ms: number; ok: boolean }) => {
    probes.push({ at: probe.atEpochMs - performance.timeOrigin, ms: probe.ms, ok: probe.ok });
  });
  const done = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    probes,
    stop: async () => {
      worker.postMessage("stop");
      await done;
    },
  };
}

/** The probe loop, as plain JavaScript for the worker. */
const healthProbeSource = `
const { parentPort, workerData } = require("node:worker_threads");
let running = true;
parentPort.once("message", () => { running = false; });
(async () => {
  while (running) {
    const start = performance.now();
    const ok = await fetch(workerData.origin + "/healthz", { signal: AbortSignal.timeout(10000) }).then(
      async (response) => { await response.arrayBuffer(); return response.ok; },
      () => false,
    );
    parentPort.postMessage({ atEpochMs: performance.timeOrigin + start, ms: performance.now() - start, ok });
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  process.exit(0);
})();
`;
