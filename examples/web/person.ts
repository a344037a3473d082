// One person as the people screen shows them: avatar (or initials), name, @handle, hidden fields.
import type { Profile } from "../../gen/realchat/profile/v1/profile_api_pb.js";

/** Up to two letters for an avatar without a picture: "José Núñez" is "JN". */
export function initialsOf(name: string, handle: string): string {
  const words = name
    .trim()
    .split(/\s+/)
    .filter((word) => word !== "");
  const letters = words.length > 0 ? words.slice(0, 2).map((word) => [...word][0]) : [...handle];
  return letters.slice(0, 2).join("").toUpperCase() || "?";
}

/** A steady color per user, so that initials tell people apart. */
function hueOf(userId: string): number {
  let hash = 0;
  for (const char of userId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % 360;
}

function initialsAvatar(userId: string, profile: Profile | undefined): HTMLElement {
  const avatar = document.createElement("span");
  avatar.className = "avatar initials";
  avatar.setAttribute("aria-hidden", "true");
  avatar.style.setProperty("--hue", String(hueOf(userId)));
  avatar.textContent = initialsOf(profile?.displayName ?? "", profile?.handle ?? "");
  return avatar;
}

function avatarOf(userId: string, profile: Profile | undefined): HTMLElement {
  const url = profile?.avatarUrl ?? "";
  if (url === "") return initialsAvatar(userId, profile);
  const image = document.createElement("img");
  image.className = "avatar";
  // The name stands beside it: the picture adds nothing for a screen reader.
  image.alt = "";
  image.src = url;
  image.addEventListener("error", () => {
    image.replaceWith(initialsAvatar(userId, profile));
  });
  return image;
}

/** What the viewer is not shown, as the owner chose: "avatar hidden · bio hidden". */
function hintsOf(profile: Profile): string {
  const hints: string[] = [];
  if (profile.hiddenFields.includes("avatar_url")) hints.push("avatar hidden");
  if (profile.hiddenFields.includes("bio")) hints.push("bio hidden");
  return hints.join(" · ");
}

function part(card: HTMLElement, name: string): HTMLElement {
  const found = card.querySelector<HTMLElement>(`:scope .${name}`);
  if (found === null) throw new Error(`a person card without .${name}`);
  return found;
}

/** Shows `profile` in `card` (one made by personCard); `undefined`: the profile is gone. */
export function fillPerson(card: HTMLElement, profile: Profile | undefined): void {
  const userId = card.dataset.userId ?? "";
  const avatarKey = `${profile?.avatarUrl ?? ""}|${profile?.displayName ?? ""}`;
  if (card.dataset.avatarKey !== avatarKey) {
    part(card, "avatar").replaceWith(avatarOf(userId, profile));
    card.dataset.avatarKey = avatarKey;
  }
  card.classList.toggle("missing", profile === undefined);
  part(card, "name").textContent =
    profile === undefined ? "(no profile)" : profile.displayName || "(no name yet)";
  const handle = part(card, "handle");
  handle.textContent = profile?.handle ? `@${profile.handle}` : "";
  part(card, "hints").textContent = profile === undefined ? "" : hintsOf(profile);
  part(card, "bio").textContent = profile?.bio ?? "";
  part(card, "actions").setAttribute(
    "aria-label",
    `Actions for ${profile?.displayName || profile?.handle || userId}`,
  );
}

/** A list entry for a person, with an empty `.actions` group for the caller's buttons. */
export function personCard(userId: string, profile: Profile | undefined): HTMLLIElement {
  const card = document.createElement("li");
  card.className = "person";
  card.dataset.userId = userId;
  const who = document.createElement("div");
  who.className = "who";
  for (const name of ["name", "handle", "hints", "bio"]) {
    const line = document.createElement("span");
    line.className = name;
    who.append(line);
  }
  const relation = document.createElement("span");
  relation.className = "relation";
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.setAttribute("role", "group");
  const avatar = document.createElement("span");
  avatar.className = "avatar";
  card.append(avatar, who, relation, actions);
  fillPerson(card, profile);
  return card;
}
