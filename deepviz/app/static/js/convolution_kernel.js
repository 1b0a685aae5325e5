// The convolution page's kernel editor: a grid of number inputs, one per weight, and the
// text a kernel of one's own is kept as in the URL (w=1,0,-1;2,0,-2;1,0,-1).
import { el } from "./format.js";

// "1,0,-1;2,0,-2;1,0,-1": the rows of a kernel of your own
export function readWeights(text) {
  const rows = text.split(";").map((r) => r.split(",").map((v) => (v.trim() === "" ? NaN : Number(v))));
  if (rows.some((r) => r.some((v) => !Number.isFinite(v)))) throw new Error("expected numbers, a row's joined by commas, the rows by semicolons");
  if (rows.length > 11 || rows.some((r) => r.length !== rows[0].length || r.length > 11)) throw new Error("expected a rectangle of at most 11×11 weights");
  return rows;
}

// The kernel `values` as inputs in `container`; after each edit, onEdit(text): the grid's
// weights as readWeights reads them (an empty or half-typed weight counts as 0).
export function kernelEditor(container, values, onEdit) {
  const table = el("table", { class: "kernel-inputs" });
  const weights = () => [...table.querySelectorAll("tr")].map((tr) => [...tr.querySelectorAll("input")].map((i) => Number(i.value) || 0));
  values.forEach((row, i) => {
    const tr = el("tr");
    row.forEach((v, j) => {
      const input = el("input", { type: "number", step: "any", value: String(Number(v.toFixed(4))), "aria-label": `weight row ${i + 1} column ${j + 1}` });
      input.addEventListener("input", () => onEdit(weights().map((r) => r.join(",")).join(";")));
      tr.append(el("td", {}, input));
    });
    table.append(tr);
  });
  container.replaceChildren(table);
}
