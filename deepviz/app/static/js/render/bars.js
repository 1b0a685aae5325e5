// Ten class probabilities as horizontal bars (an <ol start="0">), the highest one marked.
import { el } from "../format.js";

export function probabilityBars(list, p, { best = null, marked = null } = {}) {
  list.replaceChildren(...p.map((v, d) => el("li", {
    class: [d === best ? "best" : "", d === marked ? "marked" : ""].join(" ").trim(), "data-digit": String(d),
  },
  el("span", { class: "digit" }, String(d)),
  el("span", { class: "bar" }, el("span", { class: "fill", style: `width:${(100 * v).toFixed(1)}%` })),
  el("span", { class: "pct" }, `${(100 * v).toFixed(1)}%`))));
}
