// Arbitraries for the field-rule properties (tests/field-rules.property.test.ts over gRPC and
// tests/unit/field-rules.property.test.ts on the rules alone): text that breaks naive validation
// (invisible, reordering, control, unnormalized, whitespace, emoji sequences, lone surrogates, URL
// punctuation), alone and mixed together.
import fc from "fast-check";
import {
  AVATAR_URL_MAX_LENGTH,
  BIO_MAX_LENGTH,
  DISPLAY_NAME_MAX_LENGTH,
} from "../../src/profile/rules.js";

const trickyPieces = fc.constantFrom(
  // bidi overrides and isolates, zero-width and other format characters
  "\u202E",
  "\u202A",
  "\u2066",
  "\u2069",
  "\u200B",
  "\u200C",
  "\u200D",
  "\u200E",
  "\u2060",
  "\uFEFF",
  "\u{E0041}",
  // fillers, blanks, private use, noncharacters, marks and selectors that draw nothing alone
  "\u3164",
  "\u115F",
  "\u1160",
  "\uFFA0",
  "\u2800",
  "\u034F",
  "\uE000",
  "\u{F0000}",
  "\uFFFF",
  "\uFDD0",
  "\u{10FFFE}",
  "\u0301",
  "\u064B",
  "\uFE0F",
  "\u{E0100}",
  // C0, C1, separators
  "\u0000",
  "\u0001",
  "\u001F",
  "\u007F",
  "\u0085",
  "\u009F",
  "\u2028",
  "\u2029",
  // whitespace
  " ",
  "\u00A0",
  "\u3000",
  "\u2003",
  "\t",
  "\n",
  "\r",
  "\r\n",
  // unnormalized text
  "e\u0301",
  "\u0301",
  "\u212B",
  "\u1E9B\u0323",
  "\uFB01",
  // emoji sequences (ZWJ, skin tone, variation selector)
  "👩‍💻",
  "👍🏽",
  "🏳️‍🌈",
  "\u200D👩",
  // lone surrogates (sent on the wire as U+FFFD)
  "\uD800",
  "\uDC00",
  // URL parts
  "https://",
  "HTTPS://",
  "http://",
  "javascript:",
  "/",
  "//",
  "\\",
  "?",
  "#",
  "@",
  ":",
  "user:pass@",
  "%00",
  "example.com",
  "Ada",
);

const fragment = fc.oneof(
  trickyPieces,
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 8 }),
  fc.webUrl({ validSchemes: ["https", "http"], withQueryParameters: true, withFragments: true }),
);

/** Arbitrary text: a few fragments of any kind, concatenated. */
const mixedText = fc.array(fragment, { maxLength: 6 }).map((parts) => parts.join(""));

/** Text of about `around` code points, built from pieces that count differently once normalized. */
const textNearLength = (around: number, pieces: string[]) =>
  fc.string({
    unit: fc.constantFrom(...pieces),
    minLength: around - 5,
    maxLength: around + 5,
  });

/** Display names: tricky text, padded text, and text near the length limit. */
export const displayNameArb = fc.oneof(
  mixedText,
  fc
    .tuple(fc.constantFrom(" ", "\t", "\u3000", "\uFEFF", ""), mixedText, fc.constantFrom(" ", ""))
    .map(([before, text, after]) => before + text + after),
  textNearLength(DISPLAY_NAME_MAX_LENGTH, ["a", "é", "e\u0301", "👩‍💻", " ", "\u200B"]),
);

/** Bios: tricky text, text with line breaks, and text near the length limit. */
export const bioArb = fc.oneof(
  mixedText,
  fc.array(fc.oneof(mixedText, fc.constant("\n")), { maxLength: 8 }).map((parts) => parts.join("")),
  textNearLength(BIO_MAX_LENGTH, ["a", "é", "e\u0301", "\n", " ", "😀", "\r"]),
);

/** Avatar URLs: tricky text, URLs of several schemes, odd authorities, and URLs near the limit. */
export const avatarUrlArb = fc.oneof(
  mixedText,
  fc.webUrl({
    validSchemes: ["https", "http", "ftp"],
    withQueryParameters: true,
    withFragments: true,
  }),
  fc
    .tuple(
      fc.constantFrom("https://", "HTTPS://", "http://", "https:", "https:/", "javascript:", ""),
      mixedText,
    )
    .map(([scheme, rest]) => scheme + rest),
  // Well-formed URLs with one odd part: extra slashes, credentials, odd authorities or paths.
  fc
    .tuple(
      fc.constantFrom("https://", "HTTPS://", "http://"),
      fc.constantFrom("", "", "", "/", "//", "\\", "user:pass@", "@", ":"),
      fc.oneof(
        fc.webAuthority({ withIPv4: true, withIPv6: true, withPort: true, withUserInfo: true }),
        fc.constantFrom("example.com", "", "[::1]", "127.0.0.1:443", "xn--nxasmq6b.example"),
      ),
      fc.oneof(fc.webPath(), mixedText),
    )
    .map((parts) => parts.join("")),
  fc
    .integer({ min: AVATAR_URL_MAX_LENGTH - 5, max: AVATAR_URL_MAX_LENGTH + 5 })
    .map((length) => `https://example.com/${"a".repeat(length - "https://example.com/".length)}`),
);

/** Any subset of the three fields, each arbitrary. */
export const fieldsArb = fc.record(
  { displayName: displayNameArb, avatarUrl: avatarUrlArb, bio: bioArb },
  { requiredKeys: [] },
);
