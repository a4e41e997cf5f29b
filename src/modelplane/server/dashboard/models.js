// The models list (search, tags, latest version, stage holders) and one model's page
// (card, gates, the versions table sorted, filtered and paged by the store, stage history).

import { all, api, enc, storeInfo } from "./api.js";
import { trendSection } from "./charts.js";
import { fields, h, link, metrics, route, section, show, stageBadge, table, tagList, when } from "./dom.js";

const PAGE_SIZE = 50;

async function holder(model, stage) {
  const page = await api(`/models/${enc(model)}/versions`, { query: { stage, limit: 1 } });
  return page.items[0] || null;
}

function holderCell(model, version) {
  return version ? link(`v${version.number}`, route("models", model, "versions", version.number)) : h("span", { class: "muted" }, "—");
}

export async function modelsPage(ctx) {
  const q = ctx.query.get("q") || "";
  const tag = ctx.query.get("tag") || "";
  const page = Math.max(1, Number(ctx.query.get("page")) || 1);
  const [listing, info] = await Promise.all([
    api("/models", { query: { name: q, tag, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } }),
    storeInfo(),
  ]);
  const stages = info.single_holder_stages;
  const holders = await Promise.all(listing.items.map((m) => Promise.all(stages.map((stage) => holder(m.name, stage)))));
  const rows = listing.items.map((model, i) => ({ model, holders: holders[i] }));

  const go = (changes) => {
    const next = new URLSearchParams({ q, tag, page: "1", ...changes });
    for (const [key, value] of [...next.entries()]) if (!value || (key === "page" && value === "1")) next.delete(key);
    ctx.navigate(`#/models${next.toString() ? `?${next}` : ""}`);
  };
  const search = h("input", { type: "search", placeholder: "Search models by name", value: q, "data-testid": "model-search" });
  const form = h(
    "form",
    { class: "toolbar", onsubmit: (e) => (e.preventDefault(), go({ q: search.value.trim() })) },
    search,
    h("button", { type: "submit" }, "Search"),
    tag ? h("span", { class: "filter" }, "tag: ", h("span", { class: "tag" }, tag), " ", h("button", { type: "button", class: "link", onclick: () => go({ tag: "" }) }, "clear")) : null,
  );
  const columns = [
    { label: "Model", cell: (r) => link(r.model.name, route("models", r.model.name), { "data-testid": "model-link" }) },
    { label: "Tags", cell: (r) => tagList(r.model.tags, (t) => go({ tag: t })) },
    { label: "Versions", class: "num", cell: (r) => String(r.model.version_count) },
    { label: "Latest", cell: (r) => (r.model.latest_version_number ? link(`v${r.model.latest_version_number}`, route("models", r.model.name, "versions", r.model.latest_version_number)) : "") },
    ...stages.map((stage, j) => ({ label: stage[0].toUpperCase() + stage.slice(1), cell: (r) => holderCell(r.model.name, r.holders[j]) })),
    { label: "Updated", cell: (r) => when(r.model.updated) },
  ];
  const pager = h(
    "div",
    { class: "pager" },
    page > 1 ? h("button", { type: "button", onclick: () => go({ page: String(page - 1) }) }, "← Previous") : null,
    h("span", { class: "muted" }, `${listing.total} model${listing.total === 1 ? "" : "s"}`),
    page * PAGE_SIZE < listing.total ? h("button", { type: "button", onclick: () => go({ page: String(page + 1) }) }, "Next →") : null,
  );
  return h(
    "div",
    {},
    h("h1", {}, "Models"),
    form,
    table(columns, rows, {
      empty: q || tag ? "No models match." : "No models yet: run a pipeline with model=Model(name=…).",
      rowAttrs: (r) => ({ "data-testid": "model-row", "data-model": r.model.name }),
      attrs: { "data-testid": "models-table" },
    }),
    pager,
  );
}

const CARD = [
  ["License", "license"],
  ["Description", "description"],
  ["Audience", "audience"],
  ["Use cases", "use_cases"],
  ["Limitations", "limitations"],
  ["Trade-offs", "trade_offs"],
  ["Ethics", "ethics"],
];

