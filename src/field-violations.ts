/** One reason a request field was refused; `field` is the proto field path, e.g. `user_ids[3]`. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
  /** UPPER_SNAKE_CASE, stable for clients to branch on. */
  readonly reason: string;
}

/**
 * A request whose fields break the API's rules, with every rule they break; nothing was changed.
 * Each capability names its own (profile/errors.ts, graph/errors.ts).
 */
export abstract class FieldRulesBroken extends Error {
  constructor(readonly violations: readonly FieldViolation[]) {
    super(violations.map((v) => `${v.field}: ${v.description}`).join("; "));
  }
}
