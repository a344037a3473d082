import { AsyncLocalStorage } from "node:async_hooks";

/** The W3C `traceparent` of a call (https://www.w3.org/TR/trace-context/), validated. */
export interface TraceParent {
  /** The header to pass on, in version 00's form. */
  readonly header: string;
  /** Its 32 hex digits of trace id, for log lines. */
  readonly traceId: string;
}

/** Version, trace id, parent id, flags; a later version may append fields after a dash. */
const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const allZeros = /^0+$/;

/**
 * Reads a `traceparent` header as the specification says a version-00 reader must: the value is
 * refused (undefined) when malformed, of version `ff`, with an all-zero trace or parent id, or of
 * version 00 with anything after the flags. A later version is read as version 00.
 */
export function parseTraceParent(value: string | null | undefined): TraceParent | undefined {
  if (value === null || value === undefined) return undefined;
  const match = traceparentPattern.exec(value.trim());
  if (match === null) return undefined;
  const [, version = "", traceId = "", parentId = "", flags = "", rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (allZeros.test(traceId) || allZeros.test(parentId)) return undefined;
  return { header: `00-${traceId}-${parentId}-${flags}`, traceId };
}

const current = new AsyncLocalStorage<TraceParent>();

/**
 * Runs `work` with `trace` as the current trace, which everything it awaits sees (the writes it
 * makes, which record it with the events they announce); without a trace, runs it as it is.
 */
export function withTraceParent<T>(trace: TraceParent | undefined, work: () => T): T {
  return trace === undefined ? work() : current.run(trace, work);
}

/** The trace of the call this code runs for, if it came with one. */
export function currentTraceParent(): TraceParent | undefined {
  return current.getStore();
}
