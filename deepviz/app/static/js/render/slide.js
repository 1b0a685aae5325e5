// The sliding-kernel figure: the padded input with the window under the kernel, the
// kernel as laid, the products, the output filling in, and the formula with its numbers.
import { fmt, plural, product } from "../format.js";
import { numberTable } from "./table.js";

// The input with its padding ring (zeros, shown grey) and the kernel's window marked.
export function paddedInput(input, padding, detail, dropped) {
  const h = input.length, w = input[0].length;
  const grid = [];
  for (let i = -padding; i < h + padding; i++) {
    const row = [];
    for (let j = -padding; j < w + padding; j++) row.push(i < 0 || j < 0 || i >= h || j >= w ? 0 : input[i][j]);
    grid.push(row);
  }
  const span = detail ? detail.weights.length : 0;
  return numberTable(grid, {
    digits: 2,
    label: "input with padding",
    marks: (i, j) => {
      const r = i - padding, c = j - padding;
      const classes = [];
      if (r < 0 || c < 0 || r >= h || c >= w) classes.push("pad");
      else if (dropped.rows.includes(r) || dropped.cols.includes(c)) classes.push("dropped");
      if (detail && r >= detail.top && r < detail.top + span && c >= detail.left && c < detail.left + span) classes.push("window");
      return classes;
    },
  });
}

export function outputSoFar(output, position) {
  const w = output[0].length;
  const shown = output.map((row, i) => row.map((v, j) => (i * w + j <= position ? v : null)));
  return numberTable(shown, {
    digits: 3,
    coloured: false,
    label: "output",
    marks: (i, j) => (i * w + j === position ? ["window"] : i * w + j > position ? ["empty"] : []),
  });
}

// "W′ = ⌊(W − K + 2P) / S⌋ + 1 = ⌊(8 − 3 + 2·1) / 1⌋ + 1 = 8", for one axis.
export function formulaText(g, axis) {
  const kTerm = g.dilation === 1 ? `${g.kernel}` : `${g.dilation}·(${g.kernel} − 1) − 1`;
  const general = g.dilation === 1 ? `⌊(${axis} − K + 2P) / S⌋ + 1` : `⌊(${axis} − D(K − 1) − 1 + 2P) / S⌋ + 1`;
  return `${axis}′ = ${general} = ⌊(${g.input} − ${kTerm} + 2·${g.padding}) / ${g.stride}⌋ + 1 = ⌊${g.numerator} / ${g.stride}⌋ + 1 = ${g.output}`;
}

export function droppedText(height, width) {
  const parts = [];
  const last = (n, one) => (n === 1 ? `the last ${one}` : `the last ${plural(n, one)}`);
  if (!width.divides) parts.push(`S = ${width.stride} does not divide ${width.numerator}, so the floor drops ${last(width.numerator % width.stride, "column")} of the padded input`);
  if (!height.divides) {
    const n = height.numerator % height.stride;
    parts.push(`S = ${height.stride} does not divide ${height.numerator}: ${last(n, "row")} ${n === 1 ? "is" : "are"} dropped`);
  }
  const lost = [];
  const named = (list, one) => `${list.length === 1 ? one : `${one}s`} ${list.join(", ")}`; // "column 7", "columns 6, 7"
  if (width.dropped.length) lost.push(named(width.dropped, "column"));
  if (height.dropped.length) lost.push(named(height.dropped, "row"));
  if (lost.length) parts.push(`no window ever reads image ${lost.join(" and ")} (crossed out)`);
  return parts.length ? parts.join("; ") + "." : "Every pixel is read by some window.";
}

export function sumText(d) {
  const terms = d.patch.flat().map((p, k) => product(p, d.weights.flat()[k]));
  const shown = terms.length > 12 ? `${terms.slice(0, 12).join(" + ")} + …` : terms.join(" + ");
  return `out[${d.row}, ${d.col}] = ${shown} = ${fmt(d.total, 4)}, plus bias ${fmt(d.bias, 3)} = ${fmt(d.value, 4)}`;
}

export function smallTable(grid, label) {
  return numberTable(grid, { digits: 3, label });
}

