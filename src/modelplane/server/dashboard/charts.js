// Line charts of metric series (log_metrics), drawn by uPlot: a chart library from the npm registry
// that `make dashboard` builds into static/vendor/ (frontend/package-lock.json); nothing from a CDN.

import { api, enc } from "./api.js";
import { h, section, show, table } from "./dom.js";

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d"];
const MAX_POINTS = 10000; // per request; a longer series is drawn from its first pages
const MAX_CHARTS = 12;

function axis() {
  const style = getComputedStyle(document.documentElement);
  const ink = style.getPropertyValue("--ink").trim() || "#1d2330";
  const line = style.getPropertyValue("--line").trim() || "#e3e6eb";
  return { stroke: ink, grid: { stroke: line }, ticks: { stroke: line } };
}

/** One chart of ``lines`` ([{label, points: [{step, value}], markers?}]) sharing the x axis; a
 *  ``markers`` line is drawn as points only (versions that entered a stage, say). */
export function seriesChart(key, lines, testid = "metric-chart", xLabel = "step") {
  const total = lines.reduce((n, line) => n + line.points.length, 0);
  const box = h("figure", { class: "chart", "data-testid": testid, "data-key": key, "data-points": String(total) });
  if (typeof window.uPlot !== "function") {
    box.append(h("figcaption", { class: "muted" }, `${key}: the chart library is missing (build it with \`make dashboard\`).`));
    return box;
  }
  const steps = [...new Set(lines.flatMap((line) => line.points.map((p) => p.step)))].sort((a, b) => a - b);
  const column = new Map(steps.map((step, i) => [step, i]));
  const ys = lines.map((line) => {
    const values = new Array(steps.length).fill(null);
    for (const p of line.points) values[column.get(p.step)] = p.value;
    return values;
  });
  const room = document.getElementById("main")?.clientWidth || 800;
  const options = {
    title: key,
    width: Math.max(260, Math.min(720, room - 48)),
    height: 220,
    scales: { x: { time: false } },
    // Axis text and grid in the page's own colours (dark mode included).
    axes: [{ label: xLabel, ...axis() }, axis()],
    series: [
      { label: xLabel },
      ...lines.map((line, i) =>
        line.markers
          ? { label: line.label, stroke: COLORS[i % COLORS.length], paths: () => null, points: { show: true, size: 9 } }
          : { label: line.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true, points: { show: line.points.length <= 50 } },
      ),
    ],
  };
  box.uplot = new window.uPlot(options, [steps, ...ys], box);
  return box;
}

async function history(version, key) {
  const page = await api(`/models/${enc(version.model_id)}/versions/${enc(version.id)}/metric-history`, {
    query: { key, limit: MAX_POINTS },
  });
  return page.items;
}

/** The "Metric series" section of a version: last, min and max per key, and a chart of each. */
export async function seriesSection(version) {
  const series = await api(`/models/${enc(version.model_id)}/versions/${enc(version.id)}/metrics`);
  if (!series.length) {
    return section("Metric series", h("p", { class: "muted", "data-testid": "no-series" }, "No series logged: log_metrics() in a step records them."));
  }
  const shown = series.slice(0, MAX_CHARTS);
  const points = await Promise.all(shown.map((s) => history(version, s.key)));
  const columns = [
    { label: "Series", cell: (s) => s.key },
    { label: "Points", class: "num", cell: (s) => String(s.count) },
    { label: "Last", class: "num", cell: (s) => show(s.last) },
    { label: "At step", class: "num", cell: (s) => String(s.last_step) },
    { label: "Min", class: "num", cell: (s) => show(s.min) },
    { label: "Max", class: "num", cell: (s) => show(s.max) },
  ];
  return section(
    "Metric series",
    table(columns, series, { attrs: { "data-testid": "series-table" } }),
    h("div", { class: "charts" }, ...shown.map((s, i) => seriesChart(s.key, [{ label: `v${version.number}`, points: points[i] }]))),
  );
}

/** Every series of the compared versions, one chart per key with a line per version. */
export async function overlaySection(versions) {
  const all = await Promise.all(versions.map((v) => api(`/models/${enc(v.model_id)}/versions/${enc(v.id)}/metrics`)));
  const keys = [...new Set(all.flatMap((series) => series.map((s) => s.key)))].sort().slice(0, MAX_CHARTS);
  if (!keys.length) return section("Metric series", h("p", { class: "muted" }, "None of these versions has a series."));
  const charts = await Promise.all(
    keys.map(async (key) => {
      const lines = await Promise.all(
        versions.map(async (v, i) => ({ label: `v${v.number}`, points: all[i].some((s) => s.key === key) ? await history(v, key) : [] })),
      );
      return seriesChart(key, lines, "compare-chart");
    }),
  );
  return section("Metric series", h("div", { class: "charts" }, ...charts));
}

/** The trend of metadata ``keys`` across a model's versions (x = version number), the versions
 *  that entered production marked. ``versions`` come sorted by number. */
export function trendSection(keys, versions, promoted, flat) {
  if (!keys.length) return null;
  const charts = keys.slice(0, 4).map((key) => {
    const points = versions
      .map((v) => ({ step: v.number, value: flat(v.metadata)[key] }))
      .filter((p) => typeof p.value === "number");
    const marked = points.filter((p) => promoted.has(p.step));
    return seriesChart(key, [{ label: key, points }, { label: "entered production", points: marked, markers: true }], "trend-chart", "version");
  });
  return section("Trends across versions", h("div", { class: "charts" }, ...charts));
}
