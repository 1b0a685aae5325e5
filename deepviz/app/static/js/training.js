// The training lab (/training): a run described by the page's controls (and its URL), trained
// on the server and streamed over a WebSocket (docs/training.md); each frame is drawn, then
// acknowledged, so that the server never runs more than two frames ahead of the screen.
import { api } from "./api.js";
import { fmt } from "./format.js";
import { lossCurves } from "./render/curves.js";
import { drawNetwork } from "./render/network.js";
import { drawPlane, planePoint } from "./render/plane.js";
import { adopt, bindControls, forget, onFollow, param, readState, refuse, writeState } from "./state.js";
import { pointsText, readCsvFile, readPoints } from "./training_data.js";
import { drawLayers, list, readActivations, readHidden } from "./training_layers.js";
import { OPTIMIZER_NAMES, programPanel, racePanel, refreshProgram, showProgram } from "./training_panels.js";
import { trainingStream } from "./training_stream.js";

const $ = (id) => document.getElementById(id);
const MOST_POINTS = Number($("most-points").textContent);
const MOST_CUSTOM = Math.min(MOST_POINTS, 400); // clicked or uploaded points: a link carries them all
const DATASETS = ["blobs", "xor", "circles", "moons", "spiral", "sine", "custom"];

const TABLE = { // the run: the URL and the controls
  data: param.oneOf(DATASETS, "xor", "dataset"),
  noise: param.number(0, 0.5, "0.1", "noise"),
  points: param.integer(20, MOST_POINTS, "200", "points"),
  test: param.number(0.1, 0.5, "0.3", "test-fraction"),
  seed: param.integer(0, 999999, "0", "seed"),
  hidden: param.custom(readHidden, "8,8"),
  act: param.custom(readActivations, "tanh,tanh"),
  dropout: param.oneOf(["0", "0.1", "0.2", "0.3", "0.4", "0.5"], "0", "dropout"),
  opt: param.oneOf(Object.keys(OPTIMIZER_NAMES), "adam", "optimizer"),
  lr: param.number(0.00001, 10, "0.03", "lr"),
  batch: param.integer(1, MOST_POINTS, "10", "batch"),
  l2: param.number(0, 1, "0", "l2"),
  schedule: param.oneOf(["constant", "step", "cosine"], "constant", "schedule"),
  pts: param.custom((text) => { readPoints(text, MOST_CUSTOM); return text; }, ""),
};
for (const key of ["seed", "lr", "batch", "l2"]) TABLE[key].event = "change"; // typed digit by digit
const { state } = readState(TABLE);
let custom = readPoints(state.pts, MOST_CUSTOM); // the student's own points
if (list(state.act).length !== list(state.hidden).length) { // one activation per hidden layer
  refuse("act", state.act, `${list(state.hidden).length} hidden layers need as many activations`, "tanh for each");
  state.act = list(state.hidden).map(() => "tanh").join(",");
}

// The plane before the server has described it (the protocol's grid), so that the first
// points of one's own can be clicked onto an empty plane.
const FIRST_GRID = { size: 40, extent: [-1.5, 1.5, -1.5, 1.5] };
let configured = null; // the run last sent
let model = null; // the last `model` message
let clicked = false; // points of one's own were clicked since the last model: draw them as they are
let frame = null; // the last frame drawn
let regression = false; // the sine: a curve, not classes
let playing = false;
let update = null; // colours the network's drawing from a frame
const curves = lossCurves($("loss-plot"));

// -- the run -----------------------------------------------------------------------------
function trainConfig() {
  return { optimizer: state.opt, lr: Number(state.lr), momentum: 0.9, batch_size: Number(state.batch),
    l2: Number(state.l2), schedule: state.schedule, damping: 0.001 };
}

function config() {
  const hidden = list(state.hidden).map(Number);
  return {
    data: { name: state.data, points: Number(state.points), noise: Number(state.noise),
      test_fraction: Number(state.test), seed: Number(state.seed),
      custom: state.data === "custom" ? custom : null },
    model: { hidden, activation: list(state.act), dropout: Number(state.dropout) },
    train: trainConfig(),
    seed: Number(state.seed),
  };
}

function save() {
  state.pts = state.data === "custom" ? pointsText(custom) : "";
  writeState(state);
}

// A new run (data or model changed): sent shortly after the last change, so that a slider
// dragged across sends one run, not twenty. A followed change (`wait` 0) goes at once, unless
// a run was sent less than CONFIGURE_GAP ago.
const CONFIGURE_GAP = 150; // ms
let configureTimer = null;
let configuredAt = -Infinity; // performance.now() of the last run sent
function configureSoon(wait = CONFIGURE_GAP) {
  save();
  clearTimeout(configureTimer);
  configureTimer = setTimeout(configure, Math.max(wait, configuredAt + CONFIGURE_GAP - performance.now()));
}

