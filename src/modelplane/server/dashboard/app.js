// The dashboard shell: hash routes → views, the login page, and who is signed in.
// Views are async functions (ctx) → Node; ctx = {args, query, rerender, navigate}.

import { ApiError, signIn, signOut, singleSignOn, singleSignOnAddress, whoami } from "./api.js";
import { adminPage } from "./admin.js";
import { artifactPage, artifactsPage, artifactVersionPage } from "./artifacts.js";
import { comparePage } from "./compare.js";
import { errorBox, h } from "./dom.js";
import { modelPage, modelsPage } from "./models.js";
import { runPage, runsPage } from "./runs.js";
import { versionPage } from "./version.js";

const ROUTES = [
  [/^\/models\/([^/]+)\/versions\/([^/]+)$/, versionPage, "models"],
  [/^\/models\/([^/]+)\/compare$/, comparePage, "models"],
  [/^\/models\/([^/]+)$/, modelPage, "models"],
  [/^\/(?:models)?$/, modelsPage, "models"],
  [/^\/runs\/([^/]+)$/, runPage, "runs"],
  [/^\/runs$/, runsPage, "runs"],
  [/^\/admin$/, adminPage, "admin"],
  [/^\/artifacts\/([^/]+)\/([^/]+)$/, artifactVersionPage, "artifacts"],
  [/^\/artifacts\/([^/]+)$/, artifactPage, "artifacts"],
  [/^\/artifacts$/, artifactsPage, "artifacts"],
];

let renderCount = 0;
let owner = null;
let role = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/models";
  const [path, query] = raw.split("?");
  return { path, query: new URLSearchParams(query || "") };
}

function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function showSession() {
  const box = document.getElementById("session");
  document.querySelector("[data-nav=admin]").hidden = owner === null || role !== "admin";
  if (owner === null) {
    box.replaceChildren();
    return;
  }
  const logout = h("button", { type: "button", class: "link", "data-testid": "logout", onclick: logOut }, "Log out");
  box.replaceChildren(owner ? h("span", { "data-testid": "owner" }, `Signed in as ${owner}`) : "", " ", logout);
}

async function logOut() {
  try {
    await signOut();
  } finally {
    owner = null;
    role = null;
    navigate("#/login");
  }
}

/** "Sign in with single sign-on" when the server has it (the provider's page, then back here). */
async function singleSignOnPanel(next) {
  const sso = await singleSignOn();
  if (sso === null) return null;
  const where = sso.issuer ? new URL(sso.issuer).host : "your identity provider";
  return h(
    "div",
    { class: "sso", "data-testid": "sso" },
    h("a", { class: "button primary", href: singleSignOnAddress(next), "data-testid": "sso-sign-in" }, "Sign in with single sign-on"),
    h("p", { class: "muted" }, `Through ${where}.`),
  );
}

async function loginPage(ctx) {
  const input = h("input", {
    type: "password",
    name: "token",
    autocomplete: "current-password",
    placeholder: "mp_…",
    required: true,
    "data-testid": "login-token",
  });
  const message = h("div", { class: "login-message" });
  const submit = async (event) => {
    event.preventDefault();
    const secret = input.value.trim();
    message.replaceChildren();
    try {
      const who = await signIn(secret);
      owner = `${who.owner} (${who.role})`;
      role = who.role;
      navigate(next);
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  };
  const next = ctx.query.get("next") || "#/models";
  const refused = ctx.query.get("error"); // a sign-in the server refused, sent back here
  return h(
    "form",
    { class: "login panel", onsubmit: submit, "data-testid": "login-form", "data-next": next },
    h("h1", {}, "Log in"),
    refused ? errorBox({ type: "Not signed in", message: refused }) : null,
    await singleSignOnPanel(next),
    h("p", { class: "muted" }, "Paste an API token. Admins create them with ", h("code", {}, "modelplane token create OWNER"), "."),
    h("label", {}, "API token", input),
    h("button", { type: "submit", class: "primary", "data-testid": "login-submit" }, "Log in"),
    message,
  );
}

async function render() {
  const mine = ++renderCount;
  const main = document.getElementById("main");
  const { path, query } = parseHash();
  if (owner === null && path !== "/login") {
    try {
      const who = await whoami(); // a session cookie from an earlier sign-in, this tab or another
      owner = `${who.owner} (${who.role})`;
      role = who.role;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return expired();
      if (mine === renderCount) main.replaceChildren(errorBox(error));
      return;
    }
  }
  if (path === "/login") {
    showSession();
    const form = await loginPage({ query });
    if (mine !== renderCount) return;
    // A login form already on screen (a sign-out, then a link followed) may hold what the user
    // began to type while this one was built: keep it.
    const typed = main.querySelector("[data-testid=login-token]")?.value;
    if (typed) form.querySelector("[data-testid=login-token]").value = typed;
    main.replaceChildren(form);
    main.querySelector("input")?.focus();
    return;
  }
  showSession();
  const match = ROUTES.map(([pattern, view, nav]) => [path.match(pattern), view, nav]).find(([m]) => m);
  if (!match) {
    main.replaceChildren(errorBox({ type: "NotFound", message: `There is no page ${path}.` }));
    return;
  }
  const [found, view, nav] = match;
  for (const anchor of document.querySelectorAll("[data-nav]")) anchor.classList.toggle("active", anchor.dataset.nav === nav);
  main.setAttribute("aria-busy", "true");
  const ctx = { args: found.slice(1).map(decodeURIComponent), query, rerender: render, navigate };
  try {
    const node = await view(ctx);
    if (mine === renderCount) main.replaceChildren(node);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return expired();
    if (mine === renderCount) main.replaceChildren(errorBox(error));
  } finally {
    if (mine === renderCount) main.removeAttribute("aria-busy");
  }
}

function expired() {
  owner = null;
  role = null;
  location.replace(`#/login?next=${encodeURIComponent(location.hash)}`);
}

// Module scripts run once the document is parsed, so the first render can start right away.
window.addEventListener("hashchange", render);
render();
