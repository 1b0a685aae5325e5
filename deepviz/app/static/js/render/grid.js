// A tensor as a small labelled grid (HTML table); user text only ever goes in as text.
import { el, fmt, rows } from "../format.js";

export function grid(value, { kind = "value", caption = "" } = {}) {
  const table = el("table", { class: `grid ${kind}` });
  if (caption) table.append(el("caption", {}, caption));
  for (const row of rows(value)) {
    const tr = el("tr");
    for (const x of row) tr.append(el("td", {}, fmt(x, 3)));
    table.append(tr);
  }
  return table;
}