function configure() {
  clearTimeout(configureTimer);
  configuredAt = performance.now();
  showError("");
  if (state.data === "custom" && custom.length === 0) {
    $("own-count").textContent = "No points yet: click the plane, or upload a CSV.";
    return;
  }
  configured = config();
  if (stream.send({ type: "configure", config: configured }, true) && playing) stream.send({ type: "play" });
}

// The server refused a message; the run goes on as it was. A refused live change (Newton on a
// model too big for its Hessian) puts the controls and the URL back to what the run still uses.
let lastSet = null;
function refused(m) {
  showError(m.msg);
  if (m.loc?.[0] !== "train" || !lastSet) return;
  Object.assign(state, lastSet);
  for (const [key, value] of Object.entries(lastSet)) $(TABLE[key].control).value = value;
  trainBefore = { ...lastSet };
  lastSet = null;
  save();
  refreshProgram(config);
}

function showError(text) {
  $("run-error").hidden = !text;
  $("run-error").textContent = text;
}

// -- the stream --------------------------------------------------------------------------
function link(kind, text) {
  if (kind === "paused" || kind === "error") setPlaying(false); // the server closed the stream on purpose
  $("link-state").dataset.state = kind;
  $("link-state").textContent = text;
  $("reconnect").hidden = kind !== "offline";
}

const stream = trainingStream(api.trainStream, {
  state: link,
  open: configure,
  message(m) {
    if (m.type === "model") showModel(m);
    else if (m.type === "frame") received(m);
    else if (m.type === "error") refused(m);
  },
});

// Frames are drawn at most once per animation frame (the newest), and every frame received is
// acknowledged once it, or a newer one, is on the screen.
let newest = null;
let unacknowledged = [];
function received(m) {
  newest = m;
  unacknowledged.push(m.step);
  curves.add(m);
  if (unacknowledged.length === 1) requestAnimationFrame(drawNewest);
}

function drawNewest() {
  if (!newest) return;
  drawFrame(newest);
  for (const step of unacknowledged) stream.send({ type: "ack", step });
  unacknowledged = [];
}

// -- drawing -----------------------------------------------------------------------------
function showModel(m) {
  model = m;
  frame = null;
  clicked = false;
  newest = null;
  unacknowledged = [];
  regression = m.classes < 2; // the sine: classes 0, a regression
  $("parameters").textContent = String(m.parameters);
  if (typeof m.formula === "string" && m.formula.startsWith("<math")) $("formula").innerHTML = m.formula; // the server's MathML
  showProgram(m.program, configured);
  update = drawNetwork($("network"), m.layers, { regression });
  const nTrain = m.points.train.length, nTest = m.points.test.length;
  $("n-points").textContent = String(nTrain + nTest);
  $("n-train").textContent = String(nTrain);
  $("n-test").textContent = String(nTest);
  $("metric-name").textContent = regression ? "Test error (mean squared)" : "Test accuracy";
  $("metric-words").textContent = regression ? "the mean squared error on the test points"
    : "the share of test points classified right";
  $("own-count").textContent = state.data === "custom" ? `${custom.length} points of your own.` : "";
  curves.clear();
  drawOutput();
}

function percent(v) {
  return typeof v === "number" ? `${(100 * v).toFixed(1)}%` : "–";
}

function drawFrame(f) {
  frame = f;
  $("step-count").textContent = String(f.step);
  $("epoch-count").textContent = fmt(f.epoch, 3);
  $("lr-now").textContent = fmt(f.lr, 3);
  $("train-loss").textContent = $("j-now").textContent = fmt(f.train_loss, 3);
  $("test-loss").textContent = $("test-loss-now").textContent = fmt(f.test_loss, 3);
  const metric = regression ? fmt(f.test_loss, 3) : percent(f.test_accuracy);
  $("test-accuracy").textContent = $("metric-now").textContent = metric;
  showNote(f);
  update?.(f, model.grid.units);
  drawOutput();
}

// What the server reports of the run beside its numbers: a divergence, Newton's fallback.
function showNote(f) {
  const notes = [];
  if (f.stopped === "diverged") {
    notes.push("The run diverged: the loss overflowed and training stopped. Lower the learning rate (or add damping), then Reset.");
    if (playing) setPlaying(false);
  }
  if (f.newton?.fell_back) {
    notes.push(`Newton: the Hessian is not positive definite here (smallest eigenvalue ${fmt(f.newton.smallest_eigenvalue, 3)}), so its step would head for a saddle or a maximum: this step fell back to a gradient step.`);
  } else if (f.newton) {
    notes.push(`Newton: the Hessian is positive definite here (smallest eigenvalue ${fmt(f.newton.smallest_eigenvalue, 3)}): a Newton step.`);
  }
  $("run-note").hidden = notes.length === 0;
  $("run-note").textContent = notes.join(" ");
}

function drawOutput() {
  const own = state.data === "custom" && (clicked || !model);
  if (!model && !own) return;
  drawPlane($("plane"), { grid: model?.grid ?? FIRST_GRID, classes: model?.classes ?? 2, regression: regression && !own,
    boundary: frame?.boundary ?? null, train: own ? custom : model.points.train, test: own ? [] : model.points.test,
    showTest: $("show-test").checked });
}

