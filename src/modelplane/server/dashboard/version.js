// One model version: metadata and metrics, where it is served, linked artifacts by kind with
// previews, linked runs, its stage history, and the stage change (with a confirmation naming what
// gets archived).

import { api, download, enc, storeInfo } from "./api.js";
import { bytes, duration, errorBox, fields, h, link, metrics, route, section, show, stageBadge, statusBadge, table, tagList, when } from "./dom.js";
import { seriesSection } from "./charts.js";
import { lineageSection } from "./lineage.js";
import { visualsOf } from "./visuals.js";
import { historyTable } from "./models.js";

const KINDS = ["data", "model", "deployment"];
const TARGETS = ["staging", "production", "archived", "none"];

export function previewBody(preview) {
  if (!preview.loaded) {
    return h("div", {}, h("p", { class: "muted", "data-testid": "preview-reason" }, preview.reason || "Not loaded."), metadataBlock(preview.metadata));
  }
  const p = preview.preview;
  if (p.kind === "dataframe" || p.kind === "series") {
    const cols = [{ label: "", class: "muted", cell: (r) => show(r.index) }, ...p.columns.map((c, i) => ({ label: c, cell: (r) => show(r.row[i]) }))];
    const rows = p.rows.map((row, i) => ({ row, index: p.index[i] }));
    return h(
      "div",
      { "data-testid": "preview-frame" },
      h("p", {}, `${p.kind === "series" ? "Series" : "DataFrame"} · shape `, h("code", { "data-testid": "preview-shape" }, `(${p.shape.join(", ")})`)),
      table(cols, rows, { attrs: { class: "grid compact" } }),
    );
  }
  if (p.kind === "array") {
    return h(
      "div",
      { "data-testid": "preview-array" },
      h("p", {}, "Array · shape ", h("code", { "data-testid": "preview-shape" }, `(${p.shape.join(", ")})`), " · dtype ", h("code", {}, p.dtype)),
      h("pre", {}, `${JSON.stringify(p.head)}${p.truncated ? " …" : ""}`),
    );
  }
  if (p.kind === "bytes") return h("p", {}, `${p.length} bytes: `, h("code", {}, p.head_hex));
  return h("pre", { "data-testid": "preview-json" }, p.text + (p.truncated ? "\n…" : ""));
}

function metadataBlock(metadata) {
  const entries = Object.entries(metadata || {});
  return entries.length ? fields(entries.map(([k, v]) => [k, show(v)])) : null;
}

function artifactRow(linked) {
  const av = linked.artifact_version;
  const slot = h("div", { class: "preview" });
  const toggle = async () => {
    if (slot.childNodes.length) return slot.replaceChildren();
    slot.replaceChildren(h("p", { class: "muted" }, "Loading preview…"));
    try {
      const [preview, visuals] = await Promise.all([api(`/artifact-versions/${enc(av.id)}/preview`), visualsOf(av)]);
      slot.replaceChildren(...[visuals, previewBody(preview)].filter(Boolean));
    } catch (error) {
      slot.replaceChildren(errorBox(error));
    }
  };
  const save = async () => {
    try {
      const listing = await api(`/artifact-versions/${enc(av.id)}/files`);
      for (const file of listing.files) {
        await download(`/artifact-versions/${enc(av.id)}/files/${file.name.split("/").map(enc).join("/")}`, `${av.name}-v${av.version}-${file.name.replace(/\//g, "_")}`);
      }
    } catch (error) {
      slot.replaceChildren(errorBox(error));
    }
  };
  return h(
    "li",
    { class: "artifact", "data-testid": "artifact", "data-name": linked.name },
    h(
      "div",
      { class: "artifact-head" },
      h("strong", {}, linked.name),
      " ",
      link(`${av.name} v${av.version}`, route("artifacts", av.name, av.version), { "data-testid": "artifact-page-link" }),
      h("span", { class: "muted" }, ` · ${av.data_type} · ${bytes(av.size)}`),
      " ",
      h("button", { type: "button", class: "link", onclick: toggle, "data-testid": "preview-button" }, "Preview"),
      " ",
      h("button", { type: "button", class: "link", onclick: save }, "Download"),
    ),
    slot,
  );
}

