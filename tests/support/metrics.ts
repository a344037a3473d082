import type { Metrics } from "../../src/observability/metrics.js";

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

/**
 * The value of the sample `name{labels}` as GET /metrics shows it (labels in the order the
 * service writes them); undefined when the page has no such line.
 */
export async function scrapedValue(
  baseUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const pairs = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  const prefix = pairs.length === 0 ? `${name} ` : `${name}{${pairs.join(",")}} `;
  const line = text.split("\n").find((row) => row.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}
