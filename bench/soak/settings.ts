// npm run soak's settings: SOAK_* from the environment, checked (README.md, "Soak").
import { z } from "zod";
import { type AttackKind, attackKinds } from "./attackers.js";

const positive = z.coerce.number().positive();
const variables = z.object({
  SOAK_MINUTES: positive.default(5),
  SOAK_SECONDS: positive.optional(),
  SOAK_RATE: positive.default(200),
  SOAK_PROFILES: z.coerce.number().int().min(2000).default(10_000),
  SOAK_WRITERS: z.coerce.number().int().min(1).max(1000).default(1000),
  SOAK_ATTACKS: z.string().default("all"),
  SOAK_HEALTHZ_MAX_MS: positive.default(1000),
  SOAK_RSS_GROWTH_MIB: positive.default(150),
  SOAK_UNAVAILABLE_WINDOW_MS: positive.default(2000),
  SOAK_DRAIN_S: positive.default(60),
  // docs/operating.md "Memory": the heap flags a deployment sets to keep RSS flat; without them V8 grows its
  // heap lazily for minutes, which the RSS check could not tell from a leak.
  SOAK_SERVICE_NODE_OPTIONS: z
    .string()
    .default("--max-semi-space-size=16 --max-old-space-size=192"),
});

function readSettings() {
  const present = Object.fromEntries(
    Object.entries(process.env).filter(
      // Empty counts as unset, except for NODE_OPTIONS, where it means none.
      ([name, value]) =>
        name.startsWith("SOAK_") && (value !== "" || name === "SOAK_SERVICE_NODE_OPTIONS"),
    ),
  );
  const parsed = variables.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${String(issue.path[0])}: ${issue.message}`,
    );
    throw new Error(`invalid soak settings: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  const requested = e.SOAK_ATTACKS.split(",").map((name) => name.trim());
  const attacks: AttackKind[] =
    e.SOAK_ATTACKS === "all"
      ? [...attackKinds]
      : e.SOAK_ATTACKS === "none"
        ? []
        : requested.map((name) => {
            const kind = attackKinds.find((known) => known === name);
            if (kind === undefined) {
              throw new Error(
                `invalid soak settings: SOAK_ATTACKS: unknown attack "${name}" (all, none, or a list of ${attackKinds.join(", ")})`,
              );
            }
            return kind;
          });
  const seconds = e.SOAK_SECONDS ?? e.SOAK_MINUTES * 60;
  return {
    seconds,
    /** Rows of the table: a minute, or 10 s in runs shorter than two minutes. */
    intervalS: seconds >= 120 ? 60 : 10,
    rate: e.SOAK_RATE,
    profiles: e.SOAK_PROFILES,
    writers: e.SOAK_WRITERS,
    attacks,
    healthzMaxMs: e.SOAK_HEALTHZ_MAX_MS,
    rssGrowthMiB: e.SOAK_RSS_GROWTH_MIB,
    unavailableWindowMs: e.SOAK_UNAVAILABLE_WINDOW_MS,
    drainS: e.SOAK_DRAIN_S,
    serviceNodeOptions: e.SOAK_SERVICE_NODE_OPTIONS,
  };
}

export const settings = readSettings();
export type SoakSettings = typeof settings;
