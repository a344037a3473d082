// The soak's verdict: what the run breached (errors outside a kill's window, slow /healthz
// probes, RSS growth, calls missing from /metrics, the end checks, the attackers' rules), the
// table per interval on stdout, and all of it as JSON.
import { readFile } from "node:fs/promises";
import { machine, resultsFile, shown, writeResults } from "../harness/results.js";
import { latencySummary } from "../harness/stats.js";
import { type AttackReport, attackKinds } from "./attackers.js";
import type { Probe } from "./health-probe.js";
import type { CallRecord } from "./load.js";
import { settings } from "./settings.js";
import type { Verdict } from "./verify.js";

const rounded = (ms: number) => Math.round(ms * 10) / 10;

/** Rows of equal keys as a plain text table, numbers right-aligned. */
function plainTable(rows: readonly Record<string, string | number>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cells = rows.map((row) => columns.map((column) => String(row[column] ?? "")));
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((line) => (line[i] ?? "").length)),
  );
  const line = (values: readonly string[], numeric: (i: number) => boolean) =>
    values
      .map((value, i) =>
        numeric(i) ? value.padStart(widths[i] ?? 0) : value.padEnd(widths[i] ?? 0),
      )
      .join(" | ")
      .trimEnd();
  const isNumber = (i: number) => typeof rows[0]?.[columns[i] ?? ""] === "number";
  return [
    line(columns, isNumber),
    widths.map((width) => "-".repeat(width)).join("-|-"),
    ...cells.map((values) => line(values, isNumber)),
  ].join("\n");
}

/** What the soak observed, for the verdict. */
export interface Outcome {
  when: string;
  logFile: string;
  start: number;
  calls: CallRecord[];
  /** The first message the legitimate load got with each error code. */
  messages: Map<string, string>;
  updatesCheck: Verdict;
  eventsCheck: Verdict;
  undrained: number;
  drainS: number;
  attackReports: AttackReport[] | undefined;
  faults: { what: string; at: number; end: number }[];
  busy: { kind: string; start: number; end: number }[];
  probes: readonly Probe[];
  rssSamples: { at: number; mib: number }[];
  idleRss: number;
  answered: Map<string, number>;
  counted: Map<string, number>;
  stoppedCleanly: boolean;
}

