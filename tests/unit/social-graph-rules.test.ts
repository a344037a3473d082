// The social graph's rules that need no database: page tokens, nicknames and reasons.
import { describe, expect, it } from "vitest";
import { InvalidGraphRequest } from "../../src/graph/errors.js";
import { createPageTokens } from "../../src/graph/page-token.js";
import { checkNickname, checkReason } from "../../src/graph/rules.js";
import { parseUserId, type UserId } from "../../src/profile/user-id.js";

const id = (raw: string): UserId => {
  const userId = parseUserId(raw);
  if (userId === undefined) throw new Error(`not a UUID: ${raw}`);
  return userId;
};
const owner = id("0b7c3f5e-8f2a-4c1d-9e6b-2a4d5f6e7c8b");
const other = id("9a4f7a52-1a43-4f3e-8c7e-41e4c2d3b0aa");
const last = id("ffffffff-0000-4000-8000-000000000001");

describe("page tokens", () => {
  const tokens = createPageTokens("unit key");

  it("round-trips the last key for the same list and owner", () => {
    expect(tokens.decode("contacts", owner, tokens.encode("contacts", owner, last))).toBe(last);
  });

  it("refuses a token of another owner, another list or another key", () => {
    const token = tokens.encode("contacts", owner, last);

    expect(tokens.decode("contacts", other, token)).toBeUndefined();
    expect(tokens.decode("blocks", owner, token)).toBeUndefined();
    expect(createPageTokens("other key").decode("contacts", owner, token)).toBeUndefined();
  });

  it("refuses every single-character change, truncation, extension and non-base64url text", () => {
    const token = tokens.encode("contacts", owner, last);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (let index = 0; index < token.length; index += 1) {
      const changed = alphabet.replace(token[index] ?? "", "")[index % 63] ?? "A";
      const altered = `${token.slice(0, index)}${changed}${token.slice(index + 1)}`;
      expect(tokens.decode("contacts", owner, altered)).toBeUndefined();
    }
    for (const broken of [token.slice(0, -1), `${token}A`, "", "not a token", `${token}=`]) {
      expect(tokens.decode("contacts", owner, broken)).toBeUndefined();
    }
  });
});

describe("nicknames follow the display-name rules", () => {
  it('allows "" (no nickname) and normalizes like a display name', () => {
    expect(checkNickname("")).toBe("");
    expect(checkNickname("  Be\u0301 ")).toBe("Bé");
    expect(checkNickname("👩\u200D💻")).toBe("👩\u200D💻");
  });

  it.each([
    ["only spaces", "   "],
    ["a bidi override", "evil\u202Ename"],
    ["a zero-width space", "a\u200Bb"],
    ["a Hangul filler", "\u3164"],
    ["65 characters", "x".repeat(65)],
  ])("refuses %s, naming nickname", (_, nickname) => {
    let error: unknown;
    try {
      checkNickname(nickname);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidGraphRequest);
    expect((error as InvalidGraphRequest).violations[0]?.field).toBe("nickname");
  });

  it("refuses a block reason that breaks the bio rules, naming reason", () => {
    expect(checkReason("spam\nand more")).toBe("spam\nand more");
    expect(() => checkReason("r".repeat(501))).toThrow(/reason/);
    expect(() => checkReason("\u202Eevil")).toThrow(/reason/);
  });
});
