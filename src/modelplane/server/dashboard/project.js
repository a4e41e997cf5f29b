// The project the dashboard acts in. The address names it (#/p/NAME/models …; no /p/NAME: the
// project "default", as a request without the header is), every API call sends it in the
// X-Modelplane-Project header (api.js), every link a view makes carries it (dom.js), and the last
// one used is remembered in localStorage for the next visit to the bare dashboard address.

export const DEFAULT_PROJECT = "default";
const KEY = "modelplane.project";
const PREFIX = /^\/p\/([^/?]+)(.*)$/;

let current = DEFAULT_PROJECT;

/** The project API calls act in now. */
export function currentProject() {
  return current;
}

export function useProject(name) {
  current = name;
}

/** The project a hash names and the route after it: "#/p/vision/runs?x=1" → {project: "vision",
 *  rest: "/runs?x=1"}; "#/runs" → {project: "default", rest: "/runs"}. */
export function splitHash(hash) {
  const raw = hash.replace(/^#/, "");
  const found = raw.match(PREFIX);
  if (!found) return { project: DEFAULT_PROJECT, rest: raw };
  let project;
  try {
    project = decodeURIComponent(found[1]);
  } catch {
    project = found[1];
  }
  return { project, rest: found[2] || "/models" };
}

/** The hash of route `rest` ("/models?q=x") in `project` (no prefix for default). */
export function hashIn(project, rest) {
  const route = rest.startsWith("/") ? rest : `/${rest}`;
  return project === DEFAULT_PROJECT ? `#${route}` : `#/p/${encodeURIComponent(project)}${route}`;
}

/** A dashboard link made on a page of the current project ("#/models/x") in that project; one
 *  that names its project already, the login page and anything else are left as they are. */
export function inProject(href) {
  if (typeof href !== "string" || !href.startsWith("#/") || href.startsWith("#/p/") || href.startsWith("#/login")) {
    return href;
  }
  return hashIn(current, href.slice(1));
}

/** The project used last in this browser (default when none, or storage is off). */
export function remembered() {
  try {
    return localStorage.getItem(KEY) || DEFAULT_PROJECT;
  } catch {
    return DEFAULT_PROJECT;
  }
}

/** Remember `name` for the next visit; nothing is stored while it is default. */
export function remember(name) {
  try {
    if (name === remembered()) return;
    if (name === DEFAULT_PROJECT) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, name);
  } catch {
    // storage off (a private window's settings): the address still names the project
  }
}
