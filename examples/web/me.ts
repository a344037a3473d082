// The "me" panel: your profile, your audiences and who finds you (etags kept), and your card.
import { Code, ConnectError } from "@connectrpc/connect";
import {
  Audience,
  type PrivacySettings,
  type Profile,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { showHandle } from "./handle.js";
import { myCard } from "./people.js";
import { describe, element, myUserId, profileApi, say } from "./session.js";

const ui = {
  myCard: element<HTMLUListElement>("me-card"),
  myName: element<HTMLInputElement>("my-name"),
  myBio: element<HTMLTextAreaElement>("my-bio"),
  myAvatar: element<HTMLInputElement>("my-avatar"),
  myEtag: element("my-etag"),
  save: element<HTMLButtonElement>("save"),
  reload: element<HTMLButtonElement>("reload"),
  myStatus: element("my-status"),
  avatarAudience: element<HTMLSelectElement>("avatar-audience"),
  bioAudience: element<HTMLSelectElement>("bio-audience"),
  discoverableBy: element<HTMLSelectElement>("discoverable-by"),
  savePrivacy: element<HTMLButtonElement>("save-privacy"),
  privacyStatus: element("privacy-status"),
  privacyEtag: element("privacy-etag"),
};

/** The etag of the profile shown in the form: sent with Save, so a change made elsewhere is refused. */
let myEtag = "";
/** The form holds edits not saved yet: live updates then leave it alone. */
let editing = false;
/** The etag of the settings shown: sent with Save, so a change made elsewhere is refused. */
let privacyEtag = "";

/** Shows your profile everywhere the panel has it: the form, your card, your handle. */
export function showMine(profile: Profile | undefined): void {
  ui.myName.value = profile?.displayName ?? "";
  ui.myBio.value = profile?.bio ?? "";
  ui.myAvatar.value = profile?.avatarUrl ?? "";
  myEtag = profile?.etag ?? "";
  ui.myEtag.textContent = profile === undefined ? "(not created yet)" : `etag ${profile.etag}`;
  ui.myCard.replaceChildren(myCard(profile));
  showHandle(profile);
  editing = false;
}

/** A live view of your own profile: taken unless you are editing (Save then meets the stale etag). */
export function followMine(profile: Profile | undefined): void {
  if (editing || profile === undefined || profile.etag === myEtag) return;
  showMine(profile);
  say(ui.myStatus, "updated live");
}

/** The audiences as the page's selects name them. */
const audienceNames = new Map([
  [Audience.EVERYONE, "everyone"],
  [Audience.CONTACTS, "contacts"],
  [Audience.NOBODY, "nobody"],
]);
const audienceOf = (name: string) =>
  [...audienceNames].find(([, known]) => known === name)?.[0] ?? Audience.EVERYONE;
for (const select of [ui.avatarAudience, ui.bioAudience, ui.discoverableBy]) {
  for (const [value, label] of [
    ["everyone", "Everyone"],
    ["contacts", "My contacts"],
    ["nobody", "Nobody"],
  ]) {
    select.append(new Option(label, value));
  }
}

function showPrivacy(settings: PrivacySettings): void {
  ui.avatarAudience.value = audienceNames.get(settings.avatarAudience) ?? "everyone";
  ui.bioAudience.value = audienceNames.get(settings.bioAudience) ?? "everyone";
  ui.discoverableBy.value = audienceNames.get(settings.discoverableBy) ?? "everyone";
  privacyEtag = settings.etag;
  ui.privacyEtag.textContent = `etag ${settings.etag}`;
}

async function loadPrivacy(): Promise<void> {
  try {
    showPrivacy(await profileApi().getPrivacySettings({ userId: myUserId() }));
    say(ui.privacyStatus, "loaded");
  } catch (error) {
    say(ui.privacyStatus, describe(error), ConnectError.from(error).code !== Code.NotFound);
  }
}

ui.savePrivacy.addEventListener("click", async () => {
  try {
    showPrivacy(
      await profileApi().updatePrivacySettings({
        userId: myUserId(),
        avatarAudience: audienceOf(ui.avatarAudience.value),
        bioAudience: audienceOf(ui.bioAudience.value),
        discoverableBy: audienceOf(ui.discoverableBy.value),
        etag: privacyEtag,
      }),
    );
    say(ui.privacyStatus, "saved");
  } catch (error) {
    const conflict = ConnectError.from(error).code === Code.Aborted;
    say(ui.privacyStatus, conflict ? "Changed elsewhere: reload." : describe(error), true);
  }
});

/** Loads your profile and your settings into the panel. */
export async function loadMine(): Promise<void> {
  try {
    showMine(await profileApi().getProfile({ userId: myUserId() }));
    say(ui.myStatus, "loaded");
    await loadPrivacy();
  } catch (error) {
    if (ConnectError.from(error).code !== Code.NotFound)
      return say(ui.myStatus, describe(error), true);
    showMine(undefined);
    say(ui.myStatus, "no profile yet: save one");
  }
}

for (const field of [ui.myName, ui.myBio, ui.myAvatar]) {
  field.addEventListener("input", () => {
    editing = true;
  });
}

ui.reload.addEventListener("click", () => void loadMine());

ui.save.addEventListener("click", async () => {
  try {
    const saved = await profileApi().updateProfile({
      userId: myUserId(),
      displayName: ui.myName.value,
      avatarUrl: ui.myAvatar.value.trim(),
      bio: ui.myBio.value,
      etag: myEtag,
    });
    showMine(saved);
    say(ui.myStatus, "saved");
    await loadPrivacy();
  } catch (error) {
    if (ConnectError.from(error).code === Code.Aborted) {
      say(ui.myStatus, "Changed elsewhere: reload, then apply your edit again.", true);
    } else {
      say(ui.myStatus, describe(error), true);
    }
  }
});
