// The LeNet-5 page: draw, stream frames over a WebSocket (latest frame wins), and show
// the prediction, every layer, receptive fields, saliency, kernels and mistakes.
import { api } from "./api.js";
import { el } from "./format.js";
import { drawingPad } from "./render/draw.js";
import { heatmap } from "./render/heatmap.js";
import { decode, drawLayers } from "./render/maps.js";
import { readState, writeState } from "./state.js";

const $ = (id) => document.getElementById(id);
const { state } = readState({ target: "", mistake: "" });
let geometry = []; // the conv and pool layers, for receptive fields
let stackNames = []; // their names, in order
let titles = {}; // each layer's caption, by name
let frame = null; // the last answer
let field = null; // the clicked unit's region on the input
let source = null; // what was last sent: {image} or {pixels}

// -- the stream: at most one frame in flight; the newest drawing is sent when it returns --
let socket = null;
let inFlight = false;
let dirty = false;
let nextId = 0;
let retry = 1000; // the next reconnection's delay (ms): doubles after each failure, up to 30 s
let idle = false; // closed by the server for idleness: reconnect when the student draws again

function connect() {
  idle = false;
  socket = new WebSocket(api.lenetStream());
  socket.addEventListener("open", () => { retry = 1000; $("link-state").textContent = "live"; if (dirty) send(); });
  socket.addEventListener("message", (event) => {
    inFlight = false;
    const answer = JSON.parse(event.data);
    if (answer.error) $("link-state").textContent = answer.error.msg;
    else show(answer);
    if (dirty) send();
  });
  socket.addEventListener("close", (event) => {
    inFlight = false;
    if (event.code === 1000) {
      idle = true;
      $("link-state").textContent = "paused: draw to resume";
      return;
    }
    // 1013: the server is full. Wait longer, and with jitter, so that a full hall does not
    // come back all at once.
    const base = event.code === 1013 ? Math.max(retry, 5000) : retry;
    const wait = Math.round(base * (0.5 + Math.random()));
    retry = Math.min(2 * base, 30000);
    $("link-state").textContent = event.code === 1013
      ? `the server is full: trying again in ${Math.round(wait / 1000)} s`
      : "reconnecting…";
    setTimeout(connect, wait);
  });
}

function request() {
  const body = { ...source };
  if (state.target !== "") body.target = Number(state.target);
  return body;
}

function send() {
  if (!source) return;
  if (idle) connect();
  if (inFlight || !socket || socket.readyState !== WebSocket.OPEN) { dirty = true; return; }
  dirty = false;
  inFlight = true;
  socket.send(JSON.stringify({ id: ++nextId, ...request() }));
}

let scheduled = false;
function drawingChanged() {
  state.mistake = "";
  writeState(state);
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {  // at most one frame per animation frame
    scheduled = false;
    if (pad.empty()) return showEmpty();
    source = { image: pad.dataURL() };
    send();
  });
}

// -- drawing the answer -----------------------------------------------------------------
function showEmpty() {
  source = null;
  frame = null;
  $("prediction").textContent = "–";
  $("layers").replaceChildren();
  drawProbabilities(Array(10).fill(0));
  for (const id of ["seen", "saliency"]) $(id).getContext("2d").clearRect(0, 0, $(id).width, $(id).height);
}

function show(answer) {
  if (answer.prediction === null) return showEmpty();
  frame = answer;
  $("prediction").textContent = String(answer.prediction);
  drawProbabilities(answer.probabilities, answer.prediction);
  drawInput();
  drawLayers($("layers"), answer.layers, titles, unitClicked);
  heatmap($("saliency"), decode(answer.saliency), { cell: 8, signed: true });
}

function drawInput() {
  if (!frame) return;
  const outlines = field ? [{ ...field, colour: "#E69F00", width: 2 }] : [];
  heatmap($("seen"), decode(frame.input), { cell: 8, gray: true, outlines });
}

function drawProbabilities(p, best) {
  $("probabilities").replaceChildren(...p.map((v, d) => el("li", { class: d === best ? "best" : "", "data-digit": String(d) },
    el("span", { class: "digit" }, String(d)),
    el("span", { class: "bar" }, el("span", { class: "fill", style: `width:${(100 * v).toFixed(1)}%` })),
    el("span", { class: "pct" }, `${(100 * v).toFixed(1)}%`))));
}

async function unitClicked(layer, channel, row, col) {
  const answer = await api.receptiveField({ layers: geometry, input_size: 28, effective: false,
    unit: { layer: stackNames.indexOf(layer) + 1, row, col } });
  if (!answer.ok) return;
  const [top, left, bottom, right] = answer.data.regions[0];
  field = { top, left, bottom, right };
  $("unit-field").textContent = `${layer}, map ${channel + 1}, unit (${row}, ${col}) sees input rows ${top}–${bottom} and columns ${left}–${right}: ${bottom - top + 1}×${right - left + 1} pixels`;
  drawInput();
}

// -- the model's kernels and its mistakes -----------------------------------------------
function drawKernels(kernels) {
  const small = (k) => { const c = el("canvas", { class: "pixels kernel" }); heatmap(c, k, { cell: 6, signed: true }); return c; };
  $("kernels1").replaceChildren(...kernels.conv1.map((k) => small(k[0])));
  $("kernels2").replaceChildren(...kernels.conv2.map((bank, o) => el("div", { class: "kernel-row" },
    el("span", { class: "counter" }, `${o + 1}`), ...bank.map(small))));
}

function drawMistakes(list) {
  $("mistakes").replaceChildren(...list.map((m) => {
    const canvas = el("canvas", { class: "pixels" });
    const pixels = decode(m.pixels);
    heatmap(canvas, pixels, { cell: 2, gray: true });
    const button = el("button", { type: "button", class: "mistake", "aria-label": `test digit ${m.index}: a ${m.label} read as ${m.prediction}` },
      canvas, el("span", {}, `${m.label} → ${m.prediction}`));
    button.addEventListener("click", () => loadMistake(m, pixels));
    return button;
  }));
}

function loadMistake(m, pixels) {
  pad.clear();
  state.mistake = String(m.index);
  writeState(state);
  source = { pixels: pixels.map((row) => row.map((v) => Math.min(1, Math.max(0, v)))) };
  send();
}

// -- wiring -----------------------------------------------------------------------------
const pad = drawingPad($("pad"), drawingChanged);
$("clear").addEventListener("click", () => pad.clear());
$("undo").addEventListener("click", () => pad.undo());
$("target").value = state.target;
$("target").addEventListener("change", () => { state.target = $("target").value; writeState(state); send(); });
drawProbabilities(Array(10).fill(0));
connect();
api.lenetModel().then(({ data: model }) => {
  // the conv and pool layers, in order, make the stack receptive fields are computed through
  const stack = model.layers.filter((l) => l.kernel !== null);
  stackNames = stack.map((l) => l.name);
  geometry = stack.map(({ type, kernel, stride, padding }) => ({ type, kernel, stride, padding }));
  titles = Object.fromEntries(model.layers.map((l) => [l.name, l.title]));
  $("accuracy").textContent = `${(100 * model.manifest.test_accuracy).toFixed(2)}%`;
  drawKernels(model.kernels);
});
api.lenetMistakes().then(({ data: list }) => {
  drawMistakes(list);
  const m = list.find((x) => String(x.index) === state.mistake);
  if (m) loadMistake(m, decode(m.pixels));
});
