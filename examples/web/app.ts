// The example web client: a chat client's people screen against the service, in the browser.
// Built by examples/web/server.ts with esbuild; see docs/transport.md "Example web client".
// session.ts: connection and clients; me.ts and handle.ts: the "me" panel; people.ts,
// relations.ts and person.ts: search, contacts and blocks; live.ts: WatchProfiles kept open.
import type {
  Profile,
  WatchProfilesResponse,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { initHandle } from "./handle.js";
import { keepWatching } from "./live.js";
import { followMine, loadMine, showMine } from "./me.js";
import { startPeople } from "./people.js";
import { describe, element, myUserId, presetWatchIds, profileApi, say } from "./session.js";

const ui = {
  userId: element<HTMLInputElement>("user-id"),
  getToken: element<HTMLButtonElement>("get-token"),
  token: element<HTMLTextAreaElement>("token"),
  connectionStatus: element("connection-status"),
  connection: element<HTMLDetailsElement>("connection"),
  transport: element<HTMLSelectElement>("transport"),
  watchIds: element<HTMLTextAreaElement>("watch-ids"),
  show: element<HTMLButtonElement>("show"),
  profiles: element<HTMLUListElement>("profiles"),
  liveStatus: element("live-status"),
};

ui.watchIds.value = presetWatchIds.join("\n");
initHandle(showMine);

/** Your profile, then the people screen around you. */
async function signIn(): Promise<void> {
  await loadMine();
  await startPeople(followMine);
}

ui.getToken.addEventListener("click", async () => {
  if (myUserId() === "") ui.userId.value = crypto.randomUUID();
  const answer = await fetch("/dev-token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId: myUserId() }),
  });
  const body = (await answer.json()) as { token?: string; error?: string };
  if (body.token === undefined) {
    say(ui.connectionStatus, `no development token: ${body.error ?? answer.status}`, true);
    return;
  }
  ui.token.value = body.token;
  say(ui.connectionStatus, `token for ${myUserId()}`);
  // Signed in: the screen is about people now; the settings fold away.
  ui.connection.open = false;
  await signIn();
});
ui.token.addEventListener("change", () => void signIn());

// "Profiles by id": any profiles by user id, shown at once (BatchGetProfiles) and kept live.

/** The list's entry for a user, created on first use. */
function entryOf(userId: string): HTMLLIElement {
  const existing = ui.profiles.querySelector<HTMLLIElement>(`li[data-user-id="${userId}"]`);
  if (existing !== null) return existing;
  const entry = document.createElement("li");
  entry.dataset.userId = userId;
  for (const part of ["name", "avatar", "bio", "meta"]) {
    const child = document.createElement("div");
    child.className = part;
    entry.append(child);
  }
  ui.profiles.append(entry);
  return entry;
}

function render(
  userId: string,
  profile: Profile | undefined,
  version: string,
  live: boolean,
): void {
  const entry = entryOf(userId);
  const part = (name: string) => entry.querySelector(`.${name}`) as HTMLElement;
  entry.classList.toggle("missing", profile === undefined);
  part("name").textContent =
    profile === undefined ? "(no profile)" : profile.displayName || "(no name yet)";
  // A field the owner withholds from you is shown as hidden, not as empty.
  const shown = (name: "avatar" | "bio", field: string, value: string, label: string) => {
    const hidden = profile?.hiddenFields.includes(field) === true;
    part(name).textContent = hidden ? `${label} hidden` : value;
    part(name).classList.toggle("hidden", hidden);
  };
  shown("avatar", "avatar_url", profile?.avatarUrl ?? "", "avatar");
  shown("bio", "bio", profile?.bio ?? "", "bio");
  const handle = profile?.handle ? ` · @${profile.handle}` : "";
  part("meta").textContent = `${userId}${handle} · version ${version}`;
  entry.dataset.version = version;
  if (!live) return;
  entry.classList.add("changed");
  setTimeout(() => entry.classList.remove("changed"), 1500);
}

function applyLive(message: WatchProfilesResponse): void {
  const profile = message.state.case === "profile" ? message.state.value : undefined;
  render(message.userId, profile, message.version.toString(), !message.snapshot);
  if (message.userId === myUserId()) followMine(profile);
}

function watchedIds(): string[] {
  const ids = ui.watchIds.value.split(/[\s,]+/).filter((id) => id !== "");
  return [...new Set([myUserId(), ...ids].filter((id) => id !== ""))];
}

/** Ends the list's running watch. */
let stopWatching = () => {};

/** Shows the list at once (BatchGetProfiles), then keeps it live (WatchProfiles). */
async function showAndWatch(): Promise<void> {
  stopWatching();
  const userIds = watchedIds();
  ui.profiles.replaceChildren();
  try {
    const batch = await profileApi().batchGetProfiles({ userIds });
    // A view that withholds a field has a tag of its own, no version.
    for (const profile of batch.profiles) {
      const version = /^v\d+$/.test(profile.etag) ? profile.etag.slice(1) : "–";
      render(profile.userId, profile, version, false);
    }
    for (const userId of batch.missingUserIds) render(userId, undefined, "0", false);
  } catch (error) {
    say(ui.liveStatus, describe(error), true);
    return;
  }
  stopWatching = keepWatching(userIds, {
    message: applyLive,
    status: (text, problem) => say(ui.liveStatus, text, problem),
  });
}

ui.show.addEventListener("click", () => void showAndWatch());
ui.transport.addEventListener("change", () => {
  void showAndWatch();
  if (myUserId() !== "" && ui.token.value.trim() !== "") void startPeople(followMine);
});
document.body.dataset.ready = "true";
