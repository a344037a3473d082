import type { Metrics } from "../../src/ops/metrics.js";

/** The value of the sample of metric `name` with these labels, read from the registry; 0 if none. */
export async function metricValue(
  metrics: Metrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  const sample = values.find((value) =>
    Object.entries(labels).every(([label, wanted]) => value.labels[label] === wanted),
  );
  return sample?.value ?? 0;
}

/** A sample of a scraped page by name and labels (in the order the service writes them). */
export type Sample = (name: string, labels?: Record<string, string>) => number;

/**
 * GET /metrics once, as Prometheus would; the returned function reads a sample of that page and
 * throws when the page has no such sample.
 */
export async function scrape(baseUrl: string): Promise<Sample> {
  const lines = (await (await fetch(`${baseUrl}/metrics`)).text()).split("\n");
  return (name, labels = {}) => {
    const pairs = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
    const prefix = pairs.length === 0 ? `${name} ` : `${name}{${pairs.join(",")}} `;
    const line = lines.find((row) => row.startsWith(prefix));
    if (line === undefined) throw new Error(`no ${prefix.trim()} on /metrics`);
    return Number(line.slice(prefix.length));
  };
}

/** One sample of a fresh scrape of GET /metrics. */
export async function scrapedValue(
  baseUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return (await scrape(baseUrl))(name, labels);
}
