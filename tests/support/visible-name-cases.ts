// The display names and bios of issue 10, item 9 (names that render as nothing, noncharacters,
// private-use characters, bidi controls in bios), shared by the rule tests
// (tests/unit/visible-names.test.ts) and the CHECK constraint tests (tests/visible-names.test.ts).

/** Display names the rules refuse, with the reason. */
export const refusedDisplayNames: [what: string, name: string, reason: string][] = [
  ["a Hangul filler U+3164 alone", "\u3164", "FORBIDDEN_CHARACTER"],
  [
    "the Hangul choseong and jungseong fillers U+115F U+1160",
    "\u115F\u1160",
    "FORBIDDEN_CHARACTER",
  ],
  ["a halfwidth Hangul filler U+FFA0", "\uFFA0", "FORBIDDEN_CHARACTER"],
  ["a braille blank U+2800", "\u2800", "FORBIDDEN_CHARACTER"],
  ["a musical null notehead U+1D159", "\u{1D159}", "FORBIDDEN_CHARACTER"],
  ["a name padded with a Hangul filler", "Ada\u3164", "FORBIDDEN_CHARACTER"],
  ["a name padded with a braille blank", "\u2800Ada", "FORBIDDEN_CHARACTER"],
  ["a combining grapheme joiner", "A\u034FB", "FORBIDDEN_CHARACTER"],
  ["a Khmer inherent vowel U+17B4", "\u17B4", "FORBIDDEN_CHARACTER"],
  ["a soft hyphen", "Ad\u00ADa", "FORBIDDEN_CHARACTER"],
  ["the noncharacter U+FFFF", "Ada\uFFFF", "FORBIDDEN_CHARACTER"],
  ["the noncharacter U+FDD0", "Ada\uFDD0", "FORBIDDEN_CHARACTER"],
  ["the noncharacter U+1FFFE", "Ada\u{1FFFE}", "FORBIDDEN_CHARACTER"],
  ["a private-use character U+E000", "Ada\uE000", "FORBIDDEN_CHARACTER"],
  ["a private-use character U+F8FF", "\uF8FF", "FORBIDDEN_CHARACTER"],
  ["a supplementary private-use character U+F0000", "Ada\u{F0000}", "FORBIDDEN_CHARACTER"],
  ["a supplementary private-use character U+10FFFD", "Ada\u{10FFFD}", "FORBIDDEN_CHARACTER"],
  ["a tag character", "Ada\u{E0041}", "FORBIDDEN_CHARACTER"],
  ["combining marks alone", "\u0301\u0302\u0303", "INVISIBLE"],
  ["combining marks between spaces", " \u0301 \u0316 ", "INVISIBLE"],
  ["Arabic marks alone", "\u064B\u064C\u064D", "INVISIBLE"],
  ["an enclosing mark alone", "\u20DD", "INVISIBLE"],
  ["a variation selector alone", "\uFE0F", "INVISIBLE"],
];

/** Bios the rules refuse with FORBIDDEN_CHARACTER. */
export const refusedBios: [what: string, bio: string][] = [
  ["a right-to-left override", "hello \u202Eevil"],
  ["a left-to-right embedding", "\u202Ahello"],
  ["a pop directional formatting", "hello\u202C"],
  ["a right-to-left isolate", "a\u2067b\u2069"],
  ["a first strong isolate", "\u2068x"],
  ["the noncharacter U+FFFE", "hello\uFFFE"],
  ["the noncharacter U+10FFFF", "hello\u{10FFFF}"],
];

/** Display names the rules accept (stored NFC). */
export const acceptedDisplayNames: [what: string, name: string][] = [
  ["an emoji ZWJ sequence", "Ada 👩‍💻"],
  ["an emoji with a variation selector and a joiner", "🏳️‍🌈"],
  ["a name with a combining mark (normalized)", "Zoe\u0308"],
  ["Hangul syllables", "한글"],
  ["a Mongolian letter with a free variation selector", "\u1820\u180B"],
  ["a symbol with a text variation selector", "\u263A\uFE0E"],
  ["a single punctuation mark", "?"],
];

/** Bios the rules accept unchanged. */
export const acceptedBios: [what: string, bio: string][] = [
  ["right-to-left text without controls", "שלום world"],
  ["left-to-right and right-to-left marks", "a\u200Eb\u200Fc"],
  ["a private-use character (icon fonts)", "made with \uF8FF"],
];
