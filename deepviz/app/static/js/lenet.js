// The LeNet-5 page: draw, stream frames over a WebSocket (latest frame wins), and show
// the prediction, every layer, receptive fields, saliency, kernels and mistakes. The URL
// carries the drawing as the network saw it (`ink`), so a link, a class's gallery or the
// instructor's pad shows it here; a class followed is rendered in place (deepviz:follow).
import { api, errorText, latest, serverAnswered } from "./api.js";
import { el } from "./format.js";
import { drawingPad } from "./render/draw.js";
import { heatmap } from "./render/heatmap.js";
import { inkLevels, inkRows } from "./render/ink.js";
import { decode, drawLayers } from "./render/maps.js";
import { bindControls, param, readState, refuse, writeState } from "./state.js";
import { statusLine } from "./status.js";

const $ = (id) => document.getElementById(id);
const TABLE = { // the page's parameters: the URL and the controls
  target: param.oneOf(["", ..."0123456789"], "", "target"), // the class saliency explains ("": the prediction)
  mistake: param.custom((text) => {
    if (!/^\d{1,6}$/.test(text)) throw new Error("expected the index of a test digit");
    return text;
  }, ""),
  ink: param.custom((text) => { // the 28×28 the network saw (render/ink.js)
    if (!inkLevels(text)) throw new Error("expected a 28×28 drawing: 784 levels in base64url, 1,046 characters");
    return text;
  }, ""),
};
const { state } = readState(TABLE);
let geometry = null; // the conv and pool layers, for receptive fields, once the model has loaded
let stackNames = []; // their names, in order
let titles = {}; // each layer's caption, by name
let frame = null; // the last answer
let field = null; // the clicked unit's region on the input
let source = null; // what was last sent: {image} or {pixels}
let under = null; // the levels of the drawing from the URL, under the student's strokes
let mistakeList = null; // the mistakes gallery, once loaded

const model = latest(api.lenetModel, statusLine($("model-status"), "the model"), { persist: true });
const mistakes = latest(api.lenetMistakes, statusLine($("mistakes-status"), "the mistakes"), { persist: true });
const unitField = latest(api.receptiveField, statusLine($("unit-status")));

// -- the stream: at most one frame in flight; the newest drawing is sent when it returns --
const SLOW = 1500; // ms without an answer before the page says it is waiting
const FRAME_TIMEOUT = 15000; // ms without an answer before the stream is dropped and opened again
let socket = null;
let inFlight = false;
let dirty = false;
let nextId = 0;
let retry = 1000; // the next reconnection's delay (ms): doubles after each failure, up to 30 s
let idle = false; // closed by the server for idleness: reconnect when the student draws again
let reconnectTimer = null;
let slowTimer = null;
let frameTimer = null;

// The stream's state, beside the drawing: a polite live region, and a button while it waits to reconnect.
function link(kind, text) {
  $("link-state").dataset.state = kind;
  $("link-state").textContent = text;
  $("reconnect").hidden = kind !== "offline";
}

function connect() {
  clearTimeout(reconnectTimer);
  idle = false;
  const mine = new WebSocket(api.lenetStream());
  socket = mine;
  link("loading", "connecting…");
  mine.addEventListener("open", () => {
    if (socket !== mine) return;
    retry = 1000;
    serverAnswered(); // the requests waiting to retry may go now
    link("live", "live");
    if (dirty) send();
  });
  mine.addEventListener("message", (event) => {
    if (socket !== mine) return;
    answered();
    let answer;
    try {
      answer = JSON.parse(event.data);
    } catch {
      answer = { error: { msg: "an unreadable answer" } };
    }
    if (answer.error) {
      link("error", answer.error.msg);
      if (/skipped/.test(answer.error.msg) && source) setTimeout(() => { dirty = true; send(); }, 500); // the drawing still needs its answer
    } else {
      link("live", "live");
      show(answer);
    }
    if (dirty) send();
  });
  mine.addEventListener("close", (event) => {
    if (socket === mine) lost(event.code);
  });
}

