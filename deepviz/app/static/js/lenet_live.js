// /lenet-live: a fresh LeNet-5 trained on the server (docs/lenet-live.md). The page sends the
// run's settings and the student's actions, and draws each frame it is sent: the curves, the
// kernels, the test digit's maps and probabilities; paused, it sends a drawing to test.
import { api } from "./api.js";
import { el, fmt } from "./format.js";
import { mnistStyle } from "./mnist.js";
import { probabilityBars } from "./render/bars.js";
import { drawingPad } from "./render/draw.js";
import { heatmap } from "./render/heatmap.js";
import { decode, drawLayers } from "./render/maps.js";
import { adopt, bindControls, onFollow, param, readState, writeState } from "./state.js";
import { trainingStream } from "./training_stream.js";

const $ = (id) => document.getElementById(id);
const MOST_DIGITS = Number($("digits").max);
const MOST_BATCH = Number($("batch").max);
const TABLE = {
  digits: { ...param.integer(100, MOST_DIGITS, "2000", "digits"), event: "change" },
  opt: param.oneOf(["adam", "sgd"], "adam", "optimizer"),
  lr: { ...param.number(0.00001, 1, "0.005", "lr"), event: "change" },
  batch: { ...param.integer(1, MOST_BATCH, "32", "batch"), event: "change" },
  schedule: param.oneOf(["constant", "step", "cosine"], "step", "schedule"),
};
const TITLES = { conv1: "conv1 + ReLU", pool1: "pool1", conv2: "conv2 + ReLU", pool2: "pool2", fc1: "fc1 + ReLU",
  fc2: "fc2 + ReLU", fc3: "fc3: logits" };
const CURVE_EVERY = 300; // ms between two redraws of the curves

const { state } = readState(TABLE);
let playing = false;
const curves = { steps: [], losses: [], evalSteps: [], accuracies: [], drawn: 0 };

const stream = trainingStream(api.lenetTrainStream, { open: configure, message: onMessage, state: link });

// The stream's state beside the player, and a button while it waits to reconnect.
function link(kind, text) {
  if (kind === "paused" || kind === "error") setPlaying(false); // the server closed the stream on purpose
  $("link-state").dataset.state = kind;
  $("link-state").textContent = text;
  $("reconnect").hidden = kind !== "offline";
}

function config() {
  return { digits: Number(state.digits), ...trainConfig() };
}

function trainConfig() { // what changes live
  return { optimizer: state.opt, lr: Number(state.lr), batch_size: Number(state.batch), schedule: state.schedule };
}

function configure() {
  if (stream.send({ type: "configure", config: config() }, true) && playing) stream.send({ type: "play" });
}

function setLive() {
  stream.send({ type: "set", train: trainConfig() }, true);
}

function onMessage(message) {
  if (message.type === "frame") {
    drawFrame(message);
    stream.send({ type: "ack", step: message.step });
  } else if (message.type === "test") {
    showTest(message);
  } else if (message.type === "error") {
    $("run-error").hidden = false;
    $("run-error").textContent = message.loc.length ? `${message.loc.join(" → ")}: ${message.msg}` : message.msg;
  }
}

function drawFrame(frame) {
  $("run-error").hidden = true;
  $("step-count").textContent = String(frame.step);
  $("epoch-count").textContent = frame.epoch.toFixed(2);
  $("lr-now").textContent = fmt(frame.lr_now, 3);
  if (frame.clear) Object.assign(curves, { steps: [], losses: [], evalSteps: [], accuracies: [] });
  for (const [step, loss] of frame.losses) { curves.steps.push(step); curves.losses.push(loss); }
  for (const [step, accuracy] of frame.accuracies) { curves.evalSteps.push(step); curves.accuracies.push(accuracy); }
  if (curves.accuracies.length) $("accuracy-now").textContent = `${(100 * curves.accuracies.at(-1)).toFixed(1)}%`;
  else $("accuracy-now").textContent = "–";
  $("accuracy-now").dataset.value = String(curves.accuracies.at(-1) ?? "");
  if (frame.stopped === "diverged") setPlaying(false, "the loss is no longer finite: lower the learning rate, then Reset");
  if (!playing || performance.now() - curves.drawn > CURVE_EVERY) drawCurves();
  drawKernels(frame.kernels);
  drawProbe(frame.probe);
}

function drawCurves() {
  curves.drawn = performance.now();
  if (!window.Plotly) return;
  window.Plotly.react($("curves"), [
    { x: curves.steps, y: curves.losses, mode: "lines", name: "minibatch loss", line: { color: "#0072B2", width: 1.5 } },
    { x: curves.evalSteps, y: curves.accuracies, mode: "lines+markers", name: "validation accuracy", yaxis: "y2",
      line: { color: "#D55E00", width: 2 }, marker: { size: 4 } },
  ], {
    margin: { t: 50, r: 50, b: 40, l: 50 }, height: 300, datarevision: curves.steps.length + curves.evalSteps.length,
    legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0 }, // above the plot, on two lines on a phone
    xaxis: { title: { text: "step" }, rangemode: "tozero" },
    yaxis: { title: { text: "loss" }, rangemode: "tozero" },
    yaxis2: { title: { text: "accuracy" }, overlaying: "y", side: "right", range: [0, 1], dtick: 0.2, tickformat: ".0%" },
  }, { displayModeBar: false, responsive: true });
}

