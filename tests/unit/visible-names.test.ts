// Issue 10, item 9, against the field rules alone: names that render as nothing (Hangul fillers,
// the braille blank, combining marks alone), noncharacters and private-use characters in display
// names, and bidi controls in bios, are refused. Through the server and the CHECK constraints:
// tests/visible-names.test.ts.
import { describe, expect, it } from "vitest";
import { type CheckedFields, checkProfileFields } from "../../src/profile/rules.js";
import {
  acceptedBios,
  acceptedDisplayNames,
  refusedBios,
  refusedDisplayNames,
} from "../support/visible-name-cases.js";

const rules = { allowHttpAvatarUrls: false };

/** "field: REASON" for each violation, or the accepted fields. */
function outcome(checked: CheckedFields): string[] | CheckedFields {
  return checked.ok ? checked : checked.violations.map((v) => `${v.field}: ${v.reason}`);
}

describe("the display name rules", () => {
  it.each(refusedDisplayNames)("refuse a display name of %s", (_, displayName, reason) => {
    expect(outcome(checkProfileFields({ displayName }, rules))).toEqual([
      `display_name: ${reason}`,
    ]);
  });

  it.each(acceptedDisplayNames)("accept a display name of %s, NFC-normalized", (_, displayName) => {
    expect(outcome(checkProfileFields({ displayName }, rules))).toEqual({
      ok: true,
      fields: { displayName: displayName.normalize("NFC") },
    });
  });
});

describe("the bio rules", () => {
  it.each(refusedBios)("refuse a bio with %s as FORBIDDEN_CHARACTER", (_, bio) => {
    expect(outcome(checkProfileFields({ bio }, rules))).toEqual(["bio: FORBIDDEN_CHARACTER"]);
  });

  it.each(acceptedBios)("accept a bio with %s unchanged", (_, bio) => {
    expect(outcome(checkProfileFields({ bio }, rules))).toEqual({ ok: true, fields: { bio } });
  });
});
