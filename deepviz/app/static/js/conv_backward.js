// The convolution's backward pass, cell by cell: ∂L/∂W (the input cross-correlated with the
// upstream gradient), ∂L/∂X (the upstream gradient, spread by the stride and bordered, under the
// flipped kernel, then the padding cropped) and ∂L/∂b (the upstream gradient's sum). The server
// computes every number; the page lays them out.
import { api, errorText, latest } from "./api.js";
import { fmt, product } from "./format.js";
import { player } from "./player.js";
import { numberTable } from "./render/table.js";
import { adopt, bindControls, onFollow, param, readState, writeState } from "./state.js";
import { statusLine } from "./status.js";

const $ = (id) => document.getElementById(id);
const TABLE = { // the page's parameters: the URL and the controls
  grad: param.oneOf(["dW", "dX", "db"], "dX", "gradient"),
  n: param.integer(3, 7, "4", "size"),
  k: param.integer(1, 3, "2", "ksize"),
  s: param.integer(1, 3, "1", "stride"),
  p: param.integer(0, 2, "0", "padding"),
  d: param.integer(1, 2, "1", "dilation"),
  up: param.oneOf(["ones", "count", "random"], "count", "upstream"),
  seed: param.integer(0, 999999999, "1"),
  pos: param.integer(0, 1000, "0"),
};
const { state } = readState(TABLE);
const backward = latest(api.convBackward, statusLine($("back-status")));

const EXPLAIN = {
  dW: "Weight W[i, j] met one input pixel at every output position, and each meeting's output got "
    + "gradient G there. So ∂L/∂W[i, j] adds up input × G over all output positions: lay G over the "
    + "padded input (its values S apart, because the kernel jumped S pixels), starting D·i rows and "
    + "D·j columns in. That is the cross-correlation of the input with the upstream gradient.",
  dX: "An input pixel fed every output whose window covered it, each time through one weight. To "
    + "collect those paths, put S − 1 zeros between the values of G (the stride's jumps), surround it "
    + "with D(K − 1) zeros, and slide the kernel turned 180° over it: the full convolution of G with "
    + "the kernel. It gives a gradient for every cell of the padded input; the padding's cells (grey) "
    + "are constant zeros, not inputs, so their gradients are cropped away.",
  db: "The bias was added to every output pixel, so each output's gradient reaches it unchanged: "
    + "∂L/∂b is the sum of G.",
};

// Reproducible whole numbers from the seed: the input 0..9, then the kernel −2..2 (drawing, not maths).
function numbers(seed, n, k) {
  let x = Number(seed) * 2654435761 % 4294967296;
  const next = () => (x = (1664525 * x + 1013904223) % 4294967296) / 4294967296;
  const input = Array.from({ length: n }, () => Array.from({ length: n }, () => Math.floor(next() * 10)));
  const kernel = Array.from({ length: k }, () => Array.from({ length: k }, () => Math.floor(next() * 5) - 2));
  return { input, kernel };
}

// The side of the grid the positions walk over: the kernel (dW), the padded input (dX), one cell (db).
function side() {
  return { dW: Number(state.k), dX: Number(state.n) + 2 * Number(state.p), db: 1 }[state.grad];
}

function picked(cell, i, j) { // is (i, j) one of the numbers the cell's window takes?
  const rows = cell.window.length, cols = cell.window[0].length;
  const [si, sj] = cell.step;
  const a = (i - cell.top) / si, b = (j - cell.left) / sj;
  return Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b >= 0 && a < rows && b < cols;
}

function sumText(cell) {
  const p = Number(state.p);
  const name = { dW: `∂L/∂W[${cell.row}, ${cell.col}]`, dX: `∂L/∂X[${cell.row - p}, ${cell.col - p}]`, db: "∂L/∂b" }[cell.gradient];
  const terms = cell.window.flat().map((v, i) => product(v, cell.factor.flat()[i]));
  const shown = terms.length > 16 ? `${terms.slice(0, 16).join(" + ")} + …` : terms.join(" + ");
  const note = cell.cropped ? " (a cell of the padding: computed, then cropped)" : "";
  return `${name} = ${shown} = ${fmt(cell.total, 4)}${note}`;
}

