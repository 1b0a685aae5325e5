// The gradient-check table: autodiff, central difference, relative error, symbolic.
import { el, fmt, plural } from "../format.js";
import { grid } from "./grid.js";

function verdict(err) {
  if (err === null || err === undefined) return "";
  if (typeof err === "string") return "bad";
  return err < 1e-6 ? "good" : err < 1e-3 ? "fair" : "bad";
}

const cell = (v, kind) => (Array.isArray(v) ? grid(v, { kind }) : fmt(v, 8));

// `out`: the output's label (f, L, …), as the graph names it.
export function drawCheck(container, check, note, out = "f") {
  if (!check) {
    container.replaceChildren(el("p", { class: "help" }, note || "No check for this graph."));
    return;
  }
  const table = el("table", { class: "check" });
  table.append(el("thead", {}, el("tr", {},
    el("th", { scope: "col" }, "input"), el("th", { scope: "col" }, "autodiff"),
    el("th", { scope: "col" }, `central difference (h = ${check.h})`), el("th", { scope: "col" }, "relative error"),
    el("th", { scope: "col" }, "symbolic derivative"), el("th", { scope: "col" }, "its size"))));
  const body = el("tbody");
  for (const v of check.variables) {
    const sym = v.symbolic;
    const err = v.relative_error;
    body.append(el("tr", { "data-name": v.name },
      el("th", { scope: "row" }, `∂${out}/∂${v.name}`),
      el("td", { class: "autodiff" }, cell(v.autodiff, "grad")),
      el("td", { class: "numeric" }, cell(v.numeric, "value")),
      el("td", { class: `relerr ${verdict(err)}` }, err === null ? "–" : fmt(err, 2)),
      el("td", { class: "symbolic" }, sym ? (sym.text ?? "(too large to print)") : "–"),
      el("td", {}, sym ? plural(sym.size, "node") : "–")));
  }
  table.append(body);
  const caption = el("p", { class: "help" },
    `The function's own expression has ${plural(check.function_size, "node")}.`,
    ...check.notes.map((n) => ` ${n[0].toUpperCase()}${n.slice(1)}.`));
  container.replaceChildren(table, caption);
}
