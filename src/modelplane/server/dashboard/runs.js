// Runs: the list (filter by pipeline and status) and one run with its DAG, step details and logs.

import { api, enc } from "./api.js";
import { drawDag, zoomable } from "./dag.js";
import { duration, errorBox, fields, h, link, route, section, show, statusBadge, table, when } from "./dom.js";

const PAGE_SIZE = 50;
const STATUSES = ["", "running", "completed", "failed", "cached"];

async function versionLabels(runs) {
  const ids = [...new Set(runs.map((r) => r.model_version_id).filter(Boolean))];
  const found = await Promise.all(ids.map((id) => api(`/model-versions/${enc(id)}`).catch(() => null)));
  return new Map(ids.map((id, i) => [id, found[i]]));
}

function versionCell(version) {
  if (!version) return "";
  return link(`${version.model_name} v${version.number}`, route("models", version.model_name, "versions", version.number));
}

export async function runsPage(ctx) {
  const pipeline = ctx.query.get("pipeline") || "";
  const status = ctx.query.get("status") || "";
  const page = Math.max(1, Number(ctx.query.get("page")) || 1);
  const listing = await api("/runs", { query: { pipeline, status, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } });
  const versions = await versionLabels(listing.items);
  const go = (changes) => {
    const next = new URLSearchParams({ pipeline, status, page: String(page), ...changes });
    for (const [key, value] of [...next.entries()]) if (!value || (key === "page" && value === "1")) next.delete(key);
    ctx.navigate(`#/runs${next.toString() ? `?${next}` : ""}`);
  };
  const pipelineInput = h("input", { type: "search", placeholder: "Pipeline name or id", value: pipeline });
  const statusSelect = h("select", { "aria-label": "Status" }, STATUSES.map((s) => h("option", { value: s, selected: s === status }, s || "any status")));
  const form = h(
    "form",
    { class: "toolbar", onsubmit: (e) => (e.preventDefault(), go({ pipeline: pipelineInput.value.trim(), status: statusSelect.value, page: "1" })) },
    pipelineInput,
    statusSelect,
    h("button", { type: "submit" }, "Filter"),
  );
  const columns = [
    { label: "Run", cell: (r) => link(r.name, route("runs", r.id), { "data-testid": "run-link" }) },
    { label: "Pipeline", cell: (r) => r.pipeline_name },
    { label: "Status", cell: (r) => statusBadge(r.status) },
    { label: "Model version", cell: (r) => versionCell(versions.get(r.model_version_id)) },
    { label: "Started", cell: (r) => when(r.created) },
    { label: "Duration", cell: (r) => duration(r.created, r.ended) },
  ];
  return h(
    "div",
    {},
    h("h1", {}, "Runs"),
    form,
    table(columns, listing.items, { empty: "No runs match.", rowAttrs: (r) => ({ "data-testid": "run-row" }) }),
    h(
      "div",
      { class: "pager" },
      page > 1 ? h("button", { type: "button", onclick: () => go({ page: String(page - 1) }) }, "← Previous") : null,
      h("span", { class: "muted" }, `${listing.total} run${listing.total === 1 ? "" : "s"}`),
      page * PAGE_SIZE < listing.total ? h("button", { type: "button", onclick: () => go({ page: String(page + 1) }) }, "Next →") : null,
    ),
  );
}

/** DAG nodes from the run's recorded plan, each joined with its step run (if it ran). */
function dagNodes(run, steps) {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const plan = run.config && run.config.dag && typeof run.config.dag === "object" ? run.config.dag : null;
  if (plan && !Array.isArray(plan)) {
    return Object.entries(plan).map(([id, spec]) => ({ id, step: spec.step || id, upstream: spec.upstream || [], run: byName.get(id) || null }));
  }
  return steps.map((s) => ({ id: s.name, step: s.step_name, upstream: s.upstream || [], run: s }));
}

async function artifactLabel(id) {
  try {
    const av = await api(`/artifact-versions/${enc(id)}`);
    return `${av.name} v${av.version}`;
  } catch {
    return `${id} (deleted)`;
  }
}

async function ioList(mapping) {
  const entries = Object.entries(mapping || {});
  const labels = await Promise.all(entries.map(([, id]) => artifactLabel(id)));
  return entries.length ? h("ul", { class: "plain" }, entries.map(([name], i) => h("li", {}, h("code", {}, name), " → ", labels[i]))) : null;
}

