// Your handle: claim, change or release it (SetHandle), with CheckHandle's hint while you type.
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  HandleUnavailableReason,
  type Profile,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { cancelled, debounced, describe, element, myUserId, profileApi, say } from "./session.js";

const ui = {
  current: element("my-handle"),
  input: element<HTMLInputElement>("handle-input"),
  hint: element("handle-hint"),
  claim: element<HTMLButtonElement>("claim-handle"),
  release: element<HTMLButtonElement>("release-handle"),
  status: element("handle-status"),
};

const rules = "3 to 32 letters a–z, digits or _, starting with a letter";
/** The handle you hold now ("" for none). */
let mine = "";
/** Cancels the check in flight: each keystroke's check replaces the one before. */
let checking = new AbortController();
/** Told of the profile SetHandle returns. */
let saved: (profile: Profile) => void = () => {};

/** Shows the handle of your profile. */
export function showHandle(profile: Profile | undefined): void {
  mine = profile?.handle ?? "";
  ui.current.textContent = mine === "" ? "no handle yet" : `@${mine}`;
  ui.release.disabled = mine === "";
  ui.claim.textContent = mine === "" ? "Claim" : "Change";
}

function hint(text: string, state: "checking" | "available" | "yours" | "taken" | "invalid") {
  ui.hint.textContent = text;
  ui.hint.dataset.state = state;
  ui.hint.classList.toggle("conflict", state === "taken" || state === "invalid");
}

async function check(): Promise<void> {
  checking.abort();
  const controller = new AbortController();
  checking = controller;
  const typed = ui.input.value.trim();
  if (typed === "" || typed === "@") {
    ui.hint.textContent = "";
    delete ui.hint.dataset.state;
    return;
  }
  hint("checking…", "checking");
  try {
    const answer = await profileApi().checkHandle({ handle: typed }, { signal: controller.signal });
    if (controller.signal.aborted) return;
    if (answer.available && answer.handle === mine) hint(`@${answer.handle} is yours`, "yours");
    else if (answer.available) hint(`@${answer.handle} is available`, "available");
    else if (answer.reason === HandleUnavailableReason.TAKEN)
      hint(`@${answer.handle} is taken`, "taken");
    else hint(`Not a handle: ${rules}`, "invalid");
  } catch (error) {
    if (cancelled(error) || controller.signal.aborted) return;
    ui.hint.textContent = describe(error);
    ui.hint.dataset.state = "error";
  }
}

/** "in 23 h 59 min", from now to `at`. */
function fromNow(at: Date): string {
  const minutes = Math.max(1, Math.ceil((at.getTime() - Date.now()) / 60_000));
  const hours = Math.floor(minutes / 60);
  return hours === 0 ? `in ${minutes} min` : `in ${hours} h ${minutes % 60} min`;
}

/** What SetHandle's refusal means to the person who asked. */
function refusal(error: unknown, handle: string): string {
  const failure = ConnectError.from(error);
  switch (failure.code) {
    case Code.AlreadyExists:
      return `@${handle.replace(/^@/, "")} is taken: try another.`;
    case Code.InvalidArgument: {
      const [violation] = failure.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations);
      return `Not a handle (${rules})${violation === undefined ? "" : `: ${violation.description}`}.`;
    }
    case Code.FailedPrecondition: {
      const [retry] = failure.findDetails(RetryInfoSchema);
      const seconds = Number(retry?.retryDelay?.seconds ?? 0n);
      if (seconds <= 0) return describe(error);
      const at = new Date(Date.now() + seconds * 1000);
      ui.status.dataset.retryAt = at.toISOString();
      return `You claimed a handle less than a day ago: try again at ${at.toLocaleString()} (${fromNow(at)}).`;
    }
    case Code.NotFound:
      return "Save your profile first: a handle belongs to a profile.";
    default:
      return describe(error);
  }
}

async function setHandle(handle: string): Promise<void> {
  delete ui.status.dataset.retryAt;
  try {
    const profile = await profileApi().setHandle({ userId: myUserId(), handle });
    saved(profile);
    say(
      ui.status,
      profile.handle === "" ? "Handle released." : `Your handle is @${profile.handle}.`,
    );
    ui.status.dataset.outcome = "ok";
    if (profile.handle !== "") ui.input.value = "";
    ui.hint.textContent = "";
  } catch (error) {
    say(ui.status, refusal(error, handle), true);
    ui.status.dataset.outcome = Code[ConnectError.from(error).code];
  }
}

/** Wires the panel; `onSaved` gets the profile each effective SetHandle returns. */
export function initHandle(onSaved: (profile: Profile) => void): void {
  saved = onSaved;
  ui.input.addEventListener(
    "input",
    debounced(250, () => void check()),
  );
  ui.claim.addEventListener("click", () => {
    const typed = ui.input.value.trim();
    // An empty box would release the handle: that is the other button.
    if (typed === "") return say(ui.status, "Type the handle you want first.", true);
    void setHandle(typed);
  });
  ui.release.addEventListener("click", () => void setHandle(""));
}