function answered() {
  inFlight = false;
  clearTimeout(slowTimer);
  clearTimeout(frameTimer);
}

// The stream closed (or stopped answering): say so, and open it again after a while.
function lost(code) {
  if (inFlight && source) dirty = true; // the frame in flight is lost: send the drawing again
  answered();
  socket = null;
  if (code === 1000) {
    idle = true;
    link("paused", "paused: draw to resume");
    return;
  }
  // 1013: the server is full. Wait longer, and with jitter, so that a full hall does not
  // come back all at once.
  const base = code === 1013 ? Math.max(retry, 5000) : retry;
  const wait = Math.round(base * (0.5 + Math.random()));
  retry = Math.min(2 * base, 30000);
  const inSeconds = `${Math.max(1, Math.round(wait / 1000))} s`;
  link("offline", code === 1013 ? `the server is full: trying again in ${inSeconds}`
    : `the server is not answering: reconnecting in ${inSeconds}`);
  reconnectTimer = setTimeout(connect, wait);
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
  slowTimer = setTimeout(() => link("loading", "waiting for the server…"), SLOW);
  frameTimer = setTimeout(() => { // no answer: drop this stream and open another
    const stuck = socket;
    socket = null;
    stuck.close();
    dirty = true;
    lost(4000);
  }, FRAME_TIMEOUT);
}

let scheduled = false;
function drawingChanged() {
  state.mistake = "";
  if (pad.empty()) keepInk("");
  writeState(state);
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {  // at most one frame per animation frame
    scheduled = false;
    if (pad.empty()) return showEmpty();
    // the image from the URL alone is sent as its levels: read exactly as the class's gallery read it
    source = pad.drawn() ? { image: pad.dataURL() } : { pixels: inkRows(under, 1 / 255) };
    send();
  });
}

// -- the drawing in the URL (`ink`): from a link, the class's gallery, or the instructor's pad --
const INK_EVERY = 250; // ms: the URL (and a driven class) gets the drawing at most this often
let inkTimer = null;
let nextInk = "";

function showInk(ink) {
  under = inkLevels(ink);
  pad.show(under);
  state.ink = ink;
  state.mistake = "";
  source = { pixels: inkRows(under, 1 / 255) };
  send();
}

// The drawing as the network saw it goes into the URL ("" at once; a drawing at most every INK_EVERY ms).
function keepInk(ink) {
  nextInk = ink;
  if (ink === "") {
    clearTimeout(inkTimer);
    inkTimer = null;
    state.ink = "";
  }
  if (inkTimer || state.ink === ink) return;
  inkTimer = setTimeout(() => {
    inkTimer = null;
    if (state.ink === nextInk || !source) return;
    state.ink = nextInk;
    writeState(state);
  }, INK_EVERY);
}

// -- drawing the answer -----------------------------------------------------------------
function showEmpty() {
  source = null;
  frame = null;
  $("prediction").textContent = "–";
  $("confidence").textContent = "";
  showNote("");
  $("layers").replaceChildren();
  drawProbabilities(Array(10).fill(0));
  for (const id of ["seen", "saliency"]) $(id).getContext("2d").clearRect(0, 0, $(id).width, $(id).height);
}

function show(answer) {
  if (answer.prediction === null) return showEmpty();
  frame = answer;
  $("prediction").textContent = String(answer.prediction);
  $("confidence").textContent = `(${(100 * answer.probabilities[answer.prediction]).toFixed(1)}%)`;
  showNote(answer.note ?? "");
  drawProbabilities(answer.probabilities, answer.prediction);
  if (state.mistake === "" && source) keepInk(answer.ink); // a mistake is in the URL by its index
  drawInput();
  drawLayers($("layers"), answer.layers, titles, unitClicked);
  heatmap($("saliency"), decode(answer.saliency), { cell: 8, signed: true });
}

