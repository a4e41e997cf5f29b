// The dashboard shell: hash routes → views, the login page, who is signed in, and the project
// switcher. Views are async functions (ctx) → Node; ctx = {args, query, rerender, navigate}.
// A route may be prefixed with its project (#/p/vision/models, see project.js).

import { ApiError, api, signIn, signOut, singleSignOn, singleSignOnAddress, whoami } from "./api.js";
import { adminPage } from "./admin.js";
import { artifactPage, artifactsPage, artifactVersionPage } from "./artifacts.js";
import { comparePage } from "./compare.js";
import { errorBox, h } from "./dom.js";
import { modelPage, modelsPage } from "./models.js";
import { runPage, runsPage } from "./runs.js";
import { DEFAULT_PROJECT, hashIn, inProject, remember, remembered, splitHash, useProject } from "./project.js";
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

// The list pages: switching projects on one of them shows the same list in the other project.
const LISTS = new Set(["/", "/models", "/runs", "/artifacts", "/admin"]);

let renderCount = 0;
let owner = null;
let role = null;
let projects = null; // the names of the projects the signed-in user may use, as the server listed them
let project = null; // the project `owner`, `role` and `projects` were read in
let switched = false; // the next render follows a choice in the switcher

function parseHash() {
  const { project: named, rest } = splitHash(location.hash);
  const [path, query] = rest.split("?");
  return { project: named, path: path || "/models", query: new URLSearchParams(query || "") };
}

/** Go to `hash` as it is (it names its project, or is default's). */
function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

/** Go to a route of the current project ("#/models/x", as views make them). */
function navigate(hash) {
  go(inProject(hash));
}

function forget() {
  owner = null;
  role = null;
  projects = null;
  project = null;
}

function fallback(listed) {
  return listed.includes(DEFAULT_PROJECT) ? DEFAULT_PROJECT : (listed[0] ?? null);
}

/** Who is signed in and where, read in `wanted` when they may use it (else in the project to
 *  show instead: default when listed, else the first). Sets the header's project as it goes. */
async function signedIn(wanted) {
  let listed = null;
  try {
    listed = (await api("/projects")).map((p) => p.name);
  } catch (error) {
    // 403: no role in default, where the list is kept (a token bound to another project); the
    // projects are then those /me names.
    if (!(error instanceof ApiError && error.status === 403)) throw error;
  }
  let chosen = listed === null || listed.includes(wanted) ? wanted : fallback(listed);
  if (chosen === null) {
    throw new ApiError(403, "PermissionDeniedError", "You are a member of no project on this server.", "Ask an admin to add you to one (modelplane project add-member PROJECT USER ROLE).");
  }
  useProject(chosen);
  let who;
  try {
    who = await whoami();
  } catch (error) {
    const before = remembered();
    if (!(listed === null && error instanceof ApiError && error.status === 403 && before !== chosen)) throw error;
    chosen = before; // the project used last in this browser, e.g. the one a bound token signed in to
    useProject(chosen);
    who = await whoami();
  }
  const roles = who.roles || {};
  listed ??= who.project ? [who.project] : Object.keys(roles).filter((name) => name !== "*");
  if (!listed.includes(chosen)) listed = [chosen, ...listed];
  const here = roles[chosen] || roles["*"] || who.role;
  return { project: chosen, projects: listed, owner: `${who.owner} (${here})`, role: here };
}

/** Show the same page in `name` (a list page's filters kept, not its page number). */
function switchTo(name) {
  const { path, query } = parseHash();
  query.delete("page");
  const rest = query.toString() ? `${path}?${query}` : path;
  remember(name);
  switched = true;
  go(hashIn(name, rest));
}

