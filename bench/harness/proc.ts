import { readFile } from "node:fs/promises";

const MiB = 2 ** 20;

/** A process's resident memory now (VmRSS) and at its peak so far (VmHWM), in bytes; 0 if gone. */
export async function processMemory(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kiB = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kiB("VmRSS") * 1024, hwm: kiB("VmHWM") * 1024 };
}

/** CPU time (user + system) a process has used so far, in seconds. */
export async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
  // utime and stime, fields 14 and 15 of proc(5), in clock ticks of 1/100 s on Linux.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process's resident memory, sampled every `intervalMs` until `stop()`. */
export function sampleRss(pid: number, intervalMs: number) {
  /** `at`: performance.now(); `mib`: VmRSS. */
  const samples: { at: number; mib: number }[] = [];
  const timer = setInterval(async () => {
    const { rss } = await processMemory(pid);
    if (rss > 0) samples.push({ at: performance.now(), mib: rss / MiB });
  }, intervalMs);
  return {
    samples,
    stop: () => clearInterval(timer),
    /** The highest sample so far, in whole MiB. */
    peakMiB: () => Math.round(Math.max(0, ...samples.map((sample) => sample.mib))),
    /** The latest sample, in whole MiB. */
    lastMiB: () => Math.round(samples.at(-1)?.mib ?? 0),
  };
}

export const toMiB = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;
