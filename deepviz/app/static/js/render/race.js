// The optimizers' race (plotly): the surface's contour with each trajectory up to step t,
// the loss gap against step and the step sizes (log scales), and the table of results.
import { el, fmt } from "../format.js";

// One colour per racer, the same in every figure (Okabe–Ito, then two darker ones).
export const COLOURS = {
  gd: "#0072B2", sgd: "#56B4E9", minibatch: "#009E73", momentum: "#E69F00", nesterov: "#8C6D00",
  adam: "#CC79A7", rmsprop: "#7A4FA0", newton: "#D55E00", newton_safeguarded: "#222222",
};
const CONFIG = { displayModeBar: false, responsive: true };
const FONT = { family: "system-ui, sans-serif", size: 12 };

// The points of a trajectory up to step t (all of them when it stopped before t).
function upTo(trajectory, t) {
  return trajectory.points.slice(0, t + 1);
}

// What each plot last drew ({data, …}), so that moving to another step of the same race only
// moves the paths: smooth playback.
const drawn = new WeakMap();

function pathsAt(data, t) {
  const shown = data.trajectories.map((trajectory) => upTo(trajectory, t));
  return {
    x: shown.map((points) => points.map((p) => p[0])),
    y: shown.map((points) => points.map((p) => p[1])),
    "marker.size": shown.map((points) => points.map((_, i) => (i === points.length - 1 ? 10 : 4))),
  };
}

// The axes both layers of the map share, so that their plot areas coincide exactly.
function mapLayout(surface, compact, top) {
  const [x0, x1, y0, y1] = surface.extent;
  const names = surface.name === "logistic" ? ["w₁", "w₂"] : ["x", "y"];
  const hidden = top ? { showticklabels: false, showgrid: false, zeroline: false } : {};
  return {
    margin: { t: 10, r: 10, b: 40, l: 45 }, font: FONT, showlegend: false, height: compact ? 340 : 520,
    paper_bgcolor: top ? "rgba(0,0,0,0)" : "#fff", plot_bgcolor: "rgba(0,0,0,0)",
    xaxis: { range: [x0, x1], domain: [0, compact ? 1 : 0.86], title: { text: top ? "" : names[0] }, constrain: "domain", ...hidden },
    yaxis: { range: [y0, y1], title: { text: top ? "" : names[1] }, scaleanchor: "x", constrain: "domain", ...hidden },
    hovermode: "closest", clickmode: "event", dragmode: false,
  };
}

// The map in two layers: the contour below (drawn once per race: contouring is slow), and above
// it the paths, the minima and saddles, and an invisible grid that answers hovers and clicks
// anywhere (a click sets the start). Another step of the same race only restyles the paths.
export function drawMap(below, above, data, t, compact) {
  const last = drawn.get(above);
  if (last && last.data === data && last.compact === compact) {
    window.Plotly.restyle(above, pathsAt(data, t), data.trajectories.map((_, k) => last.first + k));
    return;
  }
  const { surface, contour } = data;
  window.Plotly.react(below, [{
    type: "contour", x: contour.x, y: contour.y, z: contour.z, name: contour.label, hoverinfo: "skip",
    colorscale: "YlGnBu", reversescale: true, ncontours: 24, showscale: !compact,
    contours: { coloring: "heatmap", showlines: true }, line: { width: 0.5, color: "rgba(255,255,255,.5)" },
    colorbar: { title: { text: contour.label, side: "right" }, thickness: 12, x: 0.9, xanchor: "left" },
  }], mapLayout(surface, compact, false), { ...CONFIG, staticPlot: true });
  const traces = [{
    type: "heatmap", x: contour.x, y: contour.y, z: contour.z, opacity: 0, showscale: false, name: "",
    hovertemplate: "x = %{x:.3f}<br>y = %{y:.3f}<extra>click: start here</extra>",
  }, {
    type: "scatter", mode: "markers", name: "minimum", x: surface.minima.map((m) => m[0]),
    y: surface.minima.map((m) => m[1]), marker: { symbol: "star", size: 14, color: "#fff", line: { color: "#111", width: 1.5 } },
    hovertemplate: "minimum (%{x:.3f}, %{y:.3f})<extra></extra>",
  }];
  if (surface.stationary.length) {
    traces.push({
      type: "scatter", mode: "markers", name: "saddle or maximum", x: surface.stationary.map((s) => s.x),
      y: surface.stationary.map((s) => s.y), text: surface.stationary.map((s) => s.kind),
      marker: { symbol: "x-thin", size: 11, line: { color: "#b3261e", width: 2.5 } },
      hovertemplate: "%{text} (%{x:.3f}, %{y:.3f})<extra></extra>",
    });
  }
  const first = traces.length;
  const paths = pathsAt(data, t);
  data.trajectories.forEach((trajectory, k) => {
    const colour = COLOURS[trajectory.name];
    traces.push({
      type: "scatter", mode: "lines+markers", name: trajectory.title, x: paths.x[k], y: paths.y[k],
      line: { color: colour, width: 2 }, cliponaxis: true, marker: { color: colour, size: paths["marker.size"][k] },
      hovertemplate: `${trajectory.title}<br>(%{x:.4g}, %{y:.4g})<extra></extra>`,
    });
  });
  const start = data.trajectories[0]?.points[0];
  if (start) {
    traces.push({ type: "scatter", mode: "markers", name: "start", x: [start[0]], y: [start[1]],
      marker: { symbol: "circle-open", size: 14, color: "#111", line: { width: 2.5 } }, hoverinfo: "skip" });
  }
  window.Plotly.react(above, traces, mapLayout(surface, compact, true), CONFIG);
  drawn.set(above, { data, compact, first });
}

