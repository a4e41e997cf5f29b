// A run's DAG as an SVG drawing: steps top to bottom, edges from each step to the steps that consume
// it, each box coloured by status with its duration and cache hits. The layout comes from dagre (a
// graph layout library from the npm registry, built into static/vendor/ by `make dashboard`): it
// places the boxes so they never overlap and routes edges around them. Without it the rows-by-depth
// layout below is used. The drawing can be zoomed (buttons, ctrl + wheel) and dragged.

import { duration, svg } from "./dom.js";

const NODE_W = 200;
const NODE_H = 54;
const GAP_X = 28;
const GAP_Y = 40;
const PAD = 16;
const BEND = 70; // room on the right for edges that skip rows

/** Row of each node: the length of the longest path from a root to it. */
function depths(nodes) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const depth = new Map();
  const visiting = new Set();
  const visit = (id) => {
    if (depth.has(id)) return depth.get(id);
    if (visiting.has(id)) return 0; // a cycle cannot be stored, but never loop on bad data
    visiting.add(id);
    const node = byId.get(id);
    const ups = (node ? node.upstream : []).filter((u) => byId.has(u));
    const d = ups.length ? Math.max(...ups.map(visit)) + 1 : 0;
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  nodes.forEach((n) => visit(n.id));
  return depth;
}

/** dagre's layout: node corners, each edge's route (points), and the drawing's size. */
function dagreLayout(nodes) {
  const graph = new window.dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "TB", nodesep: GAP_X, ranksep: GAP_Y, edgesep: 12, marginx: PAD, marginy: PAD });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.id, { width: NODE_W, height: NODE_H });
  for (const node of nodes) for (const up of node.upstream) if (graph.hasNode(up) && up !== node.id) graph.setEdge(up, node.id);
  window.dagre.layout(graph);
  const positions = new Map(nodes.map((n) => {
    const p = graph.node(n.id);
    return [n.id, { x: p.x - NODE_W / 2, y: p.y - NODE_H / 2 }];
  }));
  const routes = new Map(graph.edges().map((e) => [`${e.v}\u0000${e.w}`, graph.edge(e).points]));
  const size = graph.graph();
  return { positions, routes, width: Math.ceil(size.width), height: Math.ceil(size.height) };
}

