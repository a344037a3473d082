// The example web client: a chat client's profile screen against the service, in the browser.
// Built by examples/web/server.ts with esbuild; see docs/transport.md "Example web client".
import {
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import {
  Audience,
  type PrivacySettings,
  type Profile,
  ProfileApi,
  type WatchProfilesResponse,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

const ui = {
  api: element<HTMLInputElement>("api"),
  transport: element<HTMLSelectElement>("transport"),
  userId: element<HTMLInputElement>("user-id"),
  getToken: element<HTMLButtonElement>("get-token"),
  token: element<HTMLTextAreaElement>("token"),
  connectionStatus: element("connection-status"),
  myName: element<HTMLInputElement>("my-name"),
  myBio: element<HTMLTextAreaElement>("my-bio"),
  myAvatar: element<HTMLInputElement>("my-avatar"),
  avatarAudience: element<HTMLSelectElement>("avatar-audience"),
  bioAudience: element<HTMLSelectElement>("bio-audience"),
  savePrivacy: element<HTMLButtonElement>("save-privacy"),
  privacyStatus: element("privacy-status"),
  privacyEtag: element("privacy-etag"),
  myEtag: element("my-etag"),
  save: element<HTMLButtonElement>("save"),
  reload: element<HTMLButtonElement>("reload"),
  myStatus: element("my-status"),
  watchIds: element<HTMLTextAreaElement>("watch-ids"),
  show: element<HTMLButtonElement>("show"),
  profiles: element<HTMLUListElement>("profiles"),
  liveStatus: element("live-status"),
  lastRequestId: element("last-request-id"),
};

/** The etag of the profile shown in the form: sent with Save, so a change made elsewhere is refused. */
let myEtag = "";
/** The form holds edits not saved yet: live updates then leave it alone. */
let editing = false;
/** Ends the running watch. */
let stopWatching = () => {};

// Settings can come in the query string: ?api=…&transport=grpc-web&user=…&ids=a,b
const query = new URLSearchParams(location.search);
ui.api.value = query.get("api") ?? `http://${location.hostname}:8080`;
ui.transport.value = query.get("transport") ?? ui.transport.value;
ui.userId.value = query.get("user") ?? "";
ui.watchIds.value = (query.get("ids") ?? "").split(",").join("\n");

/** Sends the token, and shows the x-request-id of every answer (exposed to pages by CORS). */
const withToken: Interceptor = (next) => async (request) => {
  request.header.set("authorization", `Bearer ${ui.token.value.trim()}`);
  request.header.set("x-request-id", `web-${Math.random().toString(36).slice(2, 10)}`);
  try {
    const response = await next(request);
    ui.lastRequestId.textContent = response.header.get("x-request-id") ?? "none";
    return response;
  } catch (error) {
    ui.lastRequestId.textContent = ConnectError.from(error).metadata.get("x-request-id") ?? "none";
    throw error;
  }
};

function transport(): Transport {
  const baseUrl = ui.api.value.trim().replace(/\/$/, "");
  return ui.transport.value === "grpc-web"
    ? createGrpcWebTransport({ baseUrl, interceptors: [withToken] })
    : // Reads go out as HTTP GET: the browser revalidates them with If-None-Match (304).
      createConnectTransport({ baseUrl, useHttpGet: true, interceptors: [withToken] });
}

const api = () => createClient(ProfileApi, transport());
const myUserId = () => ui.userId.value.trim().toLowerCase();

function say(target: HTMLElement, text: string, conflict = false): void {
  target.textContent = text;
  target.classList.toggle("conflict", conflict);
}

function describe(error: unknown): string {
  const failure = ConnectError.from(error);
  return `${Code[failure.code]}: ${failure.rawMessage}`;
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
  await loadMine();
});

function showMine(profile: Profile | undefined): void {
  ui.myName.value = profile?.displayName ?? "";
  ui.myBio.value = profile?.bio ?? "";
  ui.myAvatar.value = profile?.avatarUrl ?? "";
  myEtag = profile?.etag ?? "";
  ui.myEtag.textContent = profile === undefined ? "(not created yet)" : `etag ${profile.etag}`;
  editing = false;
}

/** The audiences as the page's selects name them. */
const audienceNames = new Map([
  [Audience.EVERYONE, "everyone"],
  [Audience.CONTACTS, "contacts"],
  [Audience.NOBODY, "nobody"],
]);
const audienceOf = (name: string) =>
  [...audienceNames].find(([, known]) => known === name)?.[0] ?? Audience.EVERYONE;
for (const select of [ui.avatarAudience, ui.bioAudience]) {
  for (const [value, label] of [
    ["everyone", "Everyone"],
    ["contacts", "My contacts"],
    ["nobody", "Nobody"],
  ]) {
    select.append(new Option(label, value));
  }
}
/** The etag of the audiences shown: sent with Save audiences. */
let privacyEtag = "";

function showPrivacy(settings: PrivacySettings): void {
  ui.avatarAudience.value = audienceNames.get(settings.avatarAudience) ?? "everyone";
  ui.bioAudience.value = audienceNames.get(settings.bioAudience) ?? "everyone";
  privacyEtag = settings.etag;
  ui.privacyEtag.textContent = `etag ${settings.etag}`;
}

async function loadPrivacy(): Promise<void> {
  try {
    showPrivacy(await api().getPrivacySettings({ userId: myUserId() }));
    say(ui.privacyStatus, "loaded");
  } catch (error) {
    say(ui.privacyStatus, describe(error), ConnectError.from(error).code !== Code.NotFound);
  }
}

ui.savePrivacy.addEventListener("click", async () => {
  try {
    showPrivacy(
      await api().updatePrivacySettings({
        userId: myUserId(),
        avatarAudience: audienceOf(ui.avatarAudience.value),
        bioAudience: audienceOf(ui.bioAudience.value),
        etag: privacyEtag,
      }),
    );
    say(ui.privacyStatus, "saved");
  } catch (error) {
    const conflict = ConnectError.from(error).code === Code.Aborted;
    say(ui.privacyStatus, conflict ? "Changed elsewhere: reload." : describe(error), true);
  }
});

async function loadMine(): Promise<void> {
  try {
    showMine(await api().getProfile({ userId: myUserId() }));
    say(ui.myStatus, "loaded");
    await loadPrivacy();
  } catch (error) {
    if (ConnectError.from(error).code !== Code.NotFound)
      return say(ui.myStatus, describe(error), true);
    showMine(undefined);
    say(ui.myStatus, "no profile yet: save one");
  }
}

for (const field of [ui.myName, ui.myBio]) {
  field.addEventListener("input", () => {
    editing = true;
  });
}

ui.reload.addEventListener("click", () => void loadMine());

ui.save.addEventListener("click", async () => {
  try {
    const saved = await api().updateProfile({
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
  part("meta").textContent = `${userId} · version ${version}`;
  entry.dataset.version = version;
  if (!live) return;
  entry.classList.add("changed");
  setTimeout(() => entry.classList.remove("changed"), 1500);
}

function applyLive(message: WatchProfilesResponse): void {
  const version = message.version.toString();
  const profile = message.state.case === "profile" ? message.state.value : undefined;
  render(message.userId, profile, version, !message.snapshot);
  // Your own profile follows too, unless you are editing it: Save then meets the stale etag.
  if (
    message.userId === myUserId() &&
    !editing &&
    profile !== undefined &&
    profile.etag !== myEtag
  ) {
    showMine(profile);
    say(ui.myStatus, "updated live");
  }
}

function watchedIds(): string[] {
  const ids = ui.watchIds.value.split(/[\s,]+/).filter((id) => id !== "");
  return [...new Set([myUserId(), ...ids].filter((id) => id !== ""))];
}

/** Shows the list at once (BatchGetProfiles), then keeps it live (WatchProfiles), reconnecting. */
async function showAndWatch(): Promise<void> {
  stopWatching();
  const userIds = watchedIds();
  ui.profiles.replaceChildren();
  try {
    const batch = await api().batchGetProfiles({ userIds });
    // A view that withholds a field has a tag of its own, no version.
    for (const profile of batch.profiles)
      render(
        profile.userId,
        profile,
        /^v\d+$/.test(profile.etag) ? profile.etag.slice(1) : "–",
        false,
      );
    for (const userId of batch.missingUserIds) render(userId, undefined, "0", false);
  } catch (error) {
    say(ui.liveStatus, describe(error), true);
    return;
  }
  const controller = new AbortController();
  stopWatching = () => controller.abort();
  let delayMs = 500;
  while (!controller.signal.aborted) {
    try {
      say(ui.liveStatus, `connecting (${ui.transport.value})…`);
      for await (const message of api().watchProfiles({ userIds }, { signal: controller.signal })) {
        say(ui.liveStatus, `live over ${ui.transport.value}`);
        delayMs = 500;
        applyLive(message);
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      say(ui.liveStatus, `${describe(error)}; reconnecting in ${delayMs / 1000} s`, true);
    }
    // Each new watch starts with a fresh snapshot, so nothing missed while away stays missed.
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 10_000);
  }
}

ui.show.addEventListener("click", () => void showAndWatch());
ui.transport.addEventListener("change", () => void showAndWatch());
document.body.dataset.ready = "true";
