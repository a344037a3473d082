import { FieldRulesBroken } from "../field-violations.js";
import type { UserId } from "../profile/user-id.js";

/** A graph request whose values break its rules (graph/rules.ts, page tokens). */
export class InvalidGraphRequest extends FieldRulesBroken {
  override readonly name = "InvalidGraphRequest";
}

/** A use of a social graph by someone other than its user, without a scope that allows it. */
export class NotGraphOwner extends Error {
  override readonly name = "NotGraphOwner";
  constructor() {
    super("a social graph may be used only by its own user");
  }
}

export class NotAContact extends Error {
  override readonly name = "NotAContact";
  constructor(
    readonly userId: UserId,
    readonly otherUserId: UserId,
  ) {
    super(`user ${otherUserId} is not a contact of user ${userId}`);
  }
}

/**
 * Two users with a block between them cannot become contacts; said the same way whoever blocks
 * whom.
 */
export class BlockedBetweenUsers extends Error {
  override readonly name = "BlockedBetweenUsers";
  constructor() {
    super("these users cannot be contacts: there is a block between them");
  }
}

/** A per-user limit is reached; retrying does not help until something is removed. */
abstract class UserLimitReached extends Error {
  /** Whose limit, as a quota subject: `user:<uuid>`. */
  readonly subject: string;
  constructor(userId: UserId, description: string) {
    super(description);
    this.subject = `user:${userId}`;
  }
}

export class ContactLimitReached extends UserLimitReached {
  override readonly name = "ContactLimitReached";
  constructor(userId: UserId, maxContacts: number) {
    super(userId, `a user may have at most ${maxContacts} contacts`);
  }
}

export class BlockLimitReached extends UserLimitReached {
  override readonly name = "BlockLimitReached";
  constructor(userId: UserId, maxBlocks: number) {
    super(userId, `a user may block at most ${maxBlocks} users`);
  }
}