// A marker at step t on each curve of a per-step series (loss gaps, or step sizes from step 1).
function series(target, data, t, pick, offset, title) {
  if (drawn.get(target)?.data === data) { // the same race at another step: only the marker line moves
    window.Plotly.relayout(target, { "shapes[0].x0": t, "shapes[0].x1": t });
    return;
  }
  drawn.set(target, { data });
  const traces = data.trajectories.map((trajectory) => {
    const values = pick(trajectory);
    const colour = COLOURS[trajectory.name];
    return { type: "scatter", mode: "lines", name: trajectory.title, x: values.map((_, i) => i + offset), y: values,
      line: { color: colour, width: 2 }, hovertemplate: `${trajectory.title}<br>step %{x}: %{y:.3g}<extra></extra>` };
  });
  window.Plotly.react(target, traces, {
    margin: { t: 10, r: 10, b: 40, l: 60 }, font: FONT, height: 300,
    legend: { orientation: "h", y: -0.25 }, showlegend: false,
    xaxis: { title: { text: "step" }, rangemode: "tozero" }, yaxis: { type: "log", title: { text: title }, exponentformat: "power" },
    shapes: [{ type: "line", x0: t, x1: t, yref: "paper", y0: 0, y1: 1, line: { color: "#999", dash: "dot", width: 1 } }],
  }, CONFIG);
}

export function drawLoss(target, data, t) {
  series(target, data, t, (trajectory) => trajectory.gaps, 0, "L − L* (from 10⁻¹⁶)");
}

export function drawSizes(target, data, t) {
  series(target, data, t, (trajectory) => trajectory.step_sizes.map((s) => (s > 0 ? s : null)), 1, "‖θₜ − θₜ₋₁‖");
}

// The table of results at step t: where each is, its loss, when it reached the minimum, what happened.
export function resultsTable(data, t) {
  const table = el("table", { class: "steps results" });
  table.append(el("tr", {}, ...["racer", "γ", "at step", "θ", "loss L", "L − L*", "reached the minimum", "notes"]
    .map((h) => el("th", { scope: "col" }, h))));
  for (const trajectory of data.trajectories) {
    const shown = upTo(trajectory, t);
    const step = shown.length - 1;
    const [x, y, loss] = shown[step];
    const swatch = el("span", { class: "racer-swatch" });
    swatch.style.background = COLOURS[trajectory.name];
    const reached = trajectory.reached === null ? "not yet" : `at step ${trajectory.reached}`;
    const notes = [...trajectory.notes];
    table.append(el("tr", { "data-name": trajectory.name },
      el("th", { scope: "row" }, swatch, trajectory.title),
      el("td", { class: "lr" }, fmt(trajectory.learning_rate)),
      el("td", { class: "step" }, trajectory.stopped && step < t ? `${step} (stopped)` : String(step)),
      el("td", { class: "theta" }, `(${fmt(x)}, ${fmt(y)})`),
      el("td", { class: "loss" }, fmt(loss)),
      el("td", { class: "gap" }, trajectory.gaps[step] <= 1e-16 ? "≤ 1e-16" : fmt(trajectory.gaps[step], 3)),
      el("td", { class: "reached", "data-step": trajectory.reached === null ? "" : String(trajectory.reached) }, reached),
      el("td", { class: "notes" }, notes.length ? notes.join("; ") : "–")));
  }
  return table;
}