async function stepDetails(node) {
  const step = node.run;
  if (!step) return h("div", {}, h("h3", {}, node.id), h("p", { class: "muted" }, "This step did not run."));
  const [logs, inputs, outputs] = await Promise.all([
    api(`/step-runs/${enc(step.id)}/logs`).catch(() => ""),
    ioList(step.inputs),
    ioList(step.outputs),
  ]);
  const params = Object.entries(step.parameters || {});
  return h(
    "div",
    { "data-testid": "step-details" },
    h("h3", {}, node.id, " ", statusBadge(step.status)),
    fields([
      ["Step", h("code", {}, step.step_name)],
      ["Started", when(step.created)],
      ["Duration", duration(step.created, step.ended)],
      ["Cache", step.cached_from ? `hit (reused step run ${step.cached_from})` : step.status === "cached" ? "hit" : "miss"],
      ["Cache key", step.cache_key ? h("code", {}, step.cache_key) : null],
      ["Parameters", params.length ? params.map(([k, v]) => `${k}=${show(v)}`).join(", ") : null],
      ["Inputs", inputs],
      ["Outputs", outputs],
    ]),
    step.error ? [h("h4", {}, "Error"), h("pre", { class: "log error-log" }, step.error)] : null,
    h("h4", {}, "Logs"),
    h("pre", { class: "log", "data-testid": "step-logs" }, logs || "(no output)"),
  );
}

const FOLLOW_MS = 2000;

/** While a run runs, look at it every FOLLOW_MS and draw the page again when a step or the run
 *  changed (and stop when the user went to another page). */
function follow(ctx, run, steps) {
  const here = location.hash;
  const seen = JSON.stringify([run.status, steps.map((s) => [s.name, s.status])]);
  const look = async () => {
    if (location.hash !== here) return;
    try {
      const [now, nowSteps] = await Promise.all([api(`/runs/${enc(run.id)}`), api(`/runs/${enc(run.id)}/steps`)]);
      if (location.hash !== here) return;
      if (JSON.stringify([now.status, nowSteps.map((s) => [s.name, s.status])]) !== seen) return ctx.rerender();
    } catch {
      // a network hiccup: try again at the next tick
    }
    setTimeout(look, FOLLOW_MS);
  };
  setTimeout(look, FOLLOW_MS);
}

export async function runPage(ctx) {
  const [id] = ctx.args;
  const run = await api(`/runs/${enc(id)}`);
  const [steps, versions] = await Promise.all([api(`/runs/${enc(run.id)}/steps`), versionLabels([run])]);
  const nodes = dagNodes(run, steps);
  const panel = h("div", { class: "step-panel" }, h("p", { class: "muted" }, "Click a step to see its details and logs."));
  const select = async (node) => {
    panel.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try {
      panel.replaceChildren(await stepDetails(node));
    } catch (error) {
      panel.replaceChildren(errorBox(error));
    }
  };
  const params = Object.entries(run.parameters || {});
  const cached = steps.filter((s) => s.status === "cached" || s.cached_from).length;
  if (run.status === "running") follow(ctx, run, steps);
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, link("Runs", "#/runs"), " / "),
    h("h1", {}, run.name, " ", statusBadge(run.status)),
    run.status === "running" ? h("p", { class: "muted", "data-testid": "live" }, "Running: this page follows it (every 2 s) until it ends.") : null,
    section(
      "Run",
      fields([
        ["Pipeline", run.pipeline_name],
        ["Status", statusBadge(run.status)],
        ["Model version", versionCell(versions.get(run.model_version_id))],
        ["Orchestrator", run.orchestrator],
        ["Process", run.pid ? `${run.pid} on ${run.host}` : null],
        ["Started", when(run.created)],
        ["Duration", duration(run.created, run.ended)],
        ["Steps", `${steps.length} run, ${cached} from cache`],
        ["Parameters", params.length ? params.map(([k, v]) => `${k}=${show(v)}`).join(", ") : null],
      ]),
      run.error ? h("pre", { class: "log error-log" }, run.error) : null,
    ),
    section("DAG", h("div", { class: "dag-wrap" }, zoomable(drawDag(nodes, select)), panel)),
  );
}