// -- the controls ------------------------------------------------------------------------
function setPlaying(on) {
  playing = on;
  $("play").textContent = on ? "❚❚ Pause" : "▶ Play";
  $("play").setAttribute("aria-pressed", String(on));
}

$("play").addEventListener("click", () => {
  setPlaying(!playing);
  stream.send({ type: playing ? "play" : "pause" });
});
$("step").addEventListener("click", () => {
  if (playing) { setPlaying(false); stream.send({ type: "pause" }); }
  stream.send({ type: "step" }, true);
});
$("reset").addEventListener("click", () => {
  curves.clear();
  stream.send({ type: "reset" }, true);
});
$("reconnect").addEventListener("click", () => stream.connect());
$("show-test").addEventListener("change", drawOutput);

const TRAIN_KEYS = new Set(["opt", "lr", "batch", "l2", "schedule"]);
const trainValues = () => Object.fromEntries([...TRAIN_KEYS].map((k) => [k, state[k]]));
let trainBefore = trainValues(); // the training settings before the last live change
// A change of the training settings goes to the run live, without a reset.
function setLive() {
  save();
  showError("");
  if (stream.send({ type: "set", train: trainConfig() })) lastSet = { ...trainBefore };
  trainBefore = trainValues();
  refreshProgram(config);
}

bindControls(TABLE, state, (key) => {
  showValues();
  if (TRAIN_KEYS.has(key)) return setLive();
  if (key === "data") startOwnData(false);
  configureSoon();
});

// Classroom mode: the instructor's settings, applied to this student's own run (its weights,
// steps and play/pause stay the student's: docs/classroom.md). The training settings alone
// changed: set live, as the instructor's page did; the data or the model: a new run, sent at
// once (a slider dragged by the instructor: at most one run per CONFIGURE_GAP).
onFollow((followed) => {
  const changed = adopt(TABLE, state, followed);
  if (!changed.size) return;
  showValues();
  if ([...changed].every((key) => TRAIN_KEYS.has(key))) return setLive();
  custom = readPoints(state.pts, MOST_CUSTOM);
  clicked = false;
  trainBefore = trainValues();
  drawLayers(state, () => configureSoon());
  configureSoon(0);
});

function showValues() {
  $("noise-value").textContent = state.noise;
  $("points-value").textContent = state.points;
  $("test-value").textContent = `${Math.round(100 * Number(state.test))}%`;
  $("points").disabled = state.data === "custom";
}

// -- the student's own points --------------------------------------------------------------
function dataError(text) {
  $("data-error").hidden = !text;
  $("data-error").textContent = text;
}

// Custom data start from the points on the plane (a classification's), so that a click adds to them.
function startOwnData(select) {
  if (state.data === "custom" && custom.length === 0 && model && !regression) {
    custom = [...model.points.train, ...model.points.test].slice(0, MOST_CUSTOM)
      .map(([x, y, label]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100, label]);
  }
  if (select) {
    $("dataset").value = state.data = "custom";
    forget("data");
  }
  showValues();
}

$("plane").addEventListener("pointerdown", (event) => {
  const [x, y] = planePoint($("plane"), (model?.grid ?? FIRST_GRID).extent, event);
  if (Math.abs(x) > 1.05 || Math.abs(y) > 1.05) return dataError("Points lie in the square [-1, 1]²: click inside it.");
  if (state.data !== "custom") {
    if (regression) custom = [];
    state.data = "custom";
    startOwnData(true);
  }
  if (custom.length >= MOST_CUSTOM) return dataError(`At most ${MOST_CUSTOM} points of your own.`);
  dataError("");
  const label = Number(document.querySelector("input[name=click-class]:checked").value);
  const clamp = (v) => Math.round(Math.max(-1, Math.min(1, v)) * 100) / 100;
  custom.push([clamp(x), clamp(y), label]);
  clicked = true;
  $("own-count").textContent = `${custom.length} points of your own.`;
  drawOutput();
  configureSoon();
});

$("clear-points").addEventListener("click", () => {
  custom = [];
  state.data = "custom";
  startOwnData(true);
  dataError("");
  clicked = true;
  frame = null;
  drawOutput();
  save();
  configure();
});

$("csv").addEventListener("change", async () => {
  const file = $("csv").files[0];
  if (!file) return;
  try {
    custom = await readCsvFile(file, MOST_CUSTOM);
  } catch (error) {
    dataError(`${file.name}: ${error.message}.`);
    return;
  } finally {
    $("csv").value = ""; // the same file chosen again is read again
  }
  dataError("");
  state.data = "custom";
  startOwnData(true);
  configureSoon();
});

// -- start -------------------------------------------------------------------------------
showValues();
drawLayers(state, () => configureSoon());
programPanel();
racePanel(config, () => model?.parameters ?? null);
stream.connect();
new ResizeObserver(drawOutput).observe($("plane"));
