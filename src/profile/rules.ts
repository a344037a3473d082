import type { FieldViolation } from "../field-violations.js";

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
 * rules stated in docs/api.md and the proto's field comments. Lengths count Unicode code
 * points. The work is bounded whatever the input: raw values longer than any valid one are
 * refused before they are normalized.
 */
export function checkProfileFields(input: ProfileFields, options: FieldRuleOptions): CheckedFields {
  const violations: FieldViolation[] = [];
  const check = (field: string, raw: string | undefined, rule: (raw: string) => CheckedValue) => {
    if (raw === undefined) return undefined;
    const result = rule(raw);
    if ("value" in result) return result.value;
    violations.push({ field, ...result });
    return undefined;
  };
  const fields: ProfileFields = {
    displayName: check("display_name", input.displayName, checkVisibleName),
    avatarUrl: check("avatar_url", input.avatarUrl, (raw) => checkAvatarUrl(raw, options)),
    bio: check("bio", input.bio, checkBio),
  };
  return violations.length === 0 ? { ok: true, fields } : { ok: false, violations };
}

/** One value checked against one field's rules: normalized, or the rule it breaks and why. */
export type CheckedValue =
  | { readonly value: string }
  | { readonly description: string; readonly reason: string };

const refused = (description: string, reason: string): CheckedValue => ({ description, reason });

/**
 * Most UTF-16 code units a raw value may hold per code point the normalized value may hold. The
 * raw length is checked against this bound before NFC, whose cost grows with the square of a run
 * of combining marks (1 MB of marks held the event loop for minutes).
 *
 * It admits every valid value. NFD(raw) = NFD(NFC(raw)), and each code point of the raw text
 * decomposes into at least one code point of that NFD of its own; so the raw text has at most
 * Σ W(y) units over the code points y of NFD(value), where W(y) is the most units of a code point
 * whose decomposition holds y. Per code point of the value that sum is at most 6 (Unicode 17:
 * U+16126 GURUNG KHEMA VOWEL SIGN AI is three supplementary code points in NFD; the Greek letters
 * of four BMP code points, like U+1F82, sum to 4). tests/bounded-work.test.ts recomputes it
 * over every code point of the running Node's Unicode.
 */
export const RAW_UNITS_PER_CODE_POINT = 6;

// Refused anywhere in a name: control (Cc) and format (Cf: bidi overrides, zero-width characters,
// tags) characters, line and paragraph separators, private-use characters and noncharacters
// (meaningless or unassigned meaning between systems), default-ignorable code points (the Hangul
// fillers U+115F, U+1160, U+3164, U+FFA0, U+034F, U+17B4…) other than variation selectors (which
// pick a glyph of the character before them, as U+FE0F in 🏳️‍🌈), and
// the blank symbols U+2800 BRAILLE PATTERN BLANK and U+1D159 MUSICAL SYMBOL NULL NOTEHEAD: all draw
// nothing or reorder text, which lets one name impersonate another.
const forbiddenInDisplayName =
  /(?!\p{Variation_Selector})[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Noncharacter_Code_Point}\p{Default_Ignorable_Code_Point}\u2800\u{1D159}]/u;
// A zero-width joiner between two emoji builds one emoji (👩‍💻); that use stays allowed.
const emojiJoiner =
  /(?<=\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]?)\u200D(?=\p{Extended_Pictographic})/gu;
// What draws something: a letter, digit, punctuation mark or symbol. A name of spaces, combining
// marks or variation selectors alone shows as nothing (the fillers are refused above).
const visible = /[\p{L}\p{N}\p{P}\p{S}]/u;

/**
 * The rules of a name other users see: a display name, and a contact's nickname (graph/rules.ts).
 * Trimmed and NFC-normalized; "" is refused.
 */
export function checkVisibleName(raw: string): CheckedValue {
  if (!raw.isWellFormed()) return refused("must be valid Unicode text", "INVALID_UNICODE");
  const tooLong = () =>
    refused(`must be at most ${DISPLAY_NAME_MAX_LENGTH} characters`, "TOO_LONG");
  // Trimming first lets any padding through; NFC neither makes nor joins whitespace at the ends.
  const trimmed = raw.trim();
  if (trimmed.length > DISPLAY_NAME_MAX_LENGTH * RAW_UNITS_PER_CODE_POINT) return tooLong();
  const value = trimmed.normalize("NFC").trim();
  if (value === "") return refused("cannot be empty", "REQUIRED");
  if (exceeds(value, DISPLAY_NAME_MAX_LENGTH)) return tooLong();
  if (forbiddenInDisplayName.test(value.replace(emojiJoiner, ""))) {
    return refused(
      "must not contain control, formatting, invisible, private-use or noncharacter code points",
      "FORBIDDEN_CHARACTER",
    );
  }
  if (!visible.test(value)) {
    return refused(
      "must contain a visible character (a letter, digit, punctuation mark or symbol)",
      "INVISIBLE",
    );
  }
  return { value };
}

// Refused in a bio: control characters (Cc: C0 and C1) other than \n; bidi embeddings, overrides
// and isolates (U+202A–U+202E, U+2066–U+2069), which reorder the text after them and, left open,
// the page around the bio; and noncharacters.
const forbiddenInBio = /[^\P{Cc}\n]|[\u202A-\u202E\u2066-\u2069\p{Noncharacter_Code_Point}]/u;

/** The rules of a bio, which a block's reason follows too (graph/rules.ts). NFC-normalized. */
export function checkBio(raw: string): CheckedValue {
  if (!raw.isWellFormed()) return refused("must be valid Unicode text", "INVALID_UNICODE");
  const tooLong = () => refused(`must be at most ${BIO_MAX_LENGTH} characters`, "TOO_LONG");
  if (raw.length > BIO_MAX_LENGTH * RAW_UNITS_PER_CODE_POINT) return tooLong();
  const value = raw.normalize("NFC");
  if (exceeds(value, BIO_MAX_LENGTH)) return tooLong();
  if (forbiddenInBio.test(value)) {
    return refused(
      "must not contain control characters other than \\n, bidi overrides or isolates, or noncharacters",
      "FORBIDDEN_CHARACTER",
    );
  }
  return { value };
}

const spaceOrInvisible = /[\s\p{C}]/u;
const hostAfterSlashes = /^https?:\/\/[^/?#]/i;

function checkAvatarUrl(raw: string, options: FieldRuleOptions): CheckedValue {
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
