// Figure 2.1: the loss curve with gradient descent's steps on it (plotly), and their table.
import { el, fmt } from "../format.js";

export function drawDescent(plotEl, tableEl, data, parameter) {
  const finite = data.steps.filter((s) => typeof s.theta === "number" && typeof s.loss === "number");
  const curve = { x: data.curve_theta, y: data.curve_loss.map((v) => (typeof v === "number" ? v : null)),
    mode: "lines", name: "loss", line: { color: "#0072B2" } };
  const path = { x: finite.map((s) => s.theta), y: finite.map((s) => s.loss), mode: "lines+markers+text",
    name: "steps", text: finite.map((s) => String(s.step)), textposition: "top center",
    marker: { color: "#D55E00", size: 8 }, line: { color: "#D55E00", dash: "dot" } };
  if (window.Plotly) {
    window.Plotly.react(plotEl, [curve, path], {
      margin: { t: 20, r: 10, b: 40, l: 50 }, height: 300, showlegend: false,
      xaxis: { title: { text: parameter } }, yaxis: { title: { text: "loss" } },
    }, { displayModeBar: false, responsive: true });
  }
  const table = el("table", { class: "steps" });
  table.append(el("tr", {}, ...["step", parameter, "loss", `∂L/∂${parameter}`].map((h) => el("th", { scope: "col" }, h))));
  for (const s of data.steps) {
    table.append(el("tr", {}, el("td", {}, String(s.step)), el("td", {}, fmt(s.theta)),
      el("td", {}, fmt(s.loss)), el("td", {}, fmt(s.gradient))));
  }
  tableEl.replaceChildren(table);
}