// One scale per layer, symmetric around 0 (heatmap's diverging map), so that kernels compare.
function kernelCanvas(kernel, range) {
  const canvas = el("canvas", { class: "pixels kernel" });
  const grid = kernel.map((row) => row.slice());
  grid.range = range;
  heatmap(canvas, grid, { cell: 6, signed: true });
  return canvas;
}

function drawKernels(kernels) {
  const one = decode(kernels.conv1), two = decode(kernels.conv2);
  const r1 = [kernels.conv1.min, kernels.conv1.max], r2 = [kernels.conv2.min, kernels.conv2.max];
  $("kernels1").replaceChildren(...one.map((k) => kernelCanvas(k, r1)));
  const rows = Array.from({ length: two.length / 6 }, (_, o) => el("div", { class: "kernel-row" },
    el("span", { class: "counter" }, String(o + 1)), ...two.slice(6 * o, 6 * o + 6).map((k) => kernelCanvas(k, r2))));
  $("kernels2").replaceChildren(...rows);
}

function drawProbe(probe) {
  heatmap($("probe-input"), decode(probe.input), { cell: 3, gray: true });
  $("probe-label").textContent = String(probe.label);
  $("probe-prediction").textContent = `${probe.prediction} (${(100 * probe.probabilities[probe.prediction]).toFixed(1)}%)`;
  probabilityBars($("probe-probabilities"), probe.probabilities, { best: probe.prediction, marked: probe.label });
  drawLayers($("layers"), probe.layers, TITLES, () => {});
}

function setPlaying(on, note = "") {
  playing = on;
  $("play").textContent = on ? "⏸ Pause" : "▶ Play";
  $("play").setAttribute("aria-pressed", String(on));
  $("draw-box").hidden = on;
  $("draw-paused").textContent = on ? "Pause the training, then draw a digit." : note || "Draw a digit: both networks read it.";
  if (!on) drawCurves();
}

// -- the drawing pad: the half-trained network against the shipped one ---------------------------
let testTimer = null;
const pad = drawingPad($("pad"), () => {
  clearTimeout(testTimer);
  testTimer = setTimeout(sendTest, 120);
});

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function sendTest() {
  const ink = pad.ink();
  const { pixels } = mnistStyle(ink.alpha, ink.side, ink.side);
  if (!pixels) { showTest(null); return; }
  stream.send({ type: "test", ink: base64url(Uint8Array.from(pixels, (p) => Math.round(255 * Math.min(1, Math.max(0, p))))) }, true);
}

function showTest(answer) {
  for (const who of ["live", "shipped"]) {
    const reading = answer?.[who];
    $(`${who}-prediction`).textContent = reading ? `${reading.prediction} (${(100 * reading.probabilities[reading.prediction]).toFixed(1)}%)` : "–";
    probabilityBars($(`${who}-probabilities`), reading ? reading.probabilities : Array(10).fill(0), { best: reading?.prediction ?? null });
  }
  if (answer) $("test-step").textContent = String(answer.step);
}

// -- the controls ------------------------------------------------------------------------------
$("play").addEventListener("click", () => {
  setPlaying(!playing);
  stream.send({ type: playing ? "play" : "pause" });
});
$("step").addEventListener("click", () => { setPlaying(false); stream.send({ type: "step" }, true); });
$("reset").addEventListener("click", () => stream.send({ type: "reset" }, true));
$("reconnect").addEventListener("click", () => stream.connect());
$("clear").addEventListener("click", () => pad.clear());
$("undo").addEventListener("click", () => pad.undo());

bindControls(TABLE, state, (key) => {
  const table = TABLE[key];
  try {
    state[key] = table.read($(table.control).value);
  } catch (error) {
    $("run-error").hidden = false;
    $("run-error").textContent = `${key}: ${error.message}`;
    return;
  }
  writeState(state);
  if (key === "digits") configure();
  else setLive();
});

// Classroom mode: the instructor's settings, applied to this student's own run, as the
// instructor's page applies them (docs/classroom.md): the optimizer, the learning rate, its
// schedule and the batch size live, without a reset; the training digits, a new run. Play, pause, step, reset and
// the weights stay the student's: each student trains and pauses to draw on their own run.
onFollow((followed) => {
  const changed = adopt(TABLE, state, followed);
  if (!changed.size) return;
  $("run-error").hidden = true;
  if (changed.has("digits")) configure();
  else setLive();
});

setPlaying(false);
showTest(null);
stream.connect();
