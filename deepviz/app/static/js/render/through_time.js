// Backpropagation through time (chapter 6): ‖∂L/∂h_t‖ at each time step t (plotly, log y),
// and the same numbers as a table. A step's gradient appears once the backward pass has
// reached its node h_t (`known`: the ids of the nodes whose gradient is known so far).
import { el, fmt } from "../format.js";

export function drawThroughTime(plotEl, tableEl, steps, known) {
  const reached = steps.filter((s) => known.has(s.node) && typeof s.norm === "number" && s.norm > 0);
  if (window.Plotly) {
    window.Plotly.react(plotEl, [{
      x: reached.map((s) => s.t), y: reached.map((s) => s.norm), mode: "lines+markers", name: "‖∂L/∂h_t‖",
      marker: { color: "#D55E00", size: 8 }, line: { color: "#D55E00" },
    }], {
      margin: { t: 20, r: 10, b: 40, l: 60 }, height: 280, showlegend: false,
      xaxis: { title: { text: "time step t" }, range: [-0.5, steps.length - 0.5], dtick: 1 },
      yaxis: { title: { text: "‖∂L/∂hₜ‖ (log scale)" }, type: "log", exponentformat: "power" },
    }, { displayModeBar: false, responsive: true });
  }
  const listed = steps.map((s) => `t = ${s.t}: ${known.has(s.node) ? fmt(s.norm) : "not yet"}`).join("; ");
  plotEl.setAttribute("aria-label", `Gradient size ‖∂L/∂h_t‖ per time step, log scale: ${listed}`);
  const table = el("table", { class: "steps", "aria-label": "‖∂L/∂h_t‖ per time step" });
  table.append(el("tr", {}, ...["t", "node", "‖∂L/∂hₜ‖"].map((h) => el("th", { scope: "col" }, h))));
  for (const s of steps) {
    table.append(el("tr", {}, el("td", {}, String(s.t)), el("td", {}, s.label),
      el("td", { class: "norm" }, known.has(s.node) ? fmt(s.norm) : "—")));
  }
  tableEl.replaceChildren(table);
}
