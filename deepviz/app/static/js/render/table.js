// Small grids as HTML tables with their numbers, coloured like heatmaps; cells can be
// marked (the window under the kernel, padding, pixels no window reads).
import { el, fmt } from "../format.js";
import { colourScale, css } from "./heatmap.js";

// marks(i, j) -> list of class names for cell (i, j)
export function numberTable(grid, { caption = "", marks = () => [], digits = 3, coloured = true, label = "" } = {}) {
  const colour = coloured ? colourScale(grid) : null;
  const table = el("table", { class: "numbers" });
  if (label) table.setAttribute("aria-label", label);
  if (caption) table.append(el("caption", {}, caption));
  grid.forEach((row, i) => {
    const tr = el("tr");
    row.forEach((v, j) => {
      const td = el("td", { "data-row": String(i), "data-col": String(j) }, fmt(v, digits));
      const classes = marks(i, j);
      if (classes.length) td.className = classes.join(" ");
      if (colour && typeof v === "number") {
        const rgb = colour(v);
        td.style.background = css(rgb);
        td.style.color = rgb[0] * 0.3 + rgb[1] * 0.59 + rgb[2] * 0.11 > 140 ? "#111" : "#fff";
      }
      tr.append(td);
    });
    table.append(tr);
  });
  return table;
}
