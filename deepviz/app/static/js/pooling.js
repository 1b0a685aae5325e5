// The pooling page: max and average pooling on numbers and on a photograph, with the
// backward pass (where each upstream gradient goes).
import { all, api, errorText, latest } from "./api.js";
import { heatmap } from "./render/heatmap.js";
import { numberTable } from "./render/table.js";
import { adopt, bindControls, onFollow, param, readState, writeState } from "./state.js";
import { statusLine } from "./status.js";

const $ = (id) => document.getElementById(id);
const TABLE = { // the page's parameters: the URL and the controls
  kind: param.oneOf(["max", "avg"], "max", "kind"),
  k: param.integer(1, 4, "2", "kernel"),
  s: param.integer(1, 4, "2", "pstride"),
  seed: param.integer(0, 999999999, "1"),
  cell: param.custom((text) => { // an output whose window is marked (a question's reveal): "row.column"
    if (text !== "" && !/^\d+\.\d+$/.test(text)) throw new Error("expected row.column, as 1.2");
    return text;
  }, ""),
};
const { state } = readState(TABLE);
const pool = latest(api.pool, statusLine($("pool-status")));
const PHOTO = { preset: "camera", size: 64 };
const photos = latest(all((o) => api.pool({ grid: PHOTO, kind: "max", kernel: 4 }, o),
  (o) => api.pool({ grid: PHOTO, kind: "avg", kernel: 4 }, o)), statusLine($("photo-status"), "the photograph"), { persist: true });
const SIZE = 6;

// A reproducible grid of whole numbers 0..9 from the seed (drawing, not maths).
function numbers(seed) {
  let x = Number(seed) * 2654435761 % 4294967296;
  return Array.from({ length: SIZE }, () => Array.from({ length: SIZE }, () => {
    x = (1664525 * x + 1013904223) % 4294967296;
    return Math.floor((x / 4294967296) * 10);
  }));
}

let hover = null; // the output cell under the pointer, else the state's cell
let last = null;

function windowOf(i, j) {
  const k = Number(state.k), s = Number(state.s);
  return { top: i * s, left: j * s, bottom: i * s + k - 1, right: j * s + k - 1 };
}

function draw() {
  const d = last;
  $("pool-input").replaceChildren(numberTable(d.input, { digits: 2, label: "input" }));
  const out = numberTable(d.output, { digits: 3, label: "output" });
  out.addEventListener("mouseover", (e) => {
    const td = e.target.closest("td");
    if (td) highlight([Number(td.dataset.row), Number(td.dataset.col)]);
  });
  $("pool-output").replaceChildren(out);
  $("pool-output-caption").textContent = `Output, ${d.output.length}×${d.output[0].length}`;
  $("pool-upstream").replaceChildren(numberTable(d.upstream, { digits: 3, label: "upstream gradient" }));
  $("pool-gradient").replaceChildren(numberTable(d.gradient, { digits: 3, label: "input gradient" }));
  highlight(hover);
}

// Mark the window of output cell `cell` in the input and its gradient (classes only: the
// tables under the pointer are not rebuilt).
function highlight(cell) {
  hover = cell;
  const w = cell ? windowOf(...cell) : null;
  for (const id of ["pool-input", "pool-gradient"]) {
    for (const td of $(id).querySelectorAll("td")) {
      const i = Number(td.dataset.row), j = Number(td.dataset.col);
      td.classList.toggle("window", Boolean(w && i >= w.top && i <= w.bottom && j >= w.left && j <= w.right));
    }
  }
  for (const td of $("pool-output").querySelectorAll("td")) {
    td.classList.toggle("window", Boolean(cell && Number(td.dataset.row) === cell[0] && Number(td.dataset.col) === cell[1]));
  }
}

async function refresh() {
  writeState(state);
  $("kernel-value").textContent = state.k;
  $("stride-value").textContent = state.s;
  const grid = numbers(state.seed);
  const k = Number(state.k), s = Number(state.s);
  // upstream 1, 2, 3, …: every value of the input's gradient says which output it came from
  const answer = await pool({ grid, kind: state.kind, kernel: k, stride: s, upstream: "count" });
  if (!answer) return;
  $("pool-error").hidden = answer.ok;
  if (!answer.ok) { // not the last figures under this error
    $("pool-error").textContent = errorText(answer.data);
    last = null;
    for (const id of ["pool-input", "pool-output", "pool-upstream", "pool-gradient"]) $(id).replaceChildren();
    $("pool-output-caption").textContent = "Output";
    return;
  }
  last = answer.data;
  hover = state.cell ? state.cell.split(".").map(Number) : null;
  draw();
}

async function photo() {
  const answer = await photos();
  if (!answer) return;
  $("photo-error").hidden = answer.ok;
  if (!answer.ok) return ($("photo-error").textContent = errorText(answer.data));
  const [mx, avg] = answer.data;
  heatmap($("photo-input"), mx.input, { cell: 4, gray: true });
  heatmap($("photo-max"), mx.output, { cell: 16, gray: true });
  heatmap($("photo-avg"), avg.output, { cell: 16, gray: true });
  $("photo-max-caption").textContent = `max pooling, K = S = 4: ${mx.output.length}×${mx.output.length}`;
  $("photo-avg-caption").textContent = `average pooling, K = S = 4: ${avg.output.length}×${avg.output.length}`;
}

bindControls(TABLE, state, () => { state.cell = ""; refresh(); });
onFollow((followed) => { // classroom mode: the instructor's kernel, stride, kind, numbers or marked cell
  if (adopt(TABLE, state, followed).size) refresh();
});
$("seed").addEventListener("click", () => { state.seed = String(Number(state.seed) + 1); state.cell = ""; refresh(); });
refresh();
photo();
