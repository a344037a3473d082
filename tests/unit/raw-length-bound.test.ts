// Issue 10, item 1: the field rules refuse a raw value longer than any valid one before NFC, whose
// cost grows with the square of a run of combining marks. The bound must admit every valid value:
// recomputed here over this Node's Unicode. The worst inputs over the server:
// tests/bounded-work.test.ts.
import { describe, expect, it } from "vitest";
import {
  BIO_MAX_LENGTH,
  checkProfileFields,
  DISPLAY_NAME_MAX_LENGTH,
  RAW_UNITS_PER_CODE_POINT,
} from "../../src/profile/rules.js";

const rules = { allowHttpAvatarUrls: false };

/** Every code point but the surrogates, as strings. */
function* everyCodePoint(): Generator<string> {
  for (let code = 0; code <= 0x10ffff; code++) {
    if (code < 0xd800 || code > 0xdfff) yield String.fromCodePoint(code);
  }
}

describe("the raw-length bound", () => {
  it("admits the longest raw form of every valid value (recomputed over this Node's Unicode)", () => {
    // W(y): the most UTF-16 units of a code point whose canonical decomposition holds y. The
    // parts of a decomposition decompose to themselves, so W(y) is y's own length or more; only
    // the code points that decompose into others are kept (a Map entry for all 1.1 million took
    // seconds).
    const widerSources = new Map<string, number>();
    for (const char of everyCodePoint()) {
      const decomposition = char.normalize("NFD");
      if (decomposition === char) continue;
      for (const part of decomposition) {
        widerSources.set(part, Math.max(widerSources.get(part) ?? 0, char.length));
      }
    }
    const widest = (part: string) => Math.max(part.length, widerSources.get(part) ?? 0);
    // Per code point of a normalized value, the most units its raw form can hold.
    let most = 0;
    for (const char of everyCodePoint()) {
      if (char.normalize("NFC") !== char) continue;
      let units = 0;
      for (const part of char.normalize("NFD")) units += widest(part);
      most = Math.max(most, units);
    }

    expect(most).toBeLessThanOrEqual(RAW_UNITS_PER_CODE_POINT);
  });

  it.each([
    ["U+16126 decomposed (6 units per code point)", "\u{16126}"],
    ["U+1F82 decomposed (4 units per code point)", "\u1F82"],
  ])("accepts a display name and a bio of the limit made of %s", (_, char) => {
    const displayName = `A${char.repeat(DISPLAY_NAME_MAX_LENGTH - 1)}`;
    const bio = char.repeat(BIO_MAX_LENGTH);

    const checked = checkProfileFields(
      { displayName: displayName.normalize("NFD"), bio: bio.normalize("NFD") },
      rules,
    );

    expect(checked).toEqual({ ok: true, fields: { displayName, bio } });
  });
});