function artifactsSection(links) {
  const groups = KINDS.map((kind) => {
    const mine = links.filter((l) => l.kind === kind);
    return h(
      "div",
      { class: "kind", "data-testid": `artifacts-${kind}` },
      h("h3", {}, `${kind[0].toUpperCase()}${kind.slice(1)} artifacts (${mine.length})`),
      mine.length ? h("ul", { class: "artifacts" }, mine.map(artifactRow)) : h("p", { class: "muted" }, "None."),
    );
  });
  return section("Linked artifacts", groups);
}

function runsSection(runs) {
  const columns = [
    { label: "Run", cell: (r) => link(r.name, route("runs", r.id)) },
    { label: "Pipeline", cell: (r) => r.pipeline_name },
    { label: "Status", cell: (r) => statusBadge(r.status) },
    { label: "Started", cell: (r) => when(r.created) },
    { label: "Duration", cell: (r) => duration(r.created, r.ended) },
  ];
  return section("Linked runs", table(columns, runs, { empty: "No runs linked." }));
}

/** Where the version is served: the `modelplane serve` processes answering with it (or
 * sending it a canary share), with their traffic. */
function servedSection(deployments, version) {
  const key = String(version.number);
  const role = (d) => {
    if (d.canary_version === version.number && d.version !== version.number) {
      return `canary ${d.canary_percent}%${d.canary_state === "cut_off" ? " (cut off)" : ""}`;
    }
    return d.stage ? `follows ${d.stage}` : "pinned";
  };
  const traffic = (d) => d.traffic[key] || { requests: 0, errors: 0 };
  const columns = [
    { label: "Endpoint", cell: (d) => h("a", { href: d.endpoint, rel: "noopener" }, d.endpoint) },
    { label: "Serves as", cell: (d) => role(d) },
    { label: "Host", cell: (d) => `${d.host}:${d.pid}` },
    { label: "Since", cell: (d) => when(d.serving_since || d.created) },
    { label: "Requests", class: "num", cell: (d) => String(traffic(d).requests) },
    { label: "Errors", class: "num", cell: (d) => String(traffic(d).errors) },
    { label: "p99 ms", class: "num", cell: (d) => (traffic(d).p99_ms == null ? "–" : show(traffic(d).p99_ms)) },
    { label: "Last seen", cell: (d) => when(d.last_seen) },
  ];
  return section(
    "Served at",
    table(columns, deployments, {
      empty: "No service is serving this version (start one with modelplane serve).",
      attrs: { "data-testid": "deployments" },
    }),
  );
}

/** The confirmation text and the set_stage arguments for moving `version` to `target`. */
async function plan(model, version, target) {
  if (!(await storeInfo()).single_holder_stages.includes(target)) {
    return { text: `Version ${version.number} will move from ${version.stage} to ${target}.`, force: false, expected: null };
  }
  const current = (await api(`/models/${enc(model)}/versions`, { query: { stage: target, limit: 1 } })).items[0];
  if (!current) {
    return { text: `No version holds ${target} now. Version ${version.number} will move from ${version.stage} to ${target}; nothing is archived.`, force: false, expected: 0 };
  }
  if (current.number === version.number) return { text: `Version ${version.number} already holds ${target}.`, same: true };
  return {
    text: `Version ${version.number} will move from ${version.stage} to ${target}. Version ${current.number} holds ${target} now and will be archived.`,
    force: true,
    expected: current.number,
  };
}

