// What every attacker of the soak shares: the kinds, what it may use (AttackContext), what it
// reports (AttackReport), and how it counts calls and breaches.
import { atFixedRate } from "../../harness/load.js";

export const attackKinds = [
  "bomb",
  "unfinished",
  "slowloris",
  "watch",
  "reset",
  "deadline",
  "malformed",
  "claims",
  "invisible",
  "scraper",
] as const;
export type AttackKind = (typeof attackKinds)[number];

/** What the attackers may use and where they report. */
export interface AttackContext {
  readonly origin: string;
  readonly port: number;
  /** HS256 secret the service verifies tokens with (to forge well-signed odd claims). */
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  /** A valid user token for `userId`, a user of the attacker's own. */
  tokenFor(userId: string): Promise<string>;
  /** A seeded profile the attackers read, and try to change without owning it. */
  readonly victimUserId: string;
  /** The n-th seeded profile id, 1-based. */
  seededId(n: number): string;
  readonly profiles: number;
  readonly durationMs: number;
  stopped(): boolean;
  /** The stored version of a profile (0 if none), read from the database. */
  versionOf(userId: string): Promise<number>;
  /** Counts a call the service answered, by procedure, to compare with its metrics. */
  answered(procedure: string): void;
  /** Notes that an attacker call was in flight from `start` to `end` (performance.now()). */
  busy(kind: AttackKind, start: number, end: number): void;
}

/** What one attacker did and which of its rules it broke. */
export interface AttackReport {
  readonly kind: AttackKind;
  readonly item: number;
  readonly what: string;
  readonly rule: string;
  calls: number;
  readonly outcomes: Record<string, number>;
  readonly breaches: string[];
  readonly notes: string[];
}

export const API = "/realchat.profile.v1.ProfileApi";
export const GET = `${API}/GetProfile`;
export const UPDATE = `${API}/UpdateProfile`;
export const BATCH = `${API}/BatchGetProfiles`;
export const CHECK = "/grpc.health.v1.Health/Check";
/** What an attacker call may take beyond its own deadline before it counts as held. */
export const SLACK_MS = 3000;

/** A report with nothing counted yet: attack `item` of issue 10's list, what it sends, its rule. */
export function newReport(
  kind: AttackKind,
  item: number,
  what: string,
  rule: string,
): AttackReport {
  return { kind, item, what, rule, calls: 0, outcomes: {}, breaches: [], notes: [] };
}

/** Counts one call of the attacker and its outcome. */
export function count(r: AttackReport, outcome: string): void {
  r.calls += 1;
  r.outcomes[outcome] = (r.outcomes[outcome] ?? 0) + 1;
}

/** Adds a breach once per distinct text, with how often it happened. */
/**
 * Runs `attack(n)` `ratePerSecond` times a second from now to the end of the soak, or until it
 * stops; resolves when every call has ended.
 */
export function atRate(
  ctx: AttackContext,
  ratePerSecond: number,
  attack: (n: number) => Promise<void>,
): Promise<void> {
  return atFixedRate(ratePerSecond, ctx.durationMs, attack, ctx.stopped);
}

/** Runs one attacker call, noting that it was in flight (`ctx.busy`) while it ran. */
export async function timed<T>(ctx: AttackContext, kind: AttackKind, call: () => Promise<T>) {
  const start = performance.now();
  try {
    return await call();
  } finally {
    ctx.busy(kind, start, performance.now());
  }
}

export function breach(r: AttackReport, text: string): void {
  const at = r.breaches.findIndex((b) => b === text || b.startsWith(`${text} (×`));
  if (at === -1) {
    r.breaches.push(text);
    return;
  }
  const times = Number(/\(×(\d+)\)$/.exec(r.breaches[at] ?? "")?.[1] ?? 1) + 1;
  r.breaches[at] = `${text} (×${times})`;
}

/** Outcomes a client may produce by itself (its own deadline, a lost connection): not answers. */
export const clientSide = new Set(["DEADLINE_EXCEEDED", "UNAVAILABLE", "CANCELED", "NO_ANSWER"]);
