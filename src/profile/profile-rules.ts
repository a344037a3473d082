import type { FieldViolation } from "../errors.js";

export const DISPLAY_NAME_MAX_LENGTH = 64;
export const BIO_MAX_LENGTH = 500;
export const AVATAR_URL_MAX_LENGTH = 2048;

/** The editable fields of a profile; an absent field is left as it is. */
export interface ProfileFields {
  readonly displayName?: string;
  readonly avatarUrl?: string;
  readonly bio?: string;
}

export interface FieldRuleOptions {
  /** Accept http:// avatar URLs (local development only). */
  readonly allowHttpAvatarUrls: boolean;
}

/** The normalized fields, or every rule they break. */
export type CheckedFields =
  | { readonly ok: true; readonly fields: ProfileFields }
  | { readonly ok: false; readonly violations: FieldViolation[] };

/**
 * Normalizes the present fields (NFC, trimmed display name) and checks them against the field
 * rules (SPEC 2). Lengths count Unicode code points.
 */
export function checkProfileFields(input: ProfileFields, options: FieldRuleOptions): CheckedFields {
  const violations: FieldViolation[] = [];
  const check = (field: string, raw: string | undefined, rule: (raw: string) => Checked) => {
    if (raw === undefined) return undefined;
    const result = rule(raw);
    if ("value" in result) return result.value;
    violations.push({ field, ...result });
    return undefined;
  };
  const fields: ProfileFields = {
    displayName: check("display_name", input.displayName, checkDisplayName),
    avatarUrl: check("avatar_url", input.avatarUrl, (raw) => checkAvatarUrl(raw, options)),
    bio: check("bio", input.bio, checkBio),
  };
  return violations.length === 0 ? { ok: true, fields } : { ok: false, violations };
}

type Checked = { value: string } | { description: string; reason: string };

const refused = (description: string, reason: string): Checked => ({ description, reason });

// Control (Cc) and format (Cf: bidi overrides, zero-width characters, tags) characters, and line
// or paragraph separators: invisible or reordering text that lets one name impersonate another.
const forbiddenInDisplayName = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
// A zero-width joiner between two emoji builds one emoji (👩‍💻); that use stays allowed.
const emojiJoiner =
  /(?<=\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]?)\u200D(?=\p{Extended_Pictographic})/gu;

function checkDisplayName(raw: string): Checked {
  if (!raw.isWellFormed()) return refused("must be valid Unicode text", "INVALID_UNICODE");
  const value = raw.normalize("NFC").trim();
  if (value === "") return refused("cannot be empty", "REQUIRED");
  if (exceeds(value, DISPLAY_NAME_MAX_LENGTH)) {
    return refused(`must be at most ${DISPLAY_NAME_MAX_LENGTH} characters`, "TOO_LONG");
  }
  if (forbiddenInDisplayName.test(value.replace(emojiJoiner, ""))) {
    return refused(
      "must not contain control, formatting or invisible characters",
      "FORBIDDEN_CHARACTER",
    );
  }
  return { value };
}

// Control characters (Cc: C0 and C1) other than \n.
const controlExceptNewline = /[^\P{Cc}\n]/u;

function checkBio(raw: string): Checked {
  if (!raw.isWellFormed()) return refused("must be valid Unicode text", "INVALID_UNICODE");
  const value = raw.normalize("NFC");
  if (exceeds(value, BIO_MAX_LENGTH)) {
    return refused(`must be at most ${BIO_MAX_LENGTH} characters`, "TOO_LONG");
  }
  if (controlExceptNewline.test(value)) {
    return refused("must not contain control characters other than \\n", "FORBIDDEN_CHARACTER");
  }
  return { value };
}

const spaceOrInvisible = /[\s\p{C}]/u;
const hostAfterSlashes = /^https?:\/\/[^/?#]/i;

function checkAvatarUrl(raw: string, options: FieldRuleOptions): Checked {
  if (raw === "") return { value: raw };
  if (exceeds(raw, AVATAR_URL_MAX_LENGTH)) {
    return refused(`must be at most ${AVATAR_URL_MAX_LENGTH} characters`, "TOO_LONG");
  }
  if (spaceOrInvisible.test(raw)) {
    return refused("must not contain spaces or control characters", "INVALID_URL");
  }
  const scheme = /^(https?):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== "https" && !(scheme === "http" && options.allowHttpAvatarUrls)) {
    return refused(
      scheme === "http" ? "must use https://" : "must be an absolute https:// URL",
      "INVALID_URL",
    );
  }
  // The URL parser forgives "https:///host"; the text itself must name a host after "//".
  const url = URL.parse(raw);
  if (url === null || url.hostname === "" || !hostAfterSlashes.test(raw)) {
    return refused("must be an absolute https:// URL with a host", "INVALID_URL");
  }
  if (url.username !== "" || url.password !== "") {
    return refused("must not contain a user name or password", "INVALID_URL");
  }
  return { value: raw };
}

/** Whether `text` has more than `max` code points, without counting past the limit. */
function exceeds(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let count = 0;
  for (const _ of text) {
    count += 1;
    if (count > max) return true;
  }
  return false;
}
