// How text is folded for search, the same way for what is stored and for what is typed: so that
// "jose" finds "José", "MÜLLER" finds "Müller", and "o'brien" finds "O’Brien".

/** Letters and digits of any script: what a word is made of. */
const NOT_A_WORD_CHARACTER = /[^\p{L}\p{N}]+/u;
const COMBINING_MARK = /\p{M}/gu;
/** Latin letters that NFKD leaves whole, as people type them without the stroke or ligature. */
const PLAIN_LATIN: Readonly<Record<string, string>> = {
  ø: "o",
  ł: "l",
  đ: "d",
  ð: "d",
  ħ: "h",
  ı: "i",
  ß: "ss",
  æ: "ae",
  œ: "oe",
  þ: "th",
};
const UNPLAIN_LATIN = new RegExp(`[${Object.keys(PLAIN_LATIN).join("")}]`, "gu");

/**
 * The words of `text`, folded: compatibility-decomposed (NFKD, so that "ﬁ" is "fi" and "Ａ" is
 * "A"), without combining marks (accents), lower-cased, with the few Latin letters that do not
 * decompose spelled plainly ("ø" is "o", "ß" is "ss"), and recomposed (NFC); split on anything but
 * letters and digits. Marks that are letters in their script (Devanagari vowel signs, for
 * instance) are removed as well: both sides of a search lose them alike.
 *
 * @example searchWords("José  García-Márquez") // ["jose", "garcia", "marquez"]
 */
export function searchWords(text: string): string[] {
  return text
    .normalize("NFKD")
    .replace(COMBINING_MARK, "")
    .toLowerCase()
    .replace(UNPLAIN_LATIN, (letter) => PLAIN_LATIN[letter] ?? letter)
    .normalize("NFC")
    .split(NOT_A_WORD_CHARACTER)
    .filter((word) => word !== "");
}

/**
 * What `profiles.search_name` holds for a display name: its folded words, one space apart (a
 * database trigger indexes each word).
 */
export function searchNameOf(displayName: string): string {
  return searchWords(displayName).join(" ");
}
