/** A watch that names more users than one watch may; nothing was started. */
export class WatchTooLarge extends Error {
  override readonly name = "WatchTooLarge";
  constructor(maxIdsPerWatch: number, named: number) {
    super(`a watch may name at most ${maxIdsPerWatch} users, got ${named}`);
  }
}

/** The caller, or this instance, has as many watches open as it may; nothing was started. */
export class WatchLimitReached extends Error {
  override readonly name = "WatchLimitReached";
  constructor(
    readonly holder: "caller" | "instance",
    readonly maxWatches: number,
  ) {
    super(
      holder === "caller"
        ? `a caller may have at most ${maxWatches} watches open; close one first`
        : `this instance has ${maxWatches} watches open; retry later`,
    );
  }
}

/** The instance is shutting down: it opens no watch, and ends the open ones. */
export class InstanceShuttingDown extends Error {
  override readonly name = "InstanceShuttingDown";
  /** `endsWatch`: said to a watch that was open, rather than to one being opened. */
  constructor({ endsWatch = false } = {}) {
    super(
      endsWatch ? "the instance is shutting down; watch again" : "the instance is shutting down",
    );
  }
}

/** This instance lost its feed of profile changes: its watches end, since they may miss some. */
export class FeedLost extends Error {
  override readonly name = "FeedLost";
  constructor() {
    super("this instance lost its feed of profile changes; watch again for a fresh snapshot");
  }
}

/** This instance's feed is not live now (it may miss changes), so it opens no watch. */
export class FeedNotLive extends Error {
  override readonly name = "FeedNotLive";
  constructor() {
    super("this instance does not see every profile change now; retry later");
  }
}

/** The watch was closed by its own stream; what was waiting on it ends. */
export class WatchClosed extends Error {
  override readonly name = "WatchClosed";
  constructor() {
    super("the watch was closed");
  }
}