function showProject() {
  const box = document.getElementById("project");
  const brand = document.querySelector(".brand");
  const here = project ?? DEFAULT_PROJECT;
  brand.setAttribute("href", hashIn(here, "/models"));
  for (const anchor of document.querySelectorAll("[data-nav]")) anchor.setAttribute("href", hashIn(here, `/${anchor.dataset.nav}`));
  if (owner === null || projects === null) {
    box.replaceChildren();
    delete box.dataset.project;
    document.title = "modelplane";
    return;
  }
  document.title = `${project} · modelplane`;
  box.dataset.project = project;
  const select = h(
    "select",
    {
      "data-testid": "project-select",
      "aria-label": "Project",
      disabled: projects.length < 2,
      title: projects.length < 2 ? "The only project you can use here" : "Switch project",
      onchange: () => switchTo(select.value),
    },
    projects.map((name) => h("option", { value: name, selected: name === project }, name)),
  );
  box.replaceChildren(h("label", { class: "project-switcher" }, h("span", {}, "Project"), select));
}

function showSession() {
  const box = document.getElementById("session");
  document.querySelector("[data-nav=admin]").hidden = owner === null || role !== "admin";
  showProject();
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
    forget();
    go("#/login");
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
      forget(); // read again, in the project `next` names
      if (who.project) remember(who.project); // a token bound to one project signs in to it
      go(next);
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  };
  const next = ctx.query.get("next") || hashIn(remembered(), "/models");
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
  const afterSwitch = switched;
  switched = false;
  const main = document.getElementById("main");
  if (!location.hash.replace(/^#\/?/, "")) {
    // The bare address: the project used last here. Replacing the hash renders again.
    location.replace(hashIn(remembered(), "/models"));
    return;
  }
  const { project: wanted, path, query } = parseHash();
  if (path === "/login") {
    showSession();
    const form = await loginPage({ query });
    if (mine !== renderCount) return;
    // A login form already on screen (a sign-out, then a link followed) may hold what the user
    // began to type while this one was built: keep it.
    const typed = main.querySelector("[data-testid=login-token]")?.value;
    if (typed) form.querySelector("[data-testid=login-token]").value = typed;
    main.replaceChildren(form);
    main.removeAttribute("aria-busy"); // left busy by the page that sent here
    main.querySelector("input")?.focus();
    return;
  }
  // Busy from the start (a switch reads who may do what there first), until the page is drawn:
  // a page left for another (a redirect) stays busy until that one is drawn.
  main.setAttribute("aria-busy", "true");
  const left = await draw(mine, main, wanted, path, query, afterSwitch);
  if (!left && mine === renderCount) main.removeAttribute("aria-busy");
}

/** Draw `path` of project `wanted` into `main`; true when it went to another page instead. */
async function draw(mine, main, wanted, path, query, afterSwitch) {
  if (owner === null || project !== wanted) {
    try {
      // a session cookie from an earlier sign-in, this tab or another; read again in each project
      const found = await signedIn(wanted);
      if (mine !== renderCount) return false;
      ({ owner, role, projects, project } = found);
      if (project !== wanted) {
        // Not a project of theirs (or no longer): the same list, or the models, in one that is.
        location.replace(hashIn(project, LISTS.has(path) ? path : "/models"));
        return true;
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return expired();
      if (mine === renderCount) main.replaceChildren(errorBox(error));
      return false;
    }
  }
  useProject(project);
  remember(project);
  showSession();
  const match = ROUTES.map(([pattern, view, nav]) => [path.match(pattern), view, nav]).find(([m]) => m);
  if (!match) {
    main.replaceChildren(errorBox({ type: "NotFound", message: `There is no page ${path}.` }));
    return false;
  }
  const [found, view, nav] = match;
  for (const anchor of document.querySelectorAll("[data-nav]")) anchor.classList.toggle("active", anchor.dataset.nav === nav);
  const ctx = { args: found.slice(1).map(decodeURIComponent), query, rerender: render, navigate };
  try {
    const node = await view(ctx);
    if (mine === renderCount) main.replaceChildren(node);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return expired();
    // Just switched on a page of something the new project does not have: its models instead.
    if (afterSwitch && error instanceof ApiError && error.status === 404 && mine === renderCount) {
      location.replace(hashIn(project, "/models"));
      return true;
    }
    if (mine === renderCount) main.replaceChildren(errorBox(error));
  }
  return false;
}

function expired() {
  forget();
  location.replace(`#/login?next=${encodeURIComponent(location.hash)}`);
  return true;
}

// Module scripts run once the document is parsed, so the first render can start right away.
window.addEventListener("hashchange", render);
render();
