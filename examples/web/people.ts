// The people screen: search as you type, contacts and blocks, every person on screen kept live.
import type {
  Profile,
  WatchProfilesResponse,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { keepWatching } from "./live.js";
import { fillPerson, personCard } from "./person.js";
import { listRelations } from "./relations.js";
import {
  cancelled,
  debounced,
  describe,
  element,
  graphApi,
  myUserId,
  profileApi,
  say,
} from "./session.js";

const ui = {
  search: element<HTMLInputElement>("search"),
  searchStatus: element("search-status"),
  results: element<HTMLUListElement>("results"),
  more: element<HTMLButtonElement>("more-results"),
  peopleStatus: element("people-status"),
  contacts: element<HTMLUListElement>("contacts"),
  blocks: element<HTMLUListElement>("blocks"),
  liveStatus: element("people-live-status"),
};

/** The latest view of each person on screen (`undefined`: no profile). */
const profiles = new Map<string, Profile | undefined>();
const contacts = new Set<string>();
const blocked = new Set<string>();
/** The search results shown, in rank order. */
let results: string[] = [];
/** The query the results answer, and where its next page starts ("" for none). */
let shown = { query: "", nextPageToken: "" };
/** Cancels the search in flight: each keystroke's search replaces the one before. */
let searching = new AbortController();
/** Called with each live view of the signed-in user's own profile. */
let onMine: (profile: Profile | undefined) => void = () => {};

type Action = "add-contact" | "remove-contact" | "block" | "unblock";
/** Where a person stands to you, and what can be done from there. */
type Standing = "you" | "blocked" | "contact" | "none";
const standings: Record<Standing, { label: string; offers: [Action, string][] }> = {
  you: { label: "You", offers: [] },
  blocked: { label: "Blocked", offers: [["unblock", "Unblock"]] },
  contact: {
    label: "Contact",
    offers: [
      ["remove-contact", "Remove contact"],
      ["block", "Block"],
    ],
  },
  none: {
    label: "",
    offers: [
      ["add-contact", "Add contact"],
      ["block", "Block"],
    ],
  },
};

function standingOf(userId: string): Standing {
  if (userId === myUserId()) return "you";
  if (blocked.has(userId)) return "blocked";
  return contacts.has(userId) ? "contact" : "none";
}

/** A person's standing and buttons, as they are now. */
function fillActions(card: HTMLElement): void {
  const userId = card.dataset.userId ?? "";
  const standing = standingOf(userId);
  card.dataset.relation = standing;
  (card.querySelector(".relation") as HTMLElement).textContent = standings[standing].label;
  const actions = card.querySelector(".actions") as HTMLElement;
  const buttons = standings[standing].offers;
  actions.replaceChildren(
    ...buttons.map(([action, label]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.action = action;
      button.textContent = label;
      button.addEventListener("click", () => void act(action, userId, button));
      return button;
    }),
  );
}

function cardFor(userId: string): HTMLLIElement {
  const card = personCard(userId, profiles.get(userId));
  fillActions(card);
  return card;
}

const nameOf = (userId: string) => profiles.get(userId)?.displayName || userId;
const byName = (a: string, b: string) => nameOf(a).localeCompare(nameOf(b));

function emptyNote(text: string): HTMLLIElement {
  const note = document.createElement("li");
  note.className = "empty";
  note.textContent = text;
  return note;
}

/** Draws the results, contacts and blocks again from what the page knows. */
function render(): void {
  ui.results.replaceChildren(...results.map(cardFor));
  const contactCards = [...contacts].sort(byName).map(cardFor);
  ui.contacts.replaceChildren(
    ...(contactCards.length > 0 ? contactCards : [emptyNote("None yet.")]),
  );
  const blockCards = [...blocked].sort(byName).map(cardFor);
  ui.blocks.replaceChildren(...(blockCards.length > 0 ? blockCards : [emptyNote("Nobody.")]));
  watchOnScreen();
}

const done: Record<Action, (name: string) => string> = {
  "add-contact": (name) => `${name} is in your contacts.`,
  "remove-contact": (name) => `${name} is no longer in your contacts.`,
  block: (name) => `You block ${name}.`,
  unblock: (name) => `You no longer block ${name}.`,
};

async function act(action: Action, otherUserId: string, button: HTMLButtonElement): Promise<void> {
  const request = { userId: myUserId(), otherUserId };
  button.disabled = true;
  try {
    if (action === "add-contact") await graphApi().addContact(request);
    if (action === "remove-contact") await graphApi().removeContact(request);
    if (action === "block") await graphApi().blockUser(request);
    if (action === "unblock") await graphApi().unblockUser(request);
    // A block removes the contacts between the two, both ways.
    if (action === "add-contact") contacts.add(otherUserId);
    if (action === "remove-contact" || action === "block") contacts.delete(otherUserId);
    if (action === "block") blocked.add(otherUserId);
    if (action === "unblock") blocked.delete(otherUserId);
    say(ui.peopleStatus, done[action](nameOf(otherUserId)));
    render();
  } catch (error) {
    button.disabled = false;
    say(ui.peopleStatus, describe(error), true);
  }
}

/** Loads your contacts and blocks, with their profiles. */
async function loadRelations(): Promise<void> {
  const relations = await listRelations(myUserId());
  contacts.clear();
  blocked.clear();
  for (const [userId, profile] of relations.contacts) {
    contacts.add(userId);
    profiles.set(userId, profile);
  }
  for (const [userId, profile] of relations.blocked) {
    blocked.add(userId);
    profiles.set(userId, profile);
  }
}

/** Shows the answer of a search, or of its next page (`append`). */
function showResults(query: string, found: Profile[], nextPageToken: string, append: boolean) {
  for (const profile of found) profiles.set(profile.userId, profile);
  results = [...(append ? results : []), ...found.map((profile) => profile.userId)];
  shown = { query, nextPageToken };
  ui.results.dataset.query = query;
  ui.results.setAttribute("aria-busy", "false");
  ui.more.hidden = nextPageToken === "";
  const count = results.length;
  say(
    ui.searchStatus,
    count === 0
      ? `No one found for “${query}”.`
      : `${count} ${count === 1 ? "person" : "people"} for “${query}”${nextPageToken === "" ? "." : ", more below."}`,
  );
  render();
}

/** Searches for what the box holds now, cancelling the search before it. */
async function search(pageToken = ""): Promise<void> {
  searching.abort();
  const controller = new AbortController();
  searching = controller;
  const query = pageToken === "" ? ui.search.value.trim() : shown.query;
  if (query === "" || !/[\p{L}\p{N}]/u.test(query)) {
    results = [];
    shown = { query: "", nextPageToken: "" };
    delete ui.results.dataset.query;
    ui.results.setAttribute("aria-busy", "false");
    ui.more.hidden = true;
    say(ui.searchStatus, query === "" ? "" : "Type a letter or a digit.");
    render();
    return;
  }
  ui.results.setAttribute("aria-busy", "true");
  say(ui.searchStatus, `Searching for “${query}”…`);
  try {
    const answer = await profileApi().searchProfiles(
      { query, pageToken, pageSize: 20 },
      { signal: controller.signal },
    );
    if (controller.signal.aborted) return;
    showResults(query, answer.profiles, answer.nextPageToken, pageToken !== "");
  } catch (error) {
    if (cancelled(error) || controller.signal.aborted) return;
    ui.results.setAttribute("aria-busy", "false");
    say(ui.searchStatus, describe(error), true);
  }
}

function applyLive(message: WatchProfilesResponse): void {
  const profile = message.state.case === "profile" ? message.state.value : undefined;
  profiles.set(message.userId, profile);
  const cards = document.querySelectorAll<HTMLElement>(`.person[data-user-id="${message.userId}"]`);
  for (const card of cards) {
    fillPerson(card, profile);
    if (message.snapshot) continue;
    card.classList.add("changed");
    setTimeout(() => card.classList.remove("changed"), 1500);
  }
  if (message.userId === myUserId()) onMine(profile);
}

/** The ids the running watch follows, joined; and how to stop it. */
let watching = { key: "", stop: () => {} };

/** Follows everyone on screen, and you: opened again when who is on screen changes. */
const watchOnScreen = debounced(300, () => {
  // At most WATCH_MAX_IDS (1000) per stream: the first thousand on screen.
  const ids = [...new Set([myUserId(), ...results, ...contacts, ...blocked])].slice(0, 1000);
  const key = ids.join(",");
  if (key === watching.key) return;
  watching.stop();
  watching = {
    key,
    stop: keepWatching(ids, {
      message: applyLive,
      status: (text, problem) => say(ui.liveStatus, text, problem),
    }),
  };
});

const searchSoon = debounced(200, () => void search());
ui.search.addEventListener("input", () => {
  // What is shown no longer answers what the box holds: busy until the new answer is in.
  ui.results.setAttribute("aria-busy", "true");
  searchSoon();
});
ui.more.addEventListener("click", () => void search(shown.nextPageToken));

/**
 * Starts the screen for the signed-in user: their contacts and blocks, a search if the box holds
 * one, and the live watch, which hands their own profile to `mine`.
 */
export async function startPeople(mine: (profile: Profile | undefined) => void): Promise<void> {
  onMine = mine;
  watching.stop();
  watching = { key: "", stop: () => {} };
  profiles.clear();
  results = [];
  try {
    await loadRelations();
    say(ui.peopleStatus, "");
  } catch (error) {
    say(ui.peopleStatus, describe(error), true);
  }
  render();
  if (ui.search.value.trim() !== "") await search();
}

/** Your own card, at the top of the "me" panel, kept live with the others. */
export function myCard(profile: Profile | undefined): HTMLLIElement {
  profiles.set(myUserId(), profile);
  return cardFor(myUserId());
}
