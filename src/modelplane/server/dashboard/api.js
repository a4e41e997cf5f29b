// The dashboard's only way to data: the server's public /api/v1. Signing in (with an API token, or
// through single sign-on, which the server finishes itself) ends in a session cookie (HttpOnly,
// SameSite=Strict) that the browser sends by itself: no script here ever holds a secret, and a deep
// link opened in a new tab is signed in too. Every call acts in the dashboard's project (project.js).

import { currentProject } from "./project.js";

const PROJECT_HEADER = "X-Modelplane-Project";

export class ApiError extends Error {
  constructor(status, type, message, hint) {
    super(message);
    this.status = status;
    this.type = type;
    this.hint = hint;
  }
}

/** One URL path segment: reserved characters and dots encoded, as the server expects. */
export function enc(value) {
  return encodeURIComponent(String(value)).replace(/\./g, "%2E");
}

function url(path, query) {
  const target = new URL(`api/v1${path}`, document.baseURI);
  for (const [key, value] of Object.entries(query || {})) {
    // A list is the parameter repeated, as the server reads list arguments.
    if (Array.isArray(value)) value.forEach((item) => target.searchParams.append(key, String(item)));
    else if (value !== null && value !== undefined && value !== "") target.searchParams.set(key, String(value));
  }
  return target;
}

async function send(path, { method = "GET", query, body } = {}) {
  const headers = { Accept: "application/json", [PROJECT_HEADER]: currentProject() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch (error) {
    throw new ApiError(0, "ConnectionError", `The server cannot be reached (${error.message}).`, "Is it running?");
  }
  return response;
}

async function failure(response) {
  let detail = {};
  try {
    detail = (await response.json()).error || {};
  } catch {
    detail = {};
  }
  return new ApiError(response.status, detail.type || `HTTP ${response.status}`, detail.message || response.statusText, detail.hint);
}

/** JSON from the API (null for 204); an ApiError carrying the server's error type otherwise. */
export async function api(path, options = {}) {
  const response = await send(path, options);
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

let described = null;

/** The store's description (GET /info), asked once per page load. Its `single_holder_stages` are
 *  the stages one version of a model holds at a time: the dashboard takes them from the server. */
export function storeInfo() {
  described ||= api("/info").catch((error) => {
    described = null;
    throw error;
  });
  return described;
}

/** Save a file the API serves, under its own name. */
export async function download(path, filename) {
  const response = await send(path);
  if (!response.ok) throw await failure(response);
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const anchor = document.createElement("a");
  anchor.href = href;
  anchor.download = filename;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}

/** A file the API serves, as a Blob (images are shown from it: an <img> cannot send the token). */
export async function blob(path) {
  const response = await send(path);
  if (!response.ok) throw await failure(response);
  return response.blob();
}

/** Who is signed in (the session's owner, role and roles in each project), or an ApiError 401
 *  (403: no role in the current project). */
export async function whoami() {
  return api("/me");
}

/** Sign in with an API token: the server answers with the session (and sets its cookie). */
export async function signIn(secret) {
  return api("/session", { method: "POST", body: { token: secret } });
}

/** Single sign-on as the server offers it ({issuer, …}), or null when it has none. */
export async function singleSignOn() {
  try {
    return await api("/sso");
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    return { issuer: null, error }; // on, but the provider cannot be reached now
  }
}

/** The address that starts a sign-in at the identity provider, back to `next` afterwards. */
export function singleSignOnAddress(next) {
  return url("/sso/login", { next }).href;
}

/** End the session on the server (its cookie stops working everywhere). */
export async function signOut() {
  return api("/session", { method: "DELETE" });
}

/** Every item of a paged listing, up to `max`. */
export async function all(path, query = {}, max = 1000) {
  const items = [];
  for (let offset = 0; offset < max; ) {
    const page = await api(path, { query: { ...query, limit: Math.min(1000, max - offset), offset } });
    items.push(...page.items);
    offset += page.items.length;
    if (!page.items.length || offset >= page.total) break;
  }
  return items;
}
