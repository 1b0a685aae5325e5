// The adversarial-digits page (chapter 8): pick or draw a digit, attack it (FGSM or the
// iterated attack, untargeted or towards a class) on the standard or the adversarially trained
// LeNet-5, and show the change, both readings, the smallest ε that works, and both models'
// accuracy against ε. The server computes everything; this page draws what it sends.
import { api, errorText, latest } from "./api.js";
import { el, fmt } from "./format.js";
import { probabilityBars } from "./render/bars.js";
import { drawingPad } from "./render/draw.js";
import { heatmap } from "./render/heatmap.js";
import { decode } from "./render/maps.js";
import { adopt, bindControls, onFollow, param, readState, refuse, writeState } from "./state.js";
import { statusLine } from "./status.js";

const $ = (id) => document.getElementById(id);
const MODELS = { standard: "the standard LeNet-5", robust: "the adversarially trained LeNet-5" };
const TABLE = { // the page's parameters: the URL and the controls
  model: param.oneOf(Object.keys(MODELS), "standard", "model"),
  target: param.oneOf(["", ..."0123456789"], "", "target"), // "": untargeted
  eps: param.number(0, Number($("eps").max), "0.1", "eps"), // up to the smallest-ε search's top
  steps: { ...param.integer(1, Number($("steps").max), "10", "steps"), event: "change" },
  digit: param.custom((text) => { // a gallery digit, by its index in the MNIST test set
    if (!/^\d{1,5}$/.test(text)) throw new Error("expected the index of a test digit");
    return text;
  }, ""),
};
const { state } = readState(TABLE);
let source = null; // what is attacked: {pixels} (a gallery digit) or {image} (a drawing)
let gallery = []; // the test digits, as the server sent them
let curves = null; // bench/robustness.py's numbers

const attack = latest(api.adversarial, statusLine($("attack-status"), "the attack"));
const search = latest(api.adversarialSmallest, statusLine($("search-status"), "the smallest ε"));
const digits = latest(api.adversarialDigits, statusLine($("digits-status"), "the digits"), { persist: true });
const robustness = latest(api.robustness, statusLine($("curves-status"), "the curves"), { persist: true });

function settings() {
  return { steps: Number(state.steps), model: state.model, target: state.target === "" ? null : Number(state.target) };
}

const wanted = () => (state.target === "" ? "another digit" : `a ${state.target}`);
const pct = (p) => `${(100 * p).toFixed(1)}%`;

// -- the attack ---------------------------------------------------------------------------
async function run() {
  if (!source) return;
  const answer = await attack({ ...source, ...settings(), epsilon: Number(state.eps) });
  if (!answer) return;
  if (!answer.ok) return ($("verdict").textContent = errorText(answer.data));
  show(answer.data);
}

function show(a) {
  const target = a.target === null ? null : a.target;
  heatmap($("original"), a.original, { cell: 6, gray: true });
  heatmap($("perturbation"), a.perturbation, { cell: 6, signed: true });
  heatmap($("perturbed"), a.pixels, { cell: 6, gray: true });
  $("before-read").textContent = `read as ${a.original_prediction} (${pct(a.original_probabilities[a.original_prediction])})`;
  $("after-read").textContent = `read as ${a.prediction} (${pct(a.probabilities[a.prediction])})`;
  $("after-read").dataset.flipped = String(a.flipped);
  $("scale").textContent = a.perturbation_linf > 0
    ? `colour scale ±${fmt(a.perturbation_linf, 3)} (the largest change)`
    : "no pixel changed";
  probabilityBars($("before"), a.original_probabilities, { best: a.original_prediction, marked: target });
  probabilityBars($("after"), a.probabilities, { best: a.prediction, marked: target });
  const how = `${Number(state.steps) === 1 ? "FGSM" : `${state.steps} steps`} at ε = ${fmt(Number(state.eps), 3)}`;
  $("verdict").dataset.flipped = String(a.flipped);
  $("verdict").textContent = a.flipped
    ? `Fooled: ${a.original_prediction} is now read as ${a.prediction} (${how}, ${MODELS[a.model]}).`
    : `Not fooled: still read as ${a.prediction}, not ${wanted()} (${how}, ${MODELS[a.model]}).`;
}