// A word from the server about the drawing ("this drawing is very small: … draw bigger").
function showNote(note) {
  $("note").hidden = !note;
  $("note").textContent = note ? `${note[0].toUpperCase()}${note.slice(1)}.` : "";
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
  if (!geometry) {
    $("unit-field").textContent = "The model's layers have not loaded yet: trying again.";
    return loadModel(); // the next action retries at once
  }
  const answer = await unitField({ layers: geometry, input_size: 28, effective: false,
    unit: { layer: stackNames.indexOf(layer) + 1, row, col } });
  if (!answer) return;
  if (!answer.ok) return ($("unit-field").textContent = errorText(answer.data));
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
  keepInk("");
  state.mistake = String(m.index);
  writeState(state);
  source = { pixels: pixels.map((row) => row.map((v) => Math.min(1, Math.max(0, v)))) };
  send();
}

// -- wiring -----------------------------------------------------------------------------
const pad = drawingPad($("pad"), drawingChanged);
$("clear").addEventListener("click", () => pad.clear());
$("undo").addEventListener("click", () => pad.undo());
$("reconnect").addEventListener("click", connect);
bindControls(TABLE, state, () => { writeState(state); send(); });
drawProbabilities(Array(10).fill(0));
connect();

async function loadModel() {
  const answer = await model();
  if (!answer) return;
  const { layers, manifest, kernels } = answer.data;
  // the conv and pool layers, in order, make the stack receptive fields are computed through
  const stack = layers.filter((l) => l.kernel !== null);
  stackNames = stack.map((l) => l.name);
  geometry = stack.map(({ type, kernel, stride, padding }) => ({ type, kernel, stride, padding }));
  titles = Object.fromEntries(layers.map((l) => [l.name, l.title]));
  $("accuracy").textContent = `${(100 * manifest.test_accuracy).toFixed(2)}%`;
  drawKernels(kernels);
}

async function loadMistakes() {
  const answer = await mistakes();
  if (!answer) return;
  const list = answer.data;
  mistakeList = list;
  drawMistakes(list);
  if (state.mistake === "") return;
  const m = list.find((x) => String(x.index) === state.mistake);
  if (m) return loadMistake(m, decode(m.pixels));
  refuse("mistake", state.mistake, "not one of the mistakes shown below", "");
  state.mistake = "";
  writeState(state);
}

loadModel();
loadMistakes();
if (state.ink !== "") showInk(state.ink); // a link's drawing (the mistake, if both, is left out)

// -- classroom mode (classbar.js) -------------------------------------------------------------
// The class this tab follows moved on /lenet: render its state here, without a reload.
window.addEventListener("deepviz:follow", (event) => {
  event.preventDefault();
  const next = {};
  for (const [key, p] of Object.entries(TABLE)) {
    try {
      next[key] = p.read(event.detail.state?.[key] ?? p.fallback);
    } catch {
      next[key] = p.fallback; // as a link's refused value: left out
    }
  }
  const retarget = next.target !== state.target;
  state.target = next.target;
  $("target").value = next.target;
  if (next.ink !== "") {
    if (next.ink !== state.ink || pad.drawn()) showInk(next.ink);
  } else if (next.mistake !== "") {
    const m = mistakeList?.find((x) => String(x.index) === next.mistake);
    if (m && next.mistake !== state.mistake) loadMistake(m, decode(m.pixels));
    if (!mistakeList) state.mistake = next.mistake; // loadMistakes shows it
  } else if (!pad.empty() || state.mistake !== "") {
    pad.clear();
  }
  if (retarget) send();
  writeState(state);
});

// The bar's "Send my drawing" (a drawing poll) takes the 28×28 the network saw: 784 levels, nothing else.
window.addEventListener("deepviz:drawing", (event) => {
  const levels = frame && source ? inkLevels(frame.ink) : null;
  if (levels) event.detail.pixels = inkRows(levels);
});
