// Artifacts: every artifact (search), the versions of one, and one version with its preview,
// visualizations, where it comes from and where it went (lineage), and its files to download.

import { api, download, enc } from "./api.js";
import { bytes, errorBox, fields, h, link, route, section, show, statusBadge, table, tagList, when } from "./dom.js";
import { previewBody } from "./version.js";
import { visualsOf } from "./visuals.js";

const PAGE_SIZE = 50;

function pager(ctx, base, page, listing, query) {
  const go = (n) => ctx.navigate(`${base}?${new URLSearchParams({ ...query, page: String(n) })}`);
  return h(
    "div",
    { class: "pager" },
    page > 1 ? h("button", { type: "button", onclick: () => go(page - 1) }, "← Previous") : null,
    h("span", { class: "muted" }, `${listing.total} in all`),
    page * PAGE_SIZE < listing.total ? h("button", { type: "button", onclick: () => go(page + 1) }, "Next →") : null,
  );
}

export async function artifactsPage(ctx) {
  const q = ctx.query.get("q") || "";
  const page = Math.max(1, Number(ctx.query.get("page")) || 1);
  const listing = await api("/artifacts", { query: { name: q, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } });
  const search = h("input", { type: "search", placeholder: "Search artifacts by name", value: q, "data-testid": "artifact-search" });
  const form = h(
    "form",
    { class: "toolbar", onsubmit: (e) => (e.preventDefault(), ctx.navigate(`#/artifacts?${new URLSearchParams({ q: search.value.trim() })}`)) },
    search,
    h("button", { type: "submit" }, "Search"),
  );
  const columns = [
    { label: "Artifact", cell: (a) => link(a.name, route("artifacts", a.name), { "data-testid": "artifact-link" }) },
    { label: "Versions", class: "num", cell: (a) => String(a.version_count) },
    { label: "Latest", cell: (a) => (a.latest_version ? link(`v${a.latest_version}`, route("artifacts", a.name, a.latest_version)) : "") },
    { label: "Created", cell: (a) => when(a.created) },
  ];
  return h(
    "div",
    {},
    h("h1", {}, "Artifacts"),
    form,
    table(columns, listing.items, {
      empty: q ? "No artifacts match." : "No artifacts yet: every step output becomes one.",
      rowAttrs: (a) => ({ "data-testid": "artifact-row", "data-name": a.name }),
      attrs: { "data-testid": "artifacts-table" },
    }),
    pager(ctx, "#/artifacts", page, listing, { q }),
  );
}

export async function artifactPage(ctx) {
  const [name] = ctx.args;
  const page = Math.max(1, Number(ctx.query.get("page")) || 1);
  const listing = await api("/artifact-versions", { query: { name, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } });
  const columns = [
    { label: "Version", cell: (v) => link(`v${v.version}`, route("artifacts", name, v.version), { "data-testid": "artifact-version-link" }) },
    { label: "Type", cell: (v) => v.type },
    { label: "Data type", cell: (v) => h("code", {}, v.data_type) },
    { label: "Size", class: "num", cell: (v) => bytes(v.size) },
    { label: "Tags", cell: (v) => tagList(v.tags) },
    { label: "Created", cell: (v) => when(v.created) },
  ];
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, link("Artifacts", "#/artifacts"), " / "),
    h("h1", {}, name),
    table(columns, listing.items, { rowAttrs: (v) => ({ "data-testid": "artifact-version-row", "data-version": v.version }), attrs: { "data-testid": "artifact-versions-table" } }),
    pager(ctx, route("artifacts", name), page, listing, {}),
  );
}

function usesTable(uses, producerId) {
  const role = (u) => {
    if (u.direction === "input") return `read as '${u.name}'`;
    if (u.step_run_id === producerId) return `produced as '${u.name}'`;
    return `reused from the cache as '${u.name}'`;
  };
  const columns = [
    { label: "Run", cell: (u) => link(u.run_name, route("runs", u.run_id)) },
    { label: "Pipeline", cell: (u) => u.pipeline_name },
    { label: "Step", cell: (u) => u.step_name },
    { label: "Role", cell: role },
    { label: "Status", cell: (u) => statusBadge(u.step_status) },
    { label: "When", cell: (u) => when(u.created) },
  ];
  return table(columns, uses, { empty: "No step run wrote or read it.", rowAttrs: (u) => ({ "data-testid": "use-row", "data-direction": u.direction, "data-step": u.step_name }), attrs: { "data-testid": "uses-table" } });
}

export async function artifactVersionPage(ctx) {
  const [name, number] = ctx.args;
  const record = await api(`/artifacts/${enc(name)}/version`, { query: { version: number } });
  const [lineage, preview, visuals, listing] = await Promise.all([
    api(`/artifact-versions/${enc(record.id)}/lineage`),
    api(`/artifact-versions/${enc(record.id)}/preview`).catch((error) => ({ loaded: false, reason: error.message })),
    visualsOf(record).catch((error) => errorBox(error)),
    api(`/artifact-versions/${enc(record.id)}/files`),
  ]);
  const message = h("div");
  const save = (file) => async () => {
    try {
      await download(`/artifact-versions/${enc(record.id)}/files/${file.name.split("/").map(enc).join("/")}`, `${record.name}-v${record.version}-${file.name.replace(/\//g, "_")}`);
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  };
  const linkColumns = [
    { label: "Model version", cell: (m) => link(`${m.model_name} v${m.version_number}`, route("models", m.model_name, "versions", m.version_number)) },
    { label: "Link name", cell: (m) => m.name },
    { label: "Kind", cell: (m) => m.kind },
  ];
  const fileColumns = [
    { label: "File", cell: (f) => h("code", {}, f.name) },
    { label: "Size", class: "num", cell: (f) => bytes(f.size) },
    { label: "", cell: (f) => h("button", { type: "button", class: "link", onclick: save(f) }, "Download") },
  ];
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, link("Artifacts", "#/artifacts"), " / ", link(name, route("artifacts", name)), " / "),
    h("h1", {}, `${name} · version ${record.version}`),
    section(
      "Details",
      fields([
        ["Type", record.type],
        ["Data type", h("code", {}, record.data_type)],
        ["Materializer", h("code", {}, record.materializer)],
        ["Size", bytes(record.size)],
        ["Content hash", h("code", {}, record.content_hash)],
        ["Tags", record.tags.length ? tagList(record.tags) : null],
        ["Created", when(record.created)],
        ["Id", h("code", {}, record.id)],
        ...Object.entries(record.metadata || {}).map(([k, v]) => [k, show(v)]),
      ]),
    ),
    section("Preview", ...[visuals, previewBody(preview)].filter(Boolean)),
    section("Lineage", usesTable(lineage.uses, record.producer_step_run_id)),
    section("Model versions", table(linkColumns, lineage.model_versions, { empty: "Not linked to a model version.", attrs: { "data-testid": "artifact-model-links" } })),
    section("Files", message, table(fileColumns, listing.files, { attrs: { "data-testid": "artifact-files" } })),
  );
}