function routePath(points) {
  // Straight through the first and last points, smooth through the ones between.
  let d = `M ${points[0].x} ${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
    d += ` Q ${points[i].x} ${points[i].y}, ${i === points.length - 2 ? `${points[i + 1].x} ${points[i + 1].y}` : `${mid.x} ${mid.y}`}`;
  }
  if (points.length === 2) d += ` L ${points[1].x} ${points[1].y}`;
  return d;
}

/** Positions of every node; within a row, nodes follow the mean place of their upstream steps. */
export function layout(nodes) {
  if (typeof window.dagre === "object" && window.dagre.layout) return dagreLayout(nodes);
  const depth = depths(nodes);
  const rows = [];
  for (const node of nodes) (rows[depth.get(node.id)] ||= []).push(node);
  const place = new Map();
  for (const row of rows) {
    const score = (n) => {
      const ups = n.upstream.filter((u) => place.has(u));
      return ups.length ? ups.reduce((sum, u) => sum + place.get(u), 0) / ups.length : 0;
    };
    row.sort((a, b) => score(a) - score(b));
    row.forEach((n, i) => place.set(n.id, i));
  }
  const widest = Math.max(1, ...rows.map((r) => r.length));
  const positions = new Map();
  rows.forEach((row, r) => {
    const offset = ((widest - row.length) * (NODE_W + GAP_X)) / 2;
    row.forEach((n, c) => positions.set(n.id, { x: PAD + offset + c * (NODE_W + GAP_X), y: PAD + r * (NODE_H + GAP_Y), depth: r }));
  });
  return {
    positions,
    width: PAD * 2 + widest * NODE_W + (widest - 1) * GAP_X + BEND,
    height: PAD * 2 + rows.length * NODE_H + Math.max(0, rows.length - 1) * GAP_Y,
  };
}

function edgePath(from, to) {
  if (to.depth - from.depth <= 1) {
    const x1 = from.x + NODE_W / 2, y1 = from.y + NODE_H, x2 = to.x + NODE_W / 2, y2 = to.y;
    const mid = (y1 + y2) / 2;
    return `M ${x1} ${y1} C ${x1} ${mid}, ${x2} ${mid}, ${x2} ${y2}`;
  }
  const x1 = from.x + NODE_W, y1 = from.y + NODE_H / 2, x2 = to.x + NODE_W, y2 = to.y + NODE_H / 2;
  const out = Math.max(x1, x2) + 24 + 10 * Math.min(4, to.depth - from.depth);
  return `M ${x1} ${y1} C ${out} ${y1}, ${out} ${y2}, ${x2} ${y2}`;
}

function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * nodes: [{id, step, upstream, run}] where run is the step run record (or null if it never ran).
 * onSelect(node) is called when a step is clicked.
 */
export function drawDag(nodes, onSelect) {
  const { positions, routes, width, height } = layout(nodes);
  const defs = svg(
    "defs",
    {},
    svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" })),
  );
  const edges = [];
  for (const node of nodes) {
    const to = positions.get(node.id);
    for (const up of node.upstream) {
      const from = positions.get(up);
      if (!from) continue;
      const route = routes && routes.get(`${up}\u0000${node.id}`);
      const d = route ? routePath(route) : edgePath(from, to);
      edges.push(svg("path", { class: "edge", d, "marker-end": "url(#arrow)", "data-from": up, "data-to": node.id }));
    }
  }
  const boxes = nodes.map((node) => {
    const { x, y } = positions.get(node.id);
    const status = node.run ? node.run.status : "pending";
    const cached = node.run && (node.run.status === "cached" || node.run.cached_from);
    const took = node.run ? duration(node.run.created, node.run.ended) : "";
    const group = svg(
      "g",
      { class: `dag-node status-${status}`, transform: `translate(${x} ${y})`, tabindex: "0", role: "button", "data-testid": "dag-node", "data-step": node.id, "data-status": status },
      svg("title", {}, `${node.id} (${node.step}): ${status}${took ? `, ${took}` : ""}${cached ? ", cache hit" : ""}`),
      svg("rect", { width: NODE_W, height: NODE_H, rx: "8" }),
      svg("text", { x: "12", y: "21", class: "node-name" }, clip(node.id, 25)),
      svg("text", { x: "12", y: "41", class: "node-meta" }, clip([status, took, cached ? "cache hit" : ""].filter(Boolean).join(" · "), 32)),
    );
    group.addEventListener("click", () => onSelect(node));
    group.addEventListener("keydown", (event) => (event.key === "Enter" || event.key === " ") && onSelect(node));
    return group;
  });
  return svg(
    "svg",
    { class: "dag", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Pipeline DAG", "data-testid": "dag" },
    defs,
    edges,
    boxes,
  );
}

/** ``drawing`` (an SVG of ``width`` × ``height``) in a scrolling frame that zooms (the buttons, or
 *  ctrl + wheel) and pans (drag, or the scroll bars). */
export function zoomable(drawing) {
  const width = Number(drawing.getAttribute("width"));
  const height = Number(drawing.getAttribute("height"));
  const frame = document.createElement("div");
  frame.className = "dag-scroll";
  frame.append(drawing);
  let scale = 1;
  const zoom = (factor) => {
    scale = Math.min(3, Math.max(0.04, scale * factor));
    drawing.setAttribute("width", String(Math.round(width * scale)));
    drawing.setAttribute("height", String(Math.round(height * scale)));
    drawing.dataset.scale = scale.toFixed(2);
  };
  const fit = () => {
    scale = 1;
    zoom(Math.min(1, (frame.clientWidth - 4) / width, 600 / height));
  };
  frame.addEventListener("wheel", (event) => {
    if (!event.ctrlKey) return;
    event.preventDefault();
    zoom(event.deltaY < 0 ? 1.15 : 1 / 1.15);
  }, { passive: false });
  let drag = null;
  frame.addEventListener("pointerdown", (event) => {
    if (event.target.closest("[role=button], [role=link]")) return; // a click on a node opens it
    drag = { x: event.clientX, y: event.clientY, left: frame.scrollLeft, top: frame.scrollTop };
    frame.setPointerCapture(event.pointerId); // the frame keeps the drag, so no listener on window
    frame.classList.add("dragging");
  });
  frame.addEventListener("pointermove", (event) => {
    if (!drag) return;
    frame.scrollLeft = drag.left - (event.clientX - drag.x);
    frame.scrollTop = drag.top - (event.clientY - drag.y);
  });
  const stop = () => {
    drag = null;
    frame.classList.remove("dragging");
  };
  frame.addEventListener("pointerup", stop);
  frame.addEventListener("pointercancel", stop);
  const button = (label, title, onclick, testid) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.title = title;
    b.dataset.testid = testid;
    b.addEventListener("click", onclick);
    return b;
  };
  const tools = document.createElement("div");
  tools.className = "dag-tools";
  tools.append(button("−", "Zoom out", () => zoom(1 / 1.25), "zoom-out"), button("+", "Zoom in", () => zoom(1.25), "zoom-in"), button("Fit", "Fit to the frame", fit, "zoom-fit"));
  const box = document.createElement("div");
  box.className = "dag-box";
  box.append(tools, frame);
  return box;
}
