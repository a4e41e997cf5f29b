// Two or more versions of a model side by side: details, metadata and metrics, the parameters of
// the runs that trained them, and which linked artifacts differ (by content hash).

import { api, enc } from "./api.js";
import { h, link, route, section, show, stageBadge, when } from "./dom.js";

/** Flatten one level of nesting: {eval: {acc: 1}} → {"eval.acc": 1}. */
function flat(object, prefix = "") {
  const out = {};
  for (const [key, value] of Object.entries(object || {})) {
    if (value && typeof value === "object" && !Array.isArray(value) && !prefix) Object.assign(out, flat(value, `${key}.`));
    else out[`${prefix}${key}`] = value;
  }
  return out;
}

/** The run that trained a version: the oldest linked run that used this version. */
async function trainingRun(version) {
  const runs = (await api(`/models/${enc(version.model_id)}/versions/${enc(version.id)}/runs`, { query: { limit: 100 } })).items;
  const own = runs.filter((r) => r.model_version_id === version.id);
  const pool = own.length ? own : runs;
  if (!pool.length) return null;
  const run = pool.reduce((a, b) => (a.created <= b.created ? a : b));
  const steps = await api(`/runs/${enc(run.id)}/steps`);
  return { run, steps };
}

function parameters(training) {
  if (!training) return {};
  const out = {};
  for (const [key, value] of Object.entries(training.run.parameters || {})) out[`pipeline.${key}`] = value;
  for (const step of training.steps) {
    for (const [key, value] of Object.entries(step.parameters || {})) out[`${step.name}.${key}`] = value;
  }
  return out;
}

function artifactsByName(links) {
  const out = {};
  for (const linked of links) {
    const av = linked.artifact_version;
    const entry = (out[`${linked.kind}: ${linked.name}`] ||= []);
    entry.push(av);
  }
  return out;
}

function same(values) {
  const shown = values.map((v) => JSON.stringify(v === undefined ? null : v));
  return shown.every((v) => v === shown[0]);
}

/** A comparison table: one row per key, one column per version; rows that differ are marked. */
function grid(versions, rows, testid) {
  const head = h("tr", {}, h("th", {}, ""), versions.map((v) => h("th", {}, `v${v.number}`)));
  const body = rows.length
    ? rows.map(({ label, values, cells }) =>
        h(
          "tr",
          { class: same(values) ? "" : "diff", "data-testid": "compare-row", "data-key": label, "data-differs": same(values) ? "no" : "yes" },
          h("th", { scope: "row" }, label),
          (cells || values).map((c) => h("td", {}, c instanceof Node ? c : show(c))),
        ),
      )
    : h("tr", {}, h("td", { colspan: versions.length + 1, class: "empty" }, "Nothing to compare."));
  return h("table", { class: "grid compare", "data-testid": testid }, h("thead", {}, head), h("tbody", {}, body));
}

function keyedRows(versions, maps) {
  const keys = [...new Set(maps.flatMap((m) => Object.keys(m)))].sort();
  return keys.map((key) => ({ label: key, values: maps.map((m) => m[key]) }));
}

export async function comparePage(ctx) {
  const [model] = ctx.args;
  const wanted = (ctx.query.get("versions") || "").split(",").map((s) => s.trim()).filter(Boolean);
  if (wanted.length < 2) throw { type: "InvalidInput", message: "Pick two or more versions to compare.", hint: "Tick them on the model page." };
  const versions = await Promise.all(wanted.map((n) => api(`/models/${enc(model)}/versions/${enc(n)}`)));
  const [trainings, links] = await Promise.all([
    Promise.all(versions.map(trainingRun)),
    Promise.all(versions.map((v) => api(`/models/${enc(v.model_id)}/versions/${enc(v.id)}/artifact-links`, { query: { limit: 500 } }))),
  ]);
  const overview = [
    { label: "name", values: versions.map((v) => v.name) },
    { label: "stage", values: versions.map((v) => v.stage), cells: versions.map((v) => stageBadge(v.stage)) },
    { label: "created", values: versions.map((v) => v.created), cells: versions.map((v) => when(v.created)) },
    { label: "description", values: versions.map((v) => v.description) },
    { label: "tags", values: versions.map((v) => v.tags.join(", ")) },
    {
      label: "training run",
      values: trainings.map((t) => t && t.run.id),
      cells: trainings.map((t) => (t ? link(t.run.name, route("runs", t.run.id)) : "")),
    },
  ];
  const artifactMaps = links.map((page) => artifactsByName(page.items));
  const names = [...new Set(artifactMaps.flatMap((m) => Object.keys(m)))].sort();
  const artifactRows = names.map((name) => {
    const lists = artifactMaps.map((m) => m[name] || []);
    return {
      label: name,
      values: lists.map((list) => list.map((av) => av.content_hash).sort()),
      cells: lists.map((list) => (list.length ? list.map((av) => `${av.name} v${av.version} (${av.content_hash.slice(-8)})`).join(", ") : "—")),
    };
  });
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, link("Models", "#/models"), " / ", link(model, route("models", model)), " / "),
    h("h1", {}, `Compare ${model}: `, versions.map((v) => `v${v.number}`).join(", ")),
    h("p", { class: "muted" }, "Rows that differ between the versions are highlighted."),
    section("Overview", grid(versions, overview, "compare-overview")),
    section("Metadata and metrics", grid(versions, keyedRows(versions, versions.map((v) => flat(v.metadata))), "compare-metadata")),
    section("Training run parameters", grid(versions, keyedRows(versions, trainings.map(parameters)), "compare-parameters")),
    section("Artifacts (by content hash)", grid(versions, artifactRows, "compare-artifacts")),
  );
}
