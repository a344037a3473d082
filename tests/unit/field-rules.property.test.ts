// checkProfileFields as a pure function, over arbitrary text. The same text through the server
// and the database: tests/field-rules.property.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AVATAR_URL_MAX_LENGTH,
  BIO_MAX_LENGTH,
  checkProfileFields,
  DISPLAY_NAME_MAX_LENGTH,
  type FieldRuleOptions,
} from "../../src/profile/rules.js";
import { avatarUrlArb, bioArb, displayNameArb, fieldsArb } from "../support/field-arbitraries.js";

// The rules the service runs with by default: no http:// avatars.
const rules: FieldRuleOptions = { allowHttpAvatarUrls: false };
const pureRuns = 500;

const codePoints = (text: string) => [...text].length;

describe("checkProfileFields", () => {
  it("checking an accepted result again accepts it unchanged (idempotent)", () => {
    fc.assert(
      fc.property(fieldsArb, (fields) => {
        const first = checkProfileFields(fields, rules);
        fc.pre(first.ok);
        if (!first.ok) return;

        const second = checkProfileFields(first.fields, rules);

        expect(second).toEqual(first);
      }),
      { numRuns: pureRuns },
    );
  });

  it("an accepted display name is trimmed, NFC, 1 to 64 code points, free of invisible characters and shows something", () => {
    fc.assert(
      fc.property(displayNameArb, (displayName) => {
        const checked = checkProfileFields({ displayName }, rules);
        fc.pre(checked.ok);
        if (!checked.ok) return;

        const value = checked.fields.displayName ?? "";

        expect(value).toBe(value.trim());
        expect(value).toBe(value.normalize("NFC"));
        expect(codePoints(value)).toBeGreaterThanOrEqual(1);
        expect(codePoints(value)).toBeLessThanOrEqual(DISPLAY_NAME_MAX_LENGTH);
        expect(value).not.toMatch(
          /[\p{Cc}\p{Co}\p{Noncharacter_Code_Point}\u200B\u200C\u200E\u200F\u202A-\u202E\u2060-\u2069\uFEFF\u115F\u1160\u3164\uFFA0\u2800]/u,
        );
        expect(value).toMatch(/[\p{L}\p{N}\p{P}\p{S}]/u);
        expect(value).toBe(displayName.normalize("NFC").trim());
      }),
      { numRuns: pureRuns },
    );
  });

  it("an accepted bio is NFC, at most 500 code points and has no control character but \\n, no bidi override or isolate and no noncharacter", () => {
    fc.assert(
      fc.property(bioArb, (bio) => {
        const checked = checkProfileFields({ bio }, rules);
        fc.pre(checked.ok);
        if (!checked.ok) return;

        const value = checked.fields.bio ?? "";

        expect(value).toBe(value.normalize("NFC"));
        expect(codePoints(value)).toBeLessThanOrEqual(BIO_MAX_LENGTH);
        expect(value.replaceAll("\n", "")).not.toMatch(/\p{Cc}/u);
        expect(value).not.toMatch(/[\u202A-\u202E\u2066-\u2069\p{Noncharacter_Code_Point}]/u);
        expect(value).toBe(bio.normalize("NFC"));
      }),
      { numRuns: pureRuns },
    );
  });

  it("an accepted avatar URL is empty or an https URL with a host of at most 2048 code points", () => {
    fc.assert(
      fc.property(avatarUrlArb, (avatarUrl) => {
        const checked = checkProfileFields({ avatarUrl }, rules);
        fc.pre(checked.ok);
        if (!checked.ok) return;

        const value = checked.fields.avatarUrl ?? "";

        expect(value).toBe(avatarUrl);
        if (value !== "") {
          expect(value).toMatch(/^https:\/\//i);
          expect(codePoints(value)).toBeLessThanOrEqual(AVATAR_URL_MAX_LENGTH);
          expect(URL.parse(value)?.hostname).toBeTruthy();
          expect(value).not.toMatch(/[\s\p{C}]/u);
        }
      }),
      { numRuns: pureRuns },
    );
  });

  it("a refusal names only fields that were present, and absent fields stay absent when accepted", () => {
    fc.assert(
      fc.property(fieldsArb, (fields) => {
        const checked = checkProfileFields(fields, rules);

        const present = new Set(
          Object.entries({
            display_name: fields.displayName,
            avatar_url: fields.avatarUrl,
            bio: fields.bio,
          })
            .filter(([, value]) => value !== undefined)
            .map(([field]) => field),
        );
        if (checked.ok) {
          if (fields.displayName === undefined) expect(checked.fields.displayName).toBeUndefined();
          if (fields.avatarUrl === undefined) expect(checked.fields.avatarUrl).toBeUndefined();
          if (fields.bio === undefined) expect(checked.fields.bio).toBeUndefined();
        } else {
          expect(checked.violations.length).toBeGreaterThan(0);
          for (const violation of checked.violations) {
            expect(present).toContain(violation.field);
            expect(violation.reason).toMatch(/^[A-Z][A-Z_]*$/);
          }
        }
      }),
      { numRuns: pureRuns },
    );
  });
});
