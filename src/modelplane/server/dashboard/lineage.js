// A model version's lineage: the steps of every run linked to it (training and prediction) and
// the artifact versions they read and wrote, as one graph laid out by dagre. Artifacts linked to
// the version are marked; a click opens the step's run or the artifact's page.

import { api, enc } from "./api.js";
import { zoomable } from "./dag.js";
import { h, route, section, svg } from "./dom.js";

const STEP = { width: 190, height: 48 };
const ARTIFACT = { width: 180, height: 40 };

function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function graphOf(lineage) {
  const runs = new Map(lineage.runs.map((r) => [r.id, r]));
  const artifacts = new Map(lineage.artifacts.map((a) => [a.id, a]));
  const nodes = [];
  const edges = [];
  for (const a of lineage.artifacts) {
    nodes.push({ id: `a:${a.id}`, kind: "artifact", size: ARTIFACT, label: `${a.name} v${a.version}`, sub: lineage.linked[a.id] ? `linked: ${lineage.linked[a.id]}` : a.type, href: route("artifacts", a.name, a.version), linked: Boolean(lineage.linked[a.id]) });
  }
  for (const step of lineage.steps) {
    const run = runs.get(step.run_id);
    nodes.push({ id: `s:${step.id}`, kind: "step", size: STEP, label: step.name, sub: run ? run.name : "", status: step.status, href: route("runs", step.run_id) });
    for (const av of Object.values(step.inputs)) if (artifacts.has(av)) edges.push([`a:${av}`, `s:${step.id}`]);
    for (const av of Object.values(step.outputs)) if (artifacts.has(av)) edges.push([`s:${step.id}`, `a:${av}`]);
  }
  return { nodes, edges };
}

function draw(ctx, nodes, edges) {
  const graph = new window.dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 46, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) graph.setNode(n.id, { width: n.size.width, height: n.size.height });
  edges.forEach(([from, to], i) => graph.setEdge(from, to, {}, String(i)));
  window.dagre.layout(graph);
  const size = graph.graph();
  const lines = graph.edges().map((e) => {
    const points = graph.edge(e).points;
    const d = points.map((p, i) => `${i ? "L" : "M"} ${p.x} ${p.y}`).join(" ");
    return svg("path", { class: "edge", d, "marker-end": "url(#lineage-arrow)" });
  });
  const boxes = nodes.map((n) => {
    const p = graph.node(n.id);
    const x = p.x - n.size.width / 2;
    const y = p.y - n.size.height / 2;
    const classes = n.kind === "step" ? `lineage-node lineage-step status-${n.status}` : `lineage-node lineage-artifact${n.linked ? " linked" : ""}`;
    const group = svg(
      "g",
      { class: classes, transform: `translate(${x} ${y})`, tabindex: "0", role: "link", "data-testid": "lineage-node", "data-kind": n.kind, "data-label": n.label },
      svg("title", {}, `${n.label}${n.sub ? ` (${n.sub})` : ""}`),
      svg("rect", { width: n.size.width, height: n.size.height, rx: n.kind === "artifact" ? "18" : "6" }),
      svg("text", { x: "10", y: "18", class: "node-name" }, clip(n.label, 24)),
      svg("text", { x: "10", y: n.kind === "step" ? "36" : "32", class: "node-meta" }, clip(n.sub, 28)),
    );
    const open = () => ctx.navigate(n.href);
    group.addEventListener("click", open);
    group.addEventListener("keydown", (event) => (event.key === "Enter" || event.key === " ") && open());
    return group;
  });
  const defs = svg("defs", {}, svg("marker", { id: "lineage-arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" })));
  const width = Math.ceil(size.width);
  const height = Math.ceil(size.height);
  return svg("svg", { class: "dag lineage", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Lineage", "data-testid": "lineage" }, defs, lines, boxes);
}

/** The "Lineage" section of a version page. */
export async function lineageSection(ctx, model, version) {
  const lineage = await api(`/models/${enc(model)}/versions/${enc(version.id)}/lineage`);
  if (!lineage.steps.length && !lineage.artifacts.length) {
    return section("Lineage", h("p", { class: "muted" }, "No run or artifact is linked to this version yet."));
  }
  if (typeof window.dagre !== "object") {
    return section("Lineage", h("p", { class: "muted" }, "The graph layout library is missing (build it with `make dashboard`)."));
  }
  const { nodes, edges } = graphOf(lineage);
  const more = lineage.runs_total > lineage.runs.length ? h("p", { class: "muted" }, `The newest ${lineage.runs.length} of ${lineage.runs_total} runs.`) : null;
  return section(
    "Lineage",
    h("p", { class: "muted" }, "Steps of every run linked to this version and the artifacts they read and wrote; linked artifacts are marked. Click to open."),
    zoomable(draw(ctx, nodes, edges)),
    more,
  );
}
