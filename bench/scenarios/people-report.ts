// bench:people's report: the rows, issue 21's targets (each the median over the rounds) with PASS
// or MISS, what was not measured, and how many results the query mix found.

import { median } from "../harness/stats.js";
import type { PeopleBenchResult } from "./people.js";
import { kindTable } from "./people-kinds.js";

export const peopleRows = {
  search: "SearchProfiles (query mix, first page of 20)",
  searchSql: "SearchProfiles SQL (same queries and parameters)",
  resolve: "ResolveHandle",
  get: "GetProfile (the same users)",
  checkHeld: "CheckHandle of held handles",
  checkReserved: "CheckHandle of reserved handles",
} as const;

/** One measured row: a round of one RPC or of pgbench. */
export interface PeopleRow {
  readonly scenario: string;
  readonly driver: string;
  readonly round: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

export interface PeopleTarget {
  readonly measure: string;
  readonly value: number;
  readonly target: string;
  readonly met: boolean;
  readonly from: string;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Issue 21's targets, each the median over the rounds of what its rounds measured. */
export function peopleTargets(rows: readonly PeopleRow[]): PeopleTarget[] {
  const of = (scenario: string) => rows.filter((row) => row.scenario === scenario);
  const ratio = (a: string, b: string) =>
    round2(median(of(a).map((row, i) => row.rps / (of(b)[i]?.rps ?? Number.NaN))));
  const rounds = (scenario: string) =>
    of(scenario)
      .map((row) => row.rps)
      .join(", ");
  const targets: PeopleTarget[] = [];
  if (of(peopleRows.search).length > 0) {
    const p99 = round2(median(of(peopleRows.search).map((row) => row.p99)));
    targets.push({
      measure: "SearchProfiles p99 at 16 streams (ms)",
      value: p99,
      target: "<= 25",
      met: p99 <= 25,
      from: `rounds' p99: ${of(peopleRows.search)
        .map((row) => row.p99)
        .join(", ")}`,
    });
  }
  if (of(peopleRows.search).length > 0 && of(peopleRows.searchSql).length > 0) {
    const value = ratio(peopleRows.search, peopleRows.searchSql);
    targets.push({
      measure: "SearchProfiles / pgbench of its SQL",
      value,
      target: ">= 0.5",
      met: value >= 0.5,
      from: `${rounds(peopleRows.search)} / ${rounds(peopleRows.searchSql)} req/s`,
    });
  }
  if (of(peopleRows.resolve).length > 0) {
    const value = ratio(peopleRows.resolve, peopleRows.get);
    targets.push({
      measure: "ResolveHandle / GetProfile",
      value,
      target: ">= 0.8",
      met: value >= 0.8,
      from: `${rounds(peopleRows.resolve)} / ${rounds(peopleRows.get)} req/s`,
    });
  }
  if (of(peopleRows.checkHeld).length > 0) {
    // "Just as fast": within the drift of alternated rows measured in the same minutes.
    const value = ratio(peopleRows.checkReserved, peopleRows.checkHeld);
    targets.push({
      measure: "CheckHandle reserved / held",
      value,
      target: "0.8 to 1.25",
      met: value >= 0.8 && value <= 1.25,
      from: `${rounds(peopleRows.checkReserved)} / ${rounds(peopleRows.checkHeld)} req/s`,
    });
  }
  return targets;
}

/** The rows, the targets with PASS or MISS, what was not measured, the mix's result counts. */
export function peopleBenchTable(result: PeopleBenchResult): string {
  const lines = [
    "| scenario | driver | round | req/s | p50 ms | p99 ms | errors |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...result.rows.map(
      (r) =>
        `| ${r.scenario} | ${r.driver} | ${r.round} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} |`,
    ),
    "",
    "| issue | measure | value | target | met | from |",
    "| --- | --- | --- | --- | --- | --- |",
    ...result.targets.map(
      (t) =>
        `| 21 | ${t.measure} | ${t.value} | ${t.target} | ${t.met ? "PASS" : "MISS"} | ${t.from} |`,
    ),
    ...result.notMeasured.map((what) => `not measured: ${what}`),
    ...Object.entries(result.mix).map(
      ([kind, m]) =>
        `query mix, ${kind}: ${m.queries} queries, ${m.meanResults} results on the first page on average`,
    ),
    ...(result.kinds === undefined ? [] : ["", kindTable(result.kinds)]),
  ];
  return lines.join("\n");
}
