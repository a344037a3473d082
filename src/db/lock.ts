import { createHash, randomUUID } from "node:crypto";
import { readFileSync, unlinkSync } from "node:fs";
import { link, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

// One process per embedded data directory. Node has no flock, so the lock is a file made with
// link(2), which fails when the name exists: it holds the holder's pid, host, boot id and process
// start time (from /proc where there is one), written and synced before it gets its name, so a
// reader never sees half of it. A holder that died is recognised by its pid being gone, or
// recycled (another start time), or by another boot. Taking over such a stale lock is a race
// between starters: each first claims that one stale file under a name derived from its content,
// and only the claimant replaces it (rename), after checking it is still the same file.

/** The lock file's name inside the data directory. */
export const lockFileName = "profile-service.lock";
/** Claims on one stale lock: the next number is tried when a claimant died in the middle. */
const MAX_CLAIMS = 8;
/** Rounds of "stale, but someone else is taking it over" before giving up. */
const MAX_ATTEMPTS = 100;
const RETRY_PAUSE_MS = 20;

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly bootId?: string;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat, field 22). */
  readonly startTicks?: number;
  readonly since: string;
  /** Makes every acquisition's file content unique, so content identifies one acquisition. */
  readonly nonce: string;
}

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: { readonly pid: number; readonly host: string },
    lockFile: string,
  ) {
    const where =
      holder.host === hostname()
        ? `pid ${holder.pid}`
        : `pid ${holder.pid} on host ${holder.host} (its liveness cannot be checked from here; ` +
          `if it is gone, delete ${lockFile})`;
    super(
      `DATA_DIR ${dataDir} is in use by another instance: ${where}. Only one instance may use an ` +
        "embedded data directory: stop that one, set another DATA_DIR, or set DATABASE_URL for " +
        "PostgreSQL to run several.",
    );
    this.name = "DataDirLockedError";
  }
}

/** An exclusive hold on a data directory, until `release()` or the end of the process. */
export interface DataDirLock {
  /** Removes the lock file if it is still this process's. Idempotent. */
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock on `dataDir` (created if missing), taking over a lock whose holder
 * died. Throws `DataDirLockedError` naming the holder when a live process has it.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, lockFileName);
  const own = JSON.stringify(describeThisProcess());
  const draft = `${lockFile}.${process.pid}.${randomUUID()}.tmp`;
  await writeSynced(draft, own);
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (await createExclusive(draft, lockFile)) return holdUntilExit(lockFile, own);
      const current = await readIfExists(lockFile);
      if (current === undefined) continue; // released in the meantime
      const holder = parseHolder(current);
      if (holder !== undefined && isAlive(holder)) {
        throw new DataDirLockedError(dataDir, holder, lockFile);
      }
      if (await takeOver(lockFile, current, draft)) return holdUntilExit(lockFile, own);
      await sleep(RETRY_PAUSE_MS);
    }
    throw new Error(`cannot lock DATA_DIR ${dataDir}: ${lockFile} keeps changing`);
  } finally {
    await rm(draft, { force: true });
  }
}

/**
 * Replaces the stale lock whose content is `stale` by `draft`. Returns false when another
 * starter is taking it over or has done so (the caller looks again).
 */
async function takeOver(lockFile: string, stale: string, draft: string): Promise<boolean> {
  const claimBase = `${lockFile}.takeover-${createHash("sha256").update(stale).digest("hex").slice(0, 16)}`;
  const claims: string[] = [];
  try {
    for (let n = 1; n <= MAX_CLAIMS; n++) {
      const claim = `${claimBase}-${n}`;
      claims.push(claim);
      if (await createExclusive(draft, claim)) {
        // Only a claimant replaces this stale content, and content never repeats: if the file
        // still holds it now, nobody else can change it before the rename.
        const replaced = (await readIfExists(lockFile)) === stale;
        if (replaced) await rename(draft, lockFile);
        // Once the stale content is gone, its claims (ours, and those of claimants that died)
        // are of no use to anyone: a claimant still running finds the content changed.
        await Promise.all(claims.map((c) => rm(c, { force: true })));
        return replaced;
      }
      const claimant = parseHolder((await readIfExists(claim)) ?? "");
      // A live claimant is doing it; a claim that vanished or cannot be read is being cleaned up.
      if (claimant === undefined || isAlive(claimant)) return false;
    }
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

function holdUntilExit(lockFile: string, own: string): DataDirLock {
  let held = true;
  // A process.exit() elsewhere (second signal, fatal error) still frees the directory.
  const onExit = () => {
    try {
      if (readFileSync(lockFile, "utf8") === own) unlinkSync(lockFile);
    } catch {
      // Already gone.
    }
  };
  process.on("exit", onExit);
  return {
    async release() {
      if (!held) return;
      held = false;
      process.off("exit", onExit);
      if ((await readIfExists(lockFile)) === own) await rm(lockFile, { force: true });
    },
  };
}

/** Gives `source`'s content the name `target` unless that exists: true if it did. */
async function createExclusive(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

async function writeSynced(file: string, content: string): Promise<void> {
  const handle = await open(file, "wx", 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function describeThisProcess(): Holder {
  return {
    pid: process.pid,
    host: hostname(),
    bootId: bootId(),
    startTicks: startTicksOf(process.pid),
    since: new Date().toISOString(),
    nonce: randomUUID(),
  };
}

/** The holder in a lock file; undefined when the content is not one (treated as stale). */
function parseHolder(content: string): Holder | undefined {
  try {
    const value = JSON.parse(content) as Partial<Holder> | null;
    if (typeof value?.pid !== "number" || typeof value.host !== "string") return undefined;
    return value as Holder;
  } catch {
    return undefined;
  }
}

/**
 * Whether the holder may still run. A process on another host (or in another container) cannot
 * be seen from here: it counts as alive.
 */
function isAlive(holder: Holder): boolean {
  if (holder.host !== hostname()) return true;
  const currentBoot = bootId();
  if (holder.bootId !== undefined && currentBoot !== undefined && holder.bootId !== currentBoot) {
    return false;
  }
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  // The pid may have been given to another process since (a restarted container is pid 1 again).
  const startTicks = startTicksOf(holder.pid);
  return (
    holder.startTicks === undefined || startTicks === undefined || startTicks === holder.startTicks
  );
}

function bootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return undefined;
  }
}

function startTicksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isSafeInteger(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}