function stageControl(ctx, model, version) {
  const select = h("select", { "data-testid": "stage-select", "aria-label": "New stage" }, TARGETS.filter((s) => s !== version.stage).map((s) => h("option", { value: s }, s)));
  const reason = h("input", { type: "text", placeholder: "Reason (optional)", "data-testid": "stage-reason" });
  const dialog = h("div", { class: "confirm", hidden: true, role: "dialog", "aria-modal": "true", "data-testid": "confirm-dialog" });
  const close = () => {
    dialog.hidden = true;
    dialog.replaceChildren();
  };
  const apply = async (target, step) => {
    try {
      await api(`/models/${enc(model)}/versions/${version.number}/stage`, {
        method: "PUT",
        body: { stage: target, force: step.force, expected_current: step.expected, reason: reason.value.trim() || null },
      });
      close();
      ctx.rerender();
    } catch (error) {
      dialog.replaceChildren(errorBox(error), h("div", { class: "actions" }, h("button", { type: "button", onclick: () => (close(), ctx.rerender()) }, "Reload")));
    }
  };
  const ask = async () => {
    const target = select.value;
    const step = await plan(model, version, target);
    const confirmButton = step.same
      ? null
      : h("button", { type: "button", class: "primary", "data-testid": "confirm-button", onclick: () => apply(target, step) }, step.force ? `Move to ${target} and archive` : `Move to ${target}`);
    dialog.replaceChildren(
      h("p", { "data-testid": "confirm-text" }, step.text),
      h("div", { class: "actions" }, confirmButton, h("button", { type: "button", onclick: close, "data-testid": "cancel-button" }, "Cancel")),
    );
    dialog.hidden = false;
  };
  return h(
    "div",
    { class: "stage-control" },
    h("label", {}, "Move to ", select),
    reason,
    h("button", { type: "button", onclick: ask, "data-testid": "stage-change" }, "Change stage…"),
    dialog,
  );
}

export async function versionPage(ctx) {
  const [model, spec] = ctx.args;
  const version = await api(`/models/${enc(model)}/versions/${enc(spec)}`);
  const [links, runs, history, series, lineage, deployments] = await Promise.all([
    api(`/models/${enc(version.model_id)}/versions/${enc(version.id)}/artifact-links`, { query: { limit: 500 } }),
    api(`/models/${enc(version.model_id)}/versions/${enc(version.id)}/runs`, { query: { limit: 100 } }),
    api(`/models/${enc(model)}/stage-changes`, { query: { version: version.number, limit: 100 } }),
    seriesSection(version),
    lineageSection(ctx, model, version),
    api("/deployments", { query: { model: version.model_id, version: version.id, limit: 100 } }),
  ]);
  const found = metrics(version.metadata);
  const other = Object.entries(version.metadata || {}).filter(([k]) => !(k in found));
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, link("Models", "#/models"), " / ", link(model, route("models", model)), " / "),
    h("h1", {}, `${model} · version ${version.number}`, version.name !== String(version.number) ? ` (${version.name})` : "", " ", h("span", { "data-testid": "version-stage" }, stageBadge(version.stage))),
    section(
      "Stage",
      h("p", {}, "Current stage: ", stageBadge(version.stage)),
      stageControl(ctx, model, version),
      h("h3", {}, "History of this version"),
      historyTable(history.items, model),
    ),
    section(
      "Details",
      fields([
        ["Number", String(version.number)],
        ["Name", version.name],
        ["Description", version.description],
        ["Tags", version.tags.length ? tagList(version.tags) : null],
        ["Created", when(version.created)],
        ["Created by", version.created_by],
        ["Updated", when(version.updated)],
        ["Id", h("code", {}, version.id)],
      ]),
    ),
    section(
      "Metrics and metadata",
      Object.keys(found).length ? table([{ label: "Metric", cell: (r) => r[0] }, { label: "Value", class: "num", cell: (r) => show(r[1]) }], Object.entries(found), { attrs: { "data-testid": "metrics-table" } }) : h("p", { class: "muted" }, "No metrics logged."),
      other.length ? metadataBlock(Object.fromEntries(other)) : null,
    ),
    servedSection(deployments.items, version),
    series,
    lineage,
    artifactsSection(links.items),
    runsSection(runs.items),
  );
}