function draw(data, pos, count) {
  const cell = data.cell;
  const kind = state.grad;
  $("back-input").replaceChildren(numberTable(data.input, { digits: 2, label: "input" }));
  $("back-kernel").replaceChildren(numberTable(data.kernel, { digits: 2, label: "kernel" }));
  $("back-upstream").replaceChildren(numberTable(data.upstream, { digits: 2, label: "upstream gradient" }));
  $("back-explain").textContent = EXPLAIN[kind];
  const p = Number(state.p);
  const n = data.input.length;
  const border = (i, j) => i < p || j < p || i >= n + p || j >= n + p;
  let left, leftCaption, factorCaption;
  if (kind === "dW") {
    left = numberTable(data.padded, { digits: 2, label: "padded input",
      marks: (i, j) => [...(border(i, j) ? ["pad"] : []), ...(picked(cell, i, j) ? ["window"] : [])] });
    leftCaption = "Input with padding: the numbers this weight met";
    factorCaption = "times the upstream G";
  } else if (kind === "dX") {
    const kinds = { border: ["pad"], inserted: ["inserted"], value: [] };
    left = numberTable(data.spread, { digits: 2, label: "spread upstream gradient",
      marks: (i, j) => [...kinds[data.spread_kind[i][j]], ...(picked(cell, i, j) ? ["window"] : [])] });
    leftCaption = `G spread: ${Number(state.s) - 1} zero(s) between values (yellow), a border of zeros (grey)`;
    factorCaption = "times the kernel turned 180°";
  } else {
    left = numberTable(data.upstream, { digits: 2, label: "upstream gradient", marks: () => ["window"] });
    leftCaption = "Every value of G";
    factorCaption = "times 1";
  }
  $("back-window").replaceChildren(left);
  $("window-caption").textContent = leftCaption;
  $("factor-caption").textContent = factorCaption;
  $("back-factor").replaceChildren(numberTable(cell.factor, { digits: 3, label: "factor" }));
  $("back-products").replaceChildren(numberTable(cell.products, { digits: 3, label: "products" }));
  const result = { dW: data.dW, dX: data.dX_padded, db: [[data.db]] }[kind];
  const w = result[0].length;
  const shown = result.map((row, i) => row.map((v, j) => (i * w + j <= pos ? v : null)));
  $("back-result").replaceChildren(numberTable(shown, { digits: 4, coloured: false, label: "gradient so far",
    marks: (i, j) => [...(kind === "dX" && border(i, j) && i * w + j <= pos ? ["pad"] : []),
      ...(i * w + j === pos ? ["window"] : i * w + j > pos ? ["empty"] : [])] }));
  $("result-caption").textContent = { dW: "∂L/∂W filling in", dX: "∂L/∂X of the padded input filling in", db: "∂L/∂b" }[kind];
  const finished = kind === "dX" && pos === count - 1;
  $("back-final-line").hidden = !finished;
  $("back-final").replaceChildren(...(finished ? [numberTable(data.dX, { digits: 4, label: "input gradient" })] : []));
  $("back-sum").textContent = sumText(cell);
  $("back-agrees").textContent = data.agrees
    ? "✓ These numbers equal what the engine's own autograd gives for F.conv2d (loss.backward())."
    : "✗ These numbers differ from the engine's autograd.";
  $("back-pos").max = String(count - 1);
  $("back-pos").value = String(pos);
  $("back-where").textContent = `position ${pos + 1} of ${count}`;
}

async function refresh() {
  const count = side() ** 2;
  if (Number(state.pos) >= count) state.pos = "0";
  writeState(state);
  for (const key of ["size", "ksize", "stride", "padding", "dilation"]) $(`${key}-value`).textContent = $(key).value;
  const pos = Number(state.pos);
  const { input, kernel } = numbers(state.seed, Number(state.n), Number(state.k));
  const width = side();
  const answer = await backward({ input, kernel, upstream: state.up, seed: Number(state.seed),
    stride: Number(state.s), padding: Number(state.p), dilation: Number(state.d),
    cell: { gradient: state.grad, row: Math.floor(pos / width), col: pos % width } });
  if (!answer) return;
  $("back-error").hidden = answer.ok;
  if (!answer.ok) {
    $("back-error").textContent = errorText(answer.data);
    for (const id of ["back-window", "back-factor", "back-products", "back-result", "back-final"]) $(id).replaceChildren();
    $("back-sum").textContent = "";
    return;
  }
  draw(answer.data, pos, count);
}

let play = null;
function moveTo(pos) {
  state.pos = String(Math.max(0, Math.min(pos, side() ** 2 - 1)));
  refresh();
}
bindControls(TABLE, state, () => { play.stop(); state.pos = "0"; refresh(); });
onFollow((followed) => { // classroom mode: the instructor's gradient, sizes, numbers and position
  if (adopt(TABLE, state, followed).size) refresh();
});
$("seed").addEventListener("click", () => { state.seed = String(Number(state.seed) + 1); refresh(); });
$("back-pos").addEventListener("input", () => { play.stop(); moveTo(Number($("back-pos").value)); });
$("back-step").addEventListener("click", () => { play.stop(); moveTo(Number(state.pos) + 1); });
$("back-back").addEventListener("click", () => { play.stop(); moveTo(Number(state.pos) - 1); });
$("back-reset").addEventListener("click", () => { play.stop(); moveTo(0); });
play = player($("back-play"), {
  advance: () => moveTo(Number(state.pos) + 1),
  done: () => Number(state.pos) >= side() ** 2 - 1,
  restart: () => moveTo(0),
  interval: 700,
});
refresh();