/** Up to `max` metric names, the ones most versions have first. */
export function keyMetrics(versions, max = 4) {
  const counts = new Map();
  for (const v of versions) for (const key of Object.keys(metrics(v.metadata))) counts.set(key, (counts.get(key) || 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, max).map(([k]) => k);
}

export function historyTable(changes, model) {
  const columns = [
    { label: "When", cell: (c) => when(c.created) },
    { label: "Version", cell: (c) => (c.model_version_id ? link(`v${c.version_number}`, route("models", model, "versions", c.version_number)) : `v${c.version_number} (deleted)`) },
    { label: "From", cell: (c) => stageBadge(c.from_stage) },
    { label: "To", cell: (c) => stageBadge(c.to_stage) },
    { label: "Kind", cell: (c) => (c.kind === "refused" ? "refused by the gates" : c.kind || "move") },
    { label: "By", cell: (c) => c.actor || "" },
    { label: "Reason", cell: (c) => c.reason || "" },
  ];
  return table(columns, changes, {
    empty: "No stage changes yet.",
    rowAttrs: (c) => ({ "data-testid": "history-row", "data-version": c.version_number, "data-to": c.to_stage, "data-kind": c.kind || "move" }),
    attrs: { "data-testid": "history-table" },
  });
}

const VERSION_PAGE = 50;
const SORTABLE = { "#": "number", Name: "name", Created: "created" };

/** The versions table: sorted, filtered and paged by the store (any number of versions), with
 *  the metadata columns the user picks (kept in the URL, so a link shows the same table). */
function versionsSection(ctx, name, versions, view) {
  const { sort, q, stage, page, cols } = view;
  const go = (changes) => {
    const next = new URLSearchParams({ vsort: sort, vq: q, vstage: stage, vpage: String(page), vcols: cols.join(","), ...changes });
    for (const [key, value] of [...next.entries()]) {
      if (!value || (key === "vpage" && value === "1") || (key === "vsort" && value === "-number")) next.delete(key);
    }
    ctx.navigate(`${route("models", name)}${next.toString() ? `?${next}` : ""}`);
  };
  const selected = new Set();
  const compare = h("button", { type: "button", class: "primary", disabled: true, "data-testid": "compare-button" }, "Compare selected");
  compare.addEventListener("click", () => ctx.navigate(`${route("models", name, "compare")}?versions=${[...selected].sort((a, b) => a - b).join(",")}`));
  const pick = (number) => (event) => {
    if (event.target.checked) selected.add(number);
    else selected.delete(number);
    compare.disabled = selected.size < 2;
  };
  const header = (label) => {
    const field = SORTABLE[label];
    if (!field) return label;
    const active = sort.replace(/^-/, "") === field;
    const descending = active && sort.startsWith("-");
    const next = active && !descending ? `-${field}` : field;
    const arrow = active ? (descending ? " ↓" : " ↑") : "";
    return h("button", { type: "button", class: "link sort", onclick: () => go({ vsort: next, vpage: "1" }), "data-testid": `sort-${field}` }, label + arrow);
  };
  const columns = [
    { label: "", class: "select", cell: (v) => h("input", { type: "checkbox", "aria-label": `Select version ${v.number}`, "data-testid": `select-${v.number}`, onchange: pick(v.number) }) },
    { label: header("#"), class: "num", cell: (v) => link(String(v.number), route("models", name, "versions", v.number), { "data-testid": "version-link" }) },
    { label: header("Name"), cell: (v) => v.name },
    { label: "Stage", cell: (v) => stageBadge(v.stage) },
    { label: header("Created"), cell: (v) => when(v.created) },
    ...cols.map((key) => ({ label: key, class: "num", cell: (v) => show(flatMetadata(v.metadata)[key]) })),
  ];
  const search = h("input", { type: "search", placeholder: "Filter by version name", value: q, "data-testid": "version-filter" });
  const stages = h(
    "select",
    { "data-testid": "version-stage-filter", onchange: (e) => go({ vstage: e.target.value, vpage: "1" }) },
    ["", "production", "staging", "archived", "none", "latest"].map((s) => h("option", { value: s, selected: s === stage }, s ? `stage: ${s}` : "any stage")),
  );
  const toolbar = h(
    "form",
    { class: "toolbar", onsubmit: (e) => (e.preventDefault(), go({ vq: search.value.trim(), vpage: "1" })) },
    search,
    h("button", { type: "submit" }, "Filter"),
    stages,
    columnChooser(versions.items, cols, (chosen) => go({ vcols: chosen.join(",") })),
  );
  const first = versions.total ? versions.offset + 1 : 0;
  const last = versions.offset + versions.items.length;
  const pager = h(
    "div",
    { class: "pager", "data-testid": "versions-pager" },
    page > 1 ? h("button", { type: "button", onclick: () => go({ vpage: String(page - 1) }), "data-testid": "versions-previous" }, "← Previous") : null,
    h("span", { class: "muted", "data-testid": "versions-range" }, `${first}–${last} of ${versions.total}`),
    last < versions.total ? h("button", { type: "button", onclick: () => go({ vpage: String(page + 1) }), "data-testid": "versions-next" }, "Next →") : null,
  );
  return section(
    `Versions (${versions.total})`,
    toolbar,
    table(columns, versions.items, {
      empty: q || stage ? "No versions match." : "No versions yet.",
      rowAttrs: (v) => ({ "data-testid": "version-row", "data-number": v.number, "data-stage": v.stage }),
      attrs: { "data-testid": "versions-table" },
    }),
    pager,
    h("div", { class: "actions" }, compare, h("span", { class: "muted" }, " Tick two or more versions to compare them.")),
  );
}

/** Metadata one level deep, as compare shows it: {"eval": {"f1": 1}} → {"eval.f1": 1}. */
function flatMetadata(metadata) {
  const flat = {};
  for (const [key, value] of Object.entries(metadata || {})) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [sub, item] of Object.entries(value)) flat[`${key}.${sub}`] = item;
    } else flat[key] = value;
  }
  return flat;
}

