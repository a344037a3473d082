// What every part of the page shares: its elements, who is signed in, the clients, messages.
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { ProfileApi } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { SocialGraphApi } from "../../gen/realchat/profile/v1/social_graph_api_pb.js";

/** The page's element of `id`; a missing one is a bug of index.html. */
export function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

const connection = {
  api: element<HTMLInputElement>("api"),
  transport: element<HTMLSelectElement>("transport"),
  userId: element<HTMLInputElement>("user-id"),
  token: element<HTMLTextAreaElement>("token"),
  lastRequestId: element("last-request-id"),
};

// Settings can come in the query string: ?api=…&transport=grpc-web&user=…&ids=a,b
const query = new URLSearchParams(location.search);
connection.api.value = query.get("api") ?? `http://${location.hostname}:8080`;
connection.transport.value = query.get("transport") ?? connection.transport.value;
connection.userId.value = query.get("user") ?? "";

/** The query string's `ids`, the profiles to list at start. */
export const presetWatchIds = (query.get("ids") ?? "").split(",").filter((id) => id !== "");

/** The signed-in user's id, as the service writes it. */
export const myUserId = () => connection.userId.value.trim().toLowerCase();

/** "connect" or "grpc-web", as chosen on the page. */
export const transportName = () => connection.transport.value;

/** Sends the token, and shows the x-request-id of every answer (exposed to pages by CORS). */
const withToken: Interceptor = (next) => async (request) => {
  request.header.set("authorization", `Bearer ${connection.token.value.trim()}`);
  request.header.set("x-request-id", `web-${Math.random().toString(36).slice(2, 10)}`);
  try {
    const response = await next(request);
    connection.lastRequestId.textContent = response.header.get("x-request-id") ?? "none";
    return response;
  } catch (error) {
    const id = ConnectError.from(error).metadata.get("x-request-id");
    connection.lastRequestId.textContent = id ?? "none";
    throw error;
  }
};

function transport(): Transport {
  const baseUrl = connection.api.value.trim().replace(/\/$/, "");
  return connection.transport.value === "grpc-web"
    ? createGrpcWebTransport({ baseUrl, interceptors: [withToken] })
    : // Reads go out as HTTP GET: the browser revalidates them with If-None-Match (304).
      createConnectTransport({ baseUrl, useHttpGet: true, interceptors: [withToken] });
}

/** ProfileApi over the transport chosen now. */
export const profileApi = (): Client<typeof ProfileApi> => createClient(ProfileApi, transport());

/** SocialGraphApi over the transport chosen now. */
export const graphApi = (): Client<typeof SocialGraphApi> =>
  createClient(SocialGraphApi, transport());

/** Shows `text` in a status line; `problem` marks it as something that went wrong. */
export function say(target: HTMLElement, text: string, problem = false): void {
  target.textContent = text;
  target.classList.toggle("conflict", problem);
}

/** An error as "Code: message", for status lines. */
export function describe(error: unknown): string {
  const failure = ConnectError.from(error);
  return `${Code[failure.code]}: ${failure.rawMessage}`;
}

/** Whether the call failed because the page cancelled it (a newer one replaced it). */
export const cancelled = (error: unknown) => ConnectError.from(error).code === Code.Canceled;

/** Runs `work` `delayMs` after the last call, so that typing sends one request, not one per key. */
export function debounced(delayMs: number, work: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(work, delayMs);
  };
}