// -- the smallest ε: it does not depend on ε, so the ε slider does not ask again -------------
async function findSmallest() {
  if (!source) return;
  $("smallest").textContent = "";
  const answer = await search({ ...source, ...settings() });
  if (!answer) return;
  if (!answer.ok) return ($("smallest").textContent = errorText(answer.data));
  const { epsilon, below, exact, grid, steps } = answer.data;
  const with_ = steps === 1 ? "FGSM" : `${steps} steps`;
  $("smallest").dataset.epsilon = epsilon === null ? "" : String(epsilon);
  if (epsilon === null) $("smallest").textContent = `No ε up to ${fmt(grid[1], 3)} makes it read ${wanted()} (${with_}).`;
  else if (epsilon === 0) $("smallest").textContent = `It already reads ${wanted()}.`;
  else if (!exact) {
    $("smallest").textContent = `Smallest ε that makes it read ${wanted()} (${with_}): between ${fmt(below, 3)} and `
      + `${fmt(epsilon, 3)} (the server ran out of time to narrow it: try fewer steps).`;
  } else {
    $("smallest").textContent = `Smallest ε that makes it read ${wanted()} (${with_}): ${fmt(epsilon, 3)}, `
      + `${pct(epsilon)} of the brightness range (${fmt(below, 3)} does not).`;
  }
}

function attackAll() {
  run();
  findSmallest();
}

// -- what is attacked: a gallery digit or a drawing ------------------------------------------
function drawGallery() {
  $("digits").replaceChildren(...gallery.map((d) => {
    const canvas = el("canvas", { class: "pixels" });
    heatmap(canvas, decode(d.pixels), { cell: 2, gray: true });
    const button = el("button", { type: "button", class: "digit-pick", "data-index": String(d.index),
      "aria-label": `test digit ${d.index}, a ${d.label}`, "aria-pressed": "false" }, canvas);
    button.addEventListener("click", () => pick(d));
    return button;
  }));
}

function pick(d) {
  state.digit = String(d.index);
  writeState(state);
  for (const b of $("digits").children) b.setAttribute("aria-pressed", String(b.dataset.index === state.digit));
  // the bytes the server sent, back as pixels in [0, 1]
  source = { pixels: decode(d.pixels).map((row) => row.map((v) => Math.min(1, Math.max(0, v)))) };
  attackAll();
}

let scheduled = null;
function drawingChanged() {
  if (pad.empty()) return;
  state.digit = "";
  writeState(state);
  for (const b of $("digits").children) b.setAttribute("aria-pressed", "false");
  clearTimeout(scheduled); // the attack and the search run once the pen rests
  scheduled = setTimeout(() => {
    source = { image: pad.dataURL() };
    attackAll();
  }, 250);
}

// -- both models' accuracy against ε (measured by bench/robustness.py) -----------------------
const COLOURS = { standard: "#0072B2", robust: "#D55E00" };
const ATTACKS = { fgsm: ["FGSM", "solid"], iterated: ["iterated", "dash"] };

function drawCurves() {
  if (!curves || !window.Plotly) return;
  const traces = [];
  for (const [name, found] of Object.entries(curves.models)) {
    for (const [attackName, [label, dash]] of Object.entries(ATTACKS)) {
      traces.push({ x: curves.epsilons, y: found[attackName].map((a) => 100 * a), mode: "lines+markers",
        name: `${name === "robust" ? "adversarially trained" : "standard"}, ${label}`,
        line: { color: COLOURS[name], dash, width: 2 } });
    }
  }
  const eps = Number(state.eps);
  window.Plotly.react($("curves"), traces, {
    // the legend above the axes: below them (y < 0) it covered the axis title "ε" on a phone,
    // where its four entries wrap onto four lines and the plot's height shrinks
    margin: { t: 10, r: 10, b: 45, l: 50 }, height: 330,
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    xaxis: { title: { text: "ε" }, range: [0, Math.max(0.3, eps) + 0.01] },
    yaxis: { title: { text: "test accuracy (%)" }, range: [0, 101] },
    shapes: [{ type: "line", x0: eps, x1: eps, y0: 0, y1: 100, line: { color: "#888", width: 1, dash: "dot" } }],
  }, { displayModeBar: false, responsive: true });
}

