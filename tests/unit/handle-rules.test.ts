import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { canonicalizeHandle, DEFAULT_RESERVED_HANDLES } from "../../src/profile/handle.js";

const canonical = (raw: string) => {
  const result = canonicalizeHandle(raw);
  return result.ok ? result.handle : `refused: ${result.violation.reason}`;
};

describe("a handle's canonical form", () => {
  it.each([
    ["ada", "ada"],
    ["@Ada", "ada"],
    ["ADA_Lovelace_1815", "ada_lovelace_1815"],
    // Fullwidth forms fold by NFKC, the fullwidth "＠" too.
    ["＠Ａｄａ", "ada"],
    ["ａｄａ１", "ada1"],
    // Ligatures fold: "ﬁ" is "fi".
    ["ﬁona", "fiona"],
    // The Kelvin sign is a "K", lower-cased to "k".
    ["\u212Aate", "kate"],
  ])("%j is %j", (raw, expected) => {
    expect(canonical(raw)).toBe(expected);
  });

  it.each([
    ["", "REQUIRED"],
    ["@", "REQUIRED"],
    ["@@ada", "INVALID_CHARACTER"],
    ["ab", "TOO_SHORT"],
    ["a".repeat(33), "TOO_LONG"],
    // Longer than 64 UTF-16 units is refused before NFKC runs at all.
    ["a".repeat(65), "TOO_LONG"],
    ["1ada", "MUST_START_WITH_LETTER"],
    ["_ada", "MUST_START_WITH_LETTER"],
    ["ada.l", "INVALID_CHARACTER"],
    ["ada lovelace", "INVALID_CHARACTER"],
    ["ada-l", "INVALID_CHARACTER"],
    // Look-alikes from other scripts: Cyrillic "а" (U+0430), Greek "ο" (U+03BF).
    ["\u0430da", "INVALID_CHARACTER"],
    ["b\u03BFb", "INVALID_CHARACTER"],
    ["josé", "INVALID_CHARACTER"],
    ["ada\u200B", "INVALID_CHARACTER"],
    ["ada\uD800", "INVALID_UNICODE"],
  ])("%j is refused: %s", (raw, reason) => {
    expect(canonical(raw)).toBe(`refused: ${reason}`);
  });

  it("accepts exactly 3 and 32 characters", () => {
    expect(canonical("abc")).toBe("abc");
    expect(canonical(`a${"b".repeat(31)}`)).toBe(`a${"b".repeat(31)}`);
  });

  const handleCharacter = fc.constantFrom(
    ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ａＺ９＿ﬁ\u212A\u0430\u03BF@é ".split(
      "",
    ),
  );
  const anyText = fc.oneof(
    fc.string({ unit: handleCharacter, maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: 40 }),
  );

  it("always gives a form that matches the rule, and canonicalizing it again changes nothing", () => {
    fc.assert(
      fc.property(anyText, (raw) => {
        const result = canonicalizeHandle(raw);
        if (!result.ok) return;
        expect(result.handle).toMatch(/^[a-z][a-z0-9_]{2,31}$/);
        expect(canonicalizeHandle(result.handle)).toEqual(result);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives "@" and upper-case variants of a valid handle the same form', () => {
    const valid = fc.stringMatching(/^[a-z][a-z0-9_]{2,31}$/);
    fc.assert(
      fc.property(
        valid,
        fc.boolean(),
        fc.array(fc.boolean(), { maxLength: 32 }),
        (handle, at, upper) => {
          const variant = [...handle]
            .map((character, index) => (upper[index] ? character.toUpperCase() : character))
            .join("");
          expect(canonical(`${at ? "@" : ""}${variant}`)).toBe(handle);
        },
      ),
    );
  });
});

describe("HANDLE_RESERVED", () => {
  it("is the default list unless set, each entry a valid handle", () => {
    const reserved = loadConfig({}).handles.reserved;
    expect([...reserved].sort()).toEqual([...DEFAULT_RESERVED_HANDLES].sort());
    expect(reserved.has("admin")).toBe(true);
    for (const handle of reserved) expect(canonical(handle)).toBe(handle);
  });

  it("replaces the default list, each entry canonicalized", () => {
    const reserved = loadConfig({ HANDLE_RESERVED: " @Boss , ＣＥＯ,," }).handles.reserved;
    expect([...reserved]).toEqual(["boss", "ceo"]);
  });

  it("refuses an entry that is no handle, named", () => {
    expect(() => loadConfig({ HANDLE_RESERVED: "boss,x" })).toThrow(
      /HANDLE_RESERVED: "x" is no handle/,
    );
  });

  it("reads the cooldown and hold in seconds, 24 hours and 14 days by default", () => {
    expect(loadConfig({}).handles).toMatchObject({
      claimCooldownMs: 86_400_000,
      releaseHoldMs: 1_209_600_000,
    });
    expect(
      loadConfig({ HANDLE_CLAIM_COOLDOWN_SECONDS: "60", HANDLE_RELEASE_HOLD_SECONDS: "120" })
        .handles,
    ).toMatchObject({ claimCooldownMs: 60_000, releaseHoldMs: 120_000 });
  });
});