function columnChooser(versions, chosen, apply) {
  const keys = [...new Set([...chosen, ...versions.flatMap((v) => Object.keys(flatMetadata(v.metadata)))])].sort();
  if (!keys.length) return null;
  const boxes = keys.map((key) => h("label", { class: "choice" }, h("input", { type: "checkbox", value: key, checked: chosen.includes(key), "data-testid": `column-${key}` }), ` ${key}`));
  const done = h("button", { type: "button", "data-testid": "columns-apply", onclick: () => apply(boxes.map((b) => b.firstChild).filter((c) => c.checked).map((c) => c.value)) }, "Show");
  return h("details", { class: "columns", "data-testid": "column-chooser" }, h("summary", {}, "Columns"), h("div", { class: "choices" }, ...boxes, done));
}

export async function modelPage(ctx) {
  const [name] = ctx.args;
  const query = ctx.query;
  const view = {
    sort: query.get("vsort") || "-number",
    q: query.get("vq") || "",
    stage: query.get("vstage") || "",
    page: Math.max(1, Number(query.get("vpage")) || 1),
    cols: (query.get("vcols") || "").split(",").filter(Boolean),
  };
  const model = await api(`/models/${enc(name)}`);
  const [versions, history] = await Promise.all([
    api(`/models/${enc(name)}/versions`, {
      query: { sort: view.sort, name: view.q, stage: view.stage, limit: VERSION_PAGE, offset: (view.page - 1) * VERSION_PAGE },
    }),
    api(`/models/${enc(name)}/stage-changes`, { query: { limit: 100 } }),
  ]);
  if (!query.has("vcols")) view.cols = keyMetrics(versions.items);
  // The trend charts read up to the 1,000 newest versions, oldest first.
  const everyVersion = view.cols.length ? (await all(`/models/${enc(name)}/versions`, { sort: "-number" }, 1000)).reverse() : [];
  const promoted = new Set(history.items.filter((c) => c.to_stage === "production" && c.kind !== "refused").map((c) => c.version_number));
  const card = fields(CARD.map(([label, key]) => [label, model[key] ? h("span", { class: "prose" }, model[key]) : null]), { "data-testid": "model-card" });
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, link("Models", "#/models"), " / "),
    h("h1", { "data-testid": "model-name" }, model.name, " ", tagList(model.tags)),
    section("Model card", card),
    gatesSection(model.gates),
    versionsSection(ctx, name, versions, view),
    trendSection(view.cols, everyVersion, promoted, flatMetadata),
    section("Stage history", historyTable(history.items, name)),
  );
}

function gatesSection(gates) {
  const stages = Object.entries(gates || {});
  if (!stages.length) return null;
  return section(
    "Promotion gates",
    fields(
      stages.map(([stage, rules]) => [
        `Into ${stage}`,
        h("ul", { class: "gates" }, rules.map((rule) => h("li", {}, h("code", {}, rule)))),
      ]),
      { "data-testid": "model-gates" },
    ),
    h("p", { class: "muted" }, "A version must meet every gate of a stage to enter it; force does not bypass them."),
  );
}