function drawTable() {
  const head = el("tr", {}, el("th", { scope: "col" }, "model, attack"),
    ...curves.epsilons.map((e) => el("th", { scope: "col" }, `ε = ${e}`)));
  const rows = [];
  for (const [name, found] of Object.entries(curves.models)) {
    for (const [attackName, [label]] of Object.entries(ATTACKS)) {
      rows.push(el("tr", {}, el("th", { scope: "row" }, `${name === "robust" ? "adversarially trained" : name}, ${label}`),
        ...found[attackName].map((a) => el("td", {}, `${(100 * a).toFixed(1)}`))));
    }
  }
  $("curves-table").replaceChildren(el("table", { class: "results" },
    el("caption", {}, "Test accuracy (%)"), el("thead", {}, head), el("tbody", {}, ...rows)));
}

async function loadCurves() {
  const answer = await robustness();
  if (!answer) return;
  curves = answer.data.curves;
  const { standard, robust } = answer.data.models;
  $("curves-help").textContent = `Test digits attacked untargeted, knowing their true labels: FGSM on all ${curves.images.fgsm.toLocaleString("en")}, `
    + `the iterated attack (${curves.steps} steps) on the first ${curves.images.iterated.toLocaleString("en")}. The dotted line is your ε.`;
  $("models-note").textContent = `Clean test accuracy: standard ${pct(standard.test_accuracy)}; adversarially trained `
    + `(ε = ${robust.adversarial_epsilon}, ${robust.epochs} epochs) ${pct(robust.test_accuracy)}.`;
  drawTable();
  drawCurves();
}

async function loadDigits() {
  const answer = await digits();
  if (!answer) return;
  gallery = answer.data;
  drawGallery();
  const chosen = state.digit === "" ? gallery[0] : gallery.find((d) => String(d.index) === state.digit);
  if (!chosen) {
    refuse("digit", state.digit, "not one of the digits shown", "");
    return pick(gallery[0]);
  }
  pick(chosen);
}

// -- wiring -----------------------------------------------------------------------------------
const pad = drawingPad($("pad"), drawingChanged);
$("clear").addEventListener("click", () => pad.clear());
$("undo").addEventListener("click", () => pad.undo());
function labels() {
  $("eps-value").textContent = fmt(Number(state.eps), 3);
  $("steps-name").textContent = Number(state.steps) === 1 ? "one step: FGSM" : "the iterated attack";
}
bindControls(TABLE, state, (key) => {
  writeState(state);
  labels();
  if (key === "eps") {
    drawCurves();
    return run(); // the smallest ε does not depend on ε
  }
  attackAll();
});
// Classroom mode: the instructor's digit, model, target, ε or steps, rendered in place (a
// drawing of the instructor's own is not in the URL: the student's page keeps what it shows).
onFollow((followed) => {
  const changed = adopt(TABLE, state, followed);
  if (!changed.size) return;
  labels();
  const chosen = changed.has("digit") && gallery.find((d) => String(d.index) === state.digit);
  if (chosen) return pick(chosen);
  if (changed.size === 1 && changed.has("eps")) {
    drawCurves();
    return run();
  }
  attackAll();
});
labels();
probabilityBars($("before"), Array(10).fill(0));
probabilityBars($("after"), Array(10).fill(0));
window.addEventListener("load", drawCurves); // plotly is loaded with defer: it may come after the curves
loadDigits();
loadCurves();