/** Prints and writes the outcome; the exit code: 0 when nothing was breached, else 1. */
export async function report(o: Outcome): Promise<number> {
  const breaches: string[] = [];
  const secondsOf = (at: number) => rounded((at - o.start) / 1000);
  const kills = o.faults
    .filter((fault) => fault.what.startsWith("killed"))
    .map((fault) => fault.at);

  // Legitimate errors: UNAVAILABLE only for calls in flight within the window after a kill.
  const allowed = (call: CallRecord) =>
    call.code === "UNAVAILABLE" &&
    kills.some((kill) => call.endAt >= kill && call.dueAt <= kill + settings.unavailableWindowMs);
  const errorsByCode: Record<string, { allowed: number; breach: number }> = {};
  for (const call of o.calls) {
    if (call.code === "OK") continue;
    const entry = errorsByCode[call.code] ?? { allowed: 0, breach: 0 };
    if (allowed(call)) entry.allowed += 1;
    else entry.breach += 1;
    errorsByCode[call.code] = entry;
  }
  for (const [code, { breach }] of Object.entries(errorsByCode)) {
    const example = o.messages.get(code) ? ` (first: "${o.messages.get(code)}")` : "";
    if (breach > 0) {
      breaches.push(
        code === "UNAVAILABLE"
          ? `legitimate load: ${breach} UNAVAILABLE outside ${settings.unavailableWindowMs} ms after a database kill${example}`
          : `legitimate load: ${breach} ${code}${example}`,
      );
    }
  }

  // Per interval: requests, latency from when each call was due, errors, peak RSS.
  const intervalMs = settings.intervalS * 1000;
  const intervals = Math.max(1, Math.ceil((settings.seconds * 1000) / intervalMs));
  const table = Array.from({ length: intervals }, (_, i) => {
    const from = o.start + i * intervalMs;
    const to = from + intervalMs;
    const calls = o.calls.filter((call) => call.dueAt >= from && call.dueAt < to);
    const { p50, p99 } = latencySummary(calls.map((call) => call.endAt - call.dueAt));
    const errors: Record<string, number> = {};
    for (const call of calls)
      if (call.code !== "OK") errors[call.code] = (errors[call.code] ?? 0) + 1;
    const rss = o.rssSamples.filter((sample) => sample.at >= from && sample.at < to);
    return {
      [settings.intervalS === 60 ? "minute" : "from s"]:
        settings.intervalS === 60 ? i + 1 : i * settings.intervalS,
      requests: calls.length,
      "p50 ms": p50,
      "p99 ms": p99,
      "RSS MiB": Math.round(Math.max(0, ...rss.map((sample) => sample.mib))),
      errors:
        Object.entries(errors)
          .map(([code, n]) => `${code} ${n}`)
          .join(", ") || "-",
    };
  });
  const rssPeaks = table.map((row) => row["RSS MiB"] ?? 0);
  const baseline = rssPeaks[0] ?? 0;
  const laterPeak = Math.max(0, ...rssPeaks.slice(1));
  if (rssPeaks.length > 1 && laterPeak > baseline + settings.rssGrowthMiB) {
    breaches.push(
      `RSS grew from ${baseline} MiB (first ${settings.intervalS} s) to ${laterPeak} MiB, more than ${settings.rssGrowthMiB} MiB (SOAK_RSS_GROWTH_MIB)`,
    );
  }

  // /healthz: every probe answered 200 within the bound; say what was going on when it was slow.
  const slow = o.probes.filter((probe) => !probe.ok || probe.ms > settings.healthzMaxMs);
  const healthSummary = latencySummary(o.probes.map((probe) => probe.ms));
  if (slow.length > 0) {
    // Attacker calls that began before the slow probe and were still running when it began,
    // oldest first: the one that started the stall leads the list.
    const during = (probe: { at: number; ms: number }) => {
      const earliest = new Map<string, number>();
      for (const b of o.busy) {
        if (b.start <= probe.at && b.end >= probe.at) {
          earliest.set(b.kind, Math.min(earliest.get(b.kind) ?? b.start, b.start));
        }
      }
      const end = probe.at + probe.ms;
      const kinds = new Set(
        [...earliest]
          .sort((a, b) => a[1] - b[1])
          .slice(0, 3)
          .map(([kind, from]) => `${kind} (from ${rounded((from - probe.at) / 1000)} s)`),
      );
      for (const fault of o.faults) {
        if (fault.at < end && fault.end + 2000 > probe.at) kinds.add(fault.what);
      }
      return [...kinds].join(", ") || "nothing in particular";
    };
    const shown = [...slow]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5)
      .map(
        (probe) =>
          `${probe.ok ? `${Math.round(probe.ms)} ms` : "failed"} at ${secondsOf(probe.at)} s (in flight: ${during(probe)})`,
      );
    breaches.push(
      `/healthz: ${slow.length} of ${o.probes.length} probes slower than ${settings.healthzMaxMs} ms or failed, worst: ${shown.join("; ")}`,
    );
  }

  // Every call the service answered is counted in its metrics (malformed ones too).
  const uncounted: string[] = [];
  const answered = new Map(o.answered);
  for (const call of o.calls) {
    if (
      call.code === "UNAVAILABLE" ||
      call.code === "DEADLINE_EXCEEDED" ||
      call.code === "CANCELED"
    )
      continue;
    const procedure = `realchat.profile.v1.ProfileApi/${call.procedure}`;
    answered.set(procedure, (answered.get(procedure) ?? 0) + 1);
  }
  for (const [procedure, n] of answered) {
    const counted = o.counted.get(procedure) ?? 0;
    if (counted < n) uncounted.push(`${procedure}: ${n} answered, ${counted} counted`);
  }
  if (uncounted.length > 0) {
    breaches.push(`calls answered but missing from /metrics: ${uncounted.join("; ")}`);
  }

  breaches.push(...o.updatesCheck.breaches, ...o.eventsCheck.breaches);
  if (o.undrained > 0) {
    breaches.push(
      `${o.undrained} outbox events still unpublished ${settings.drainS} s after the load`,
    );
  }
  if (!o.stoppedCleanly) breaches.push("the service did not exit within 20 s of SIGTERM");
  if (o.attackReports === undefined)
    breaches.push("the attackers did not stop within 30 s of the end");
  const attackerBreaches = (o.attackReports ?? []).flatMap((r) =>
    r.breaches.map((text) => `attack ${r.item} (${r.kind}): ${text}`),
  );
  breaches.push(...attackerBreaches);

  const log = await readFile(o.logFile, "utf8").catch(() => "");
  const overflowWarnings = log
    .split("\n")
    .filter((line) => line.includes("TimeoutOverflowWarning")).length;
  if (overflowWarnings > 0)
    breaches.push(`${overflowWarnings} TimeoutOverflowWarning lines in the service log`);

  const out = (text = "") => process.stdout.write(`${text}\n`);
  out();
  out(
    `Soak: ${settings.seconds} s at ${settings.rate} req/s (80 % BatchGetProfiles(100), 15 % GetProfile, 5 % UpdateProfile), ${settings.profiles} profiles, ${settings.writers} writers; ${machine().cores} cores, Node ${process.version}`,
  );
  out(
    `service: node dist/main.js (NODE_OPTIONS "${settings.serviceNodeOptions}") on PostgreSQL and its own nats-server; RSS idle ${Math.round(o.idleRss)} MiB`,
  );
  out(`faults: ${o.faults.map((fault) => `${fault.what} at ${secondsOf(fault.at)} s`).join("; ")}`);
  out(plainTable(table));
  out(
    `errors by code (legitimate load): ${
      Object.entries(errorsByCode)
        .map(
          ([code, n]) =>
            `${code} ${n.allowed + n.breach} (${n.allowed} within ${settings.unavailableWindowMs} ms of a database kill)`,
        )
        .join(", ") || "none"
    }`,
  );
  out(
    `/healthz: ${o.probes.length} probes, p50 ${healthSummary.p50} ms, p99 ${healthSummary.p99} ms, max ${healthSummary.max} ms (bound ${settings.healthzMaxMs} ms)`,
  );
  out();
  out(
    `attacks (SOAK_ATTACKS=${settings.attacks.length === attackKinds.length ? "all" : settings.attacks.join(",") || "none"}):`,
  );
  for (const r of o.attackReports ?? []) {
    const outcomes = Object.entries(r.outcomes)
      .map(([k, n]) => `${k} ×${n}`)
      .join(", ");
    out(`  ${r.item}. ${r.kind}: ${r.what}`);
    out(`     rule: ${r.rule}`);
    out(`     ${r.calls} calls: ${outcomes || "-"}`);
    for (const note of r.notes) out(`     ${note}`);
    out(`     ${r.breaches.length === 0 ? "held" : `BREACH: ${r.breaches.join("; ")}`}`);
  }
  out(
    "  11. two instances on one embedded data directory: not applicable (this soak runs on PostgreSQL)",
  );
  out("  12. Node 20: not applicable (the soak runs the service on the Node that runs it)");
  out();
  out(`acknowledged updates: ${o.updatesCheck.summary}`);
  out(
    `events: ${o.eventsCheck.summary}; outbox drained in ${o.drainS.toFixed(1)} s (${o.undrained} left)`,
  );
  out(`service log: ${shown(o.logFile)}`);
  out();
  const results = {
    when: o.when,
    settings,
    machine: machine(),
    table,
    errorsByCode,
    healthz: healthSummary,
    faults: o.faults.map((fault) => ({ what: fault.what, atS: secondsOf(fault.at) })),
    attacks: o.attackReports ?? null,
    updates: o.updatesCheck,
    events: o.eventsCheck,
    breaches,
    passed: breaches.length === 0,
  };
  const file = await writeResults(resultsFile("soak", o.when), results);
  out(`results: ${file}`);
  if (breaches.length === 0) {
    out("soak passed");
    return 0;
  }
  out(`soak FAILED: ${breaches.length} breaches`);
  for (const text of breaches) out(`  - ${text}`);
  return 1;
}
