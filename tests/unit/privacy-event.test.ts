// PrivacySettingsChanged both ways: the outbox row the privacy trigger writes becomes the event,
// and the event read back (another instance's subscription) gives the same domain settings,
// discoverable_by included, in either encoding.
import { describe, expect, it } from "vitest";
import type { OutboxRow } from "../../src/db/tables/outbox.js";
import {
  decodeProfileEvent,
  privacyEventFromOutboxRow,
  privacySettingsFromEvent,
} from "../../src/events/outbox/profile-events.js";
import { alice } from "./support/profiles.js";

function privacyRow(payload: OutboxRow["payload"]): OutboxRow {
  return {
    id: "1",
    event_id: "6f1c2a1e-7d1b-4a39-9c55-0d6f1f2b3c4d",
    user_id: alice,
    event_type: "privacy_changed",
    version: 4,
    changed_fields: [],
    profile: null,
    payload,
    occurred_at: new Date("2026-12-08T00:00:00Z"),
    traceparent: null,
    attempts: 0,
    next_attempt_at: new Date("2026-12-08T00:00:00Z"),
    lease_until: null,
    last_error: null,
    published_at: null,
  };
}

describe.each(["protobuf", "json"] as const)("PrivacySettingsChanged in %s", (encoding) => {
  it("carries every audience, discoverable_by too, from the outbox row to the settings", () => {
    const event = privacyEventFromOutboxRow(
      privacyRow({
        avatar_audience: "nobody",
        bio_audience: "everyone",
        discoverable_by: "contacts",
      }),
      encoding,
    );
    const decoded = decodeProfileEvent(event.type, event.contentType, event.data);
    if (!("settings" in decoded)) throw new Error("not a PrivacySettingsChanged");

    expect(privacySettingsFromEvent(decoded)).toEqual({
      userId: alice,
      avatarAudience: "nobody",
      bioAudience: "everyone",
      discoverableBy: "contacts",
      version: 4,
    });
  });

  it("reads a row written before discoverable_by existed as everyone", () => {
    const event = privacyEventFromOutboxRow(
      privacyRow({ avatar_audience: "contacts", bio_audience: "nobody" }),
      encoding,
    );
    const decoded = decodeProfileEvent(event.type, event.contentType, event.data);
    if (!("settings" in decoded)) throw new Error("not a PrivacySettingsChanged");

    expect(privacySettingsFromEvent(decoded).discoverableBy).toBe("everyone");
  });
});
