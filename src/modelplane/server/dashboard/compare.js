// Two or more versions of a model side by side. The store computes the comparison
// (GET /models/{model}/compare, the same one `modelplane model version compare` prints); this page
// only lays it out: overview, metadata, metric series (their last, min and max, and a chart per
// series with a line per version), the parameters of the runs that trained the versions, and their
// linked artifacts by link kind and name (compared by content hash).

import { api, enc } from "./api.js";
import { overlaySection } from "./charts.js";
import { h, link, route, section, show, stageBadge, tagList, when } from "./dom.js";

/** A comparison table: one row per compared field, one column per version; the store says which differ. */
function grid(versions, rows, testid) {
  const head = h("tr", {}, h("th", {}, ""), versions.map((c) => h("th", {}, `v${c.version.number}`)));
  const body = rows.length
    ? rows.map(({ label, differs, cells }) =>
        h(
          "tr",
          { class: differs ? "diff" : "", "data-testid": "compare-row", "data-key": label, "data-differs": differs ? "yes" : "no" },
          h("th", { scope: "row" }, label),
          cells.map((c) => h("td", {}, c instanceof Node ? c : show(c))),
        ),
      )
    : h("tr", {}, h("td", { colspan: versions.length + 1, class: "empty" }, "Nothing to compare."));
  return h("table", { class: "grid compare", "data-testid": testid }, h("thead", {}, head), h("tbody", {}, body));
}

/** Rows of compared fields, each value shown by `cell(value, index)` (plain by default). */
function fieldRows(fields, cell = (value) => value) {
  return fields.map((f) => ({ label: f.key, differs: f.differs, cells: f.values.map(cell) }));
}

function overviewRows(comparison) {
  const runs = comparison.versions.map((c) => c.training_run);
  const cells = {
    stage: (stage) => stageBadge(stage),
    created: (iso) => when(iso),
    tags: (tags) => tagList(tags || []),
    training_run: (name, index) => (runs[index] ? link(name, route("runs", runs[index].id)) : ""),
  };
  // The column headers already say each version's number.
  const shown = comparison.overview.filter((f) => f.key !== "number");
  return shown.map((f) => ({
    label: f.key.replace("_", " "),
    differs: f.differs,
    cells: f.values.map((value, index) => (cells[f.key] ? cells[f.key](value, index) : value)),
  }));
}

function artifactRows(comparison) {
  return comparison.artifacts.map((row) => ({
    label: `${row.kind}: ${row.name}`,
    differs: row.differs,
    cells: row.values.map((linked) =>
      linked ? linked.map((av) => `${av.name} v${av.version} (${av.content_hash.slice(-8)})`).join(", ") : "—",
    ),
  }));
}

export async function comparePage(ctx) {
  const [model] = ctx.args;
  const wanted = (ctx.query.get("versions") || "").split(",").map((s) => s.trim()).filter(Boolean);
  const comparison = await api(`/models/${enc(model)}/compare`, { query: { versions: wanted } });
  const versions = comparison.versions;
  const overlay = await overlaySection(versions.map((c) => c.version));
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, link("Models", "#/models"), " / ", link(model, route("models", model)), " / "),
    h("h1", {}, `Compare ${comparison.model}: `, versions.map((c) => `v${c.version.number}`).join(", ")),
    h("p", { class: "muted" }, "Rows that differ between the versions are highlighted."),
    section("Overview", grid(versions, overviewRows(comparison), "compare-overview")),
    section("Metadata", grid(versions, fieldRows(comparison.metadata), "compare-metadata")),
    section("Metric series (last, min, max)", grid(versions, fieldRows(comparison.metrics || []), "compare-metrics")),
    overlay,
    section("Training run parameters", grid(versions, fieldRows(comparison.parameters), "compare-parameters")),
    section("Artifacts (by content hash)", grid(versions, artifactRows(comparison), "compare-artifacts")),
  );
}
