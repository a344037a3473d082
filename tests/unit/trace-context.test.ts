// W3C Trace Context's traceparent as the service reads it (src/ops/trace-context.ts), and the
// current trace that writes record with their events.
import { describe, expect, it } from "vitest";
import {
  currentTraceParent,
  parseTraceParent,
  withTraceParent,
} from "../../src/ops/trace-context.js";

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const valid = `00-${traceId}-00f067aa0ba902b7-01`;

describe("parseTraceParent", () => {
  it("reads a version-00 traceparent: the header to pass on and its trace id", () => {
    expect(parseTraceParent(valid)).toEqual({ header: valid, traceId });
  });

  it("reads a later version as version 00, dropping what it appends", () => {
    expect(parseTraceParent(`01-${traceId}-00f067aa0ba902b7-01-extra`)).toEqual({
      header: valid,
      traceId,
    });
  });

  it.each([
    ["absent", null],
    ["empty", ""],
    ["upper-case", valid.toUpperCase()],
    ["version ff", `ff-${traceId}-00f067aa0ba902b7-01`],
    ["version 00 with more after the flags", `${valid}-extra`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-00f067aa0ba902b7-01`],
    ["an all-zero parent id", `00-${traceId}-${"0".repeat(16)}-01`],
    ["a short trace id", `00-${traceId.slice(1)}-00f067aa0ba902b7-01`],
    ["no flags", `00-${traceId}-00f067aa0ba902b7`],
    ["garbage", "hello"],
  ])("refuses one that is %s", (_, value) => {
    expect(parseTraceParent(value)).toBeUndefined();
  });
});

describe("the current trace", () => {
  it("is the one given to withTraceParent, across awaits, and none outside", async () => {
    const trace = parseTraceParent(valid);

    const seen = await withTraceParent(trace, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentTraceParent();
    });

    expect(seen).toEqual(trace);
    expect(currentTraceParent()).toBeUndefined();
  });

  it("is none inside withTraceParent(undefined)", () => {
    expect(withTraceParent(undefined, () => currentTraceParent())).toBeUndefined();
  });
});
