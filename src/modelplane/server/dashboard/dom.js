// Building the page: elements from data (text is always set as text, never parsed as HTML),
// and the formatters every view shares.

import { inProject } from "./project.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function setAttributes(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" && "checked" in el) el.checked = Boolean(value);
    else if (key === "href") el.setAttribute(key, inProject(String(value))); // links stay in the project
    else el.setAttribute(key, value === true ? "" : String(value));
  }
}

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** An HTML element: h("a", {href: "#/x"}, "text", otherNode). Strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  appendChildren(el, children);
  return el;
}

/** An SVG element, built like h(). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttributes(el, attrs);
  appendChildren(el, children);
  return el;
}

/** A link to a dashboard route; every dynamic part is URL-encoded. */
export function route(...parts) {
  return "#/" + parts.map((p) => encodeURIComponent(String(p))).join("/");
}

export function link(text, href, attrs = {}) {
  return h("a", { href, ...attrs }, text);
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function duration(start, end) {
  if (!start || !end) return "";
  const seconds = (new Date(end) - new Date(start)) / 1000;
  if (!(seconds >= 0)) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function bytes(size) {
  if (size === null || size === undefined) return "";
  let amount = Number(size);
  for (const unit of ["B", "KB", "MB", "GB"]) {
    if (amount < 1024 || unit === "GB") return unit === "B" ? `${amount} B` : `${amount.toFixed(1)} ${unit}`;
    amount /= 1024;
  }
  return String(size);
}

/** A short, readable rendering of any JSON value for a table cell. */
export function show(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}`.trim(), "data-badge": text }, text);
}

export function stageBadge(stage) {
  return badge(stage || "none", `stage-${stage || "none"}`);
}

export function statusBadge(status) {
  return badge(status, `status-${status}`);
}

export function tagList(tags, onTag) {
  return h(
    "span",
    { class: "tags" },
    (tags || []).map((tag) =>
      onTag ? h("button", { class: "tag", type: "button", onclick: () => onTag(tag) }, tag) : h("span", { class: "tag" }, tag),
    ),
  );
}

/**
 * A table. columns: [{label, cell: row => Node|string, class?}], rows: any[].
 * attrs.rowAttrs(row) adds attributes (e.g. data-testid) to each <tr>.
 */
export function table(columns, rows, { empty = "Nothing here yet.", rowAttrs, attrs = {} } = {}) {
  const head = h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.class }, c.label))));
  const body = h(
    "tbody",
    {},
    rows.length
      ? rows.map((row) =>
          h("tr", rowAttrs ? rowAttrs(row) : {}, columns.map((c) => h("td", { class: c.class }, c.cell(row)))),
        )
      : h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, empty)),
  );
  return h("table", { class: "grid", ...attrs }, head, body);
}

/** Label/value pairs as a definition list; empty values show as "—". */
export function fields(pairs, attrs = {}) {
  return h(
    "dl",
    { class: "fields", ...attrs },
    pairs.map(([label, value]) => [
      h("dt", {}, label),
      h("dd", {}, value === null || value === undefined || value === "" ? h("span", { class: "muted" }, "—") : value),
    ]),
  );
}

export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), children);
}

export function errorBox(error) {
  return h(
    "div",
    { class: "error", role: "alert", "data-testid": "error" },
    h("strong", {}, error.type || "Error"),
    " ",
    error.message || String(error),
    error.hint ? h("div", { class: "hint" }, error.hint) : null,
  );
}

/** Numeric entries of a metadata object, one level of nesting flattened ("eval.accuracy"). */
export function metrics(metadata) {
  const found = {};
  for (const [key, value] of Object.entries(metadata || {})) {
    if (typeof value === "number") found[key] = value;
    else if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [inner, nested] of Object.entries(value)) {
        if (typeof nested === "number") found[`${key}.${inner}`] = nested;
      }
    }
  }
  return found;
}
