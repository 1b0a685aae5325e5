// The backprop page: build a graph from an expression, step through its forward and
// backward passes, check its gradients, and run gradient descent (figure 2.1).
import { api, errorText, latest } from "./api.js";
import { buildFrames, detail, narrate, viewAt } from "./backprop_steps.js";
import { el } from "./format.js";
import { drawCheck } from "./render/check.js";
import { drawDescent } from "./render/descent.js";
import { drawGraph } from "./render/graph.js";
import { drawThroughTime } from "./render/through_time.js";
import { player } from "./player.js";
import { adopt, bindControls, onFollow, param, readState, writeState } from "./state.js";
import { statusLine } from "./status.js";

const PRESETS = {
  notes: { expr: "(x + y) * z", values: "x = -2, y = 5, z = -4" },
  neuron: { expr: "sigmoid(w0*x0 + w1*x1 + w2)", values: "w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3" },
  fanout: { expr: "x * y + x", values: "x = 3, y = -4" },
  softmax: {
    expr: "z = W @ x + b; p = softmax(z); L = -log(p[y])",
    values: "W = [[0.2, -0.5], [1.5, 1.3], [0, 0.25]], x = [1, -2], b = [1.1, 3.2, -1.2], y = 2",
  },
};
const $ = (id) => document.getElementById(id);
const limit = (id) => Number($(id).dataset.limit); // a field's length limit, from the template (the server's)
const TABLE = { // the page's parameters: the URL and the controls
  preset: param.oneOf([...Object.keys(PRESETS), "rnn", "custom"], "notes", "preset"),
  T: param.integer(1, limit("rnn-steps"), "6", "rnn-steps"), // the unrolled network's time steps (preset rnn)
  regime: param.oneOf(["vanishing", "exploding"], "vanishing"), // its values: w = 0.5 or w = 3
  expr: param.text(PRESETS.notes.expr, limit("expression"), "expression"),
  values: param.text(PRESETS.notes.values, limit("values"), "values"),
  step: param.integer(0, 100000, "0"),
  phase: param.oneOf(["", "forward", "backward"], ""), // where a link starts: the forward or the backward pass
  h: param.oneOf(["0.1", "0.001", "0.00001", "1e-7", "1e-10", "1e-13"], "0.00001", "h"), // #h's options
  loss: param.text("(w - 3)^2 + 1", limit("loss"), "loss"),
  w0: param.number(-1e6, 1e6, "-1", "start"),
  lr: param.number(0, 1e6, "0.2", "lr"),
  n: param.integer(1, 100, "10", "steps"),
};

const { state, params } = readState(TABLE);
if (params.has("preset") && !params.has("expr") && PRESETS[state.preset]) Object.assign(state, PRESETS[state.preset]);
const graph = latest(api.graph, statusLine($("graph-status")));
const descent = latest(api.descent, statusLine($("descent-status")));
let data = null; // the last graph the server returned
let frames = []; // the timeline: start, one frame per forward node, one per backward step
let building = 0; // graphs asked for and not answered yet
let buildStart = 0; // where the graph asked for is shown (a followed step may move it meanwhile)

// -- values: "x = -2, W = [[1, 2], [3, 4]]" -> {x: -2, W: [[1, 2], [3, 4]]} -------------
export function parseValues(text) {
  const values = {};
  const parts = [];
  let depth = 0, start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === "[") depth++;
    else if (c === "]") depth--;
    else if (c === undefined || ((c === "," || c === ";") && depth === 0)) { // the end takes what is left, closed or not
      if (text.slice(start, i).trim()) parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  for (const part of parts) {
    const m = part.match(/^\s*([A-Za-z_][A-Za-z_0-9]*)\s*=\s*(.+?)\s*$/s);
    let value;
    try {
      value = m && JSON.parse(m[2]);
    } catch {
      value = undefined;
    }
    if (!m || value === undefined || value === null) throw new Error(`cannot read the value "${part.trim()}": write name = number or name = [list]`);
    values[m[1]] = value;
  }
  return values;
}

// -- the timeline -----------------------------------------------------------------------
// Where the figures a link names start: "forward-end" (every value known), "end" (every gradient known), or a step.
function startAt(start) {
  if (start === "forward-end") return data.nodes.length;
  if (start === "end") return frames.length - 1;
  return Number(start) || 0;
}

function show(index) {
  if (!data) return;
  state.step = String(Math.max(0, Math.min(index, frames.length - 1)));
  const i = Number(state.step);
  const view = viewAt(frames, i);
  drawGraph($("graph"), data, view);
  const steps = data.through_time ?? [];
  $("through-time").hidden = !steps.length;
  if (steps.length) drawThroughTime($("through-time-plot"), $("through-time-table"), steps, view.grads);
  $("narration").textContent = narrate(data, frames[i]);
  $("detail").replaceChildren(...detail(data, frames[i]));
  const phase = frames[i].phase === "start" ? "ready" : `${frames[i].phase} pass`;
  $("step-counter").textContent = `step ${i} of ${frames.length - 1} · ${phase}`;
  writeState(state);
}

function showError(target, message, position) {
  target.hidden = !message;
  target.textContent = message || "";
  if (message && position !== undefined && position !== null) {
    const input = $("expression");
    input.focus();
    input.setSelectionRange(position, Math.min(position + 1, input.value.length));
  }
}

// Where a value overflowed or left a function's domain (the server's warnings).
function showWarnings(warnings) {
  const box = $("warnings");
  box.hidden = !warnings.length;
  box.replaceChildren(...warnings.map((w) => el("li", {}, `Warning: ${w}.`))); // as written: "f = …", never "F = …"
}

// A build failed: nothing of the previous graph stays on the page as if it were this one's,
// and the URL holds what was asked (a link reproduces the message, not the old figure).
function failed(message, position = null) {
  stop();
  data = null;
  frames = [];
  showError($("error"), message, position);
  showWarnings([]);
  $("graph").replaceChildren(el("p", { class: "empty" }, "No graph: the expression or the values above have a mistake (see the message above)."));
  $("narration").textContent = "";
  $("detail").replaceChildren();
  $("step-counter").textContent = "no graph";
  $("check-table").replaceChildren();
  $("through-time").hidden = true;
  state.step = "0";
  writeState(state);
}

// The text of `input`, or throws when it is longer than its limit (its data-limit).
function within(input, what) {
  const most = Number(input.dataset.limit);
  if (input.value.length > most) {
    throw new Error(`${what} is ${input.value.length.toLocaleString("en")} characters long; the limit is ${most.toLocaleString("en")}: shorten it`);
  }
  return input.value;
}

async function build(start) {
  state.expr = $("expression").value;
  state.values = $("values").value;
  state.h = $("h").value;
  let values;
  try {
    within($("values"), "The values");
    values = parseValues(state.values);
  } catch (error) {
    graph.cancel(); // an answer still coming is for other values
    return failed(error.message);
  }
  // the URL (and a class following this page) has what is asked at once, not once it is drawn
  if (/^\d+$/.test(String(start))) state.step = String(start);
  writeState(state);
  // the expression goes as typed, however long: the server says its limit (nothing is cut)
  buildStart = start;
  building++;
  const answer = await graph({ expression: state.expr, values, h: Number(state.h) }) // the latest wins
    .finally(() => building--);
  if (!answer) return; // overtaken by a newer request, or the server failed (its status line says so)
  if (!answer.ok) {
    const first = answer.data?.detail?.[0];
    return failed(errorText(answer.data), first?.loc?.includes("expression") ? first.position : null);
  }
  showError($("error"), "");
  stop();
  data = answer.data;
  frames = buildFrames(data);
  drawCheck($("check-table"), data.check, data.note, data.nodes[data.output].label);
  showWarnings(data.warnings ?? []);
  show(startAt(buildStart));
}

// The recurrent network's preset (chapter 6), written by the server for T steps and the regime.
async function loadRnn() {
  const answer = await api.rnnPreset({ T: state.T, regime: state.regime });
  if (!answer.ok) {
    failed(errorText(answer.data));
    return false;
  }
  $("expression").value = state.expr = answer.data.expression;
  $("values").value = state.values = answer.data.values;
  counted();
  return true;
}

const rnnControls = () => { $("rnn-controls").hidden = state.preset !== "rnn"; };

async function descend() {
  Object.assign(state, { loss: $("loss").value, w0: $("start").value, lr: $("lr").value, n: $("steps").value });
  const answer = await descent({ expression: state.loss, parameter: "w", start: Number(state.w0),
    learning_rate: Number(state.lr), steps: Number(state.n) });
  if (!answer) return;
  if (!answer.ok) {
    showError($("descent-error"), errorText(answer.data));
    window.Plotly?.purge($("descent-plot")); // not the last loss's curve under this one's error
    $("descent-table").replaceChildren();
    return writeState(state);
  }
  showError($("descent-error"), "");
  drawDescent($("descent-plot"), $("descent-table"), answer.data, "w");
  writeState(state);
}

// A field's length against its limit, shown under it once it nears the limit (in red past
// it), so that a long paste is never cut silently: the server refuses it, and says so.
function counter(input) {
  const out = $(`${input.id}-count`);
  const most = Number(input.dataset.limit);
  const update = () => {
    const n = input.value.length;
    out.hidden = n < 0.8 * most;
    out.classList.toggle("over", n > most);
    const over = n > most ? `: ${(n - most).toLocaleString("en")} too many, shorten it` : "";
    out.textContent = `${n.toLocaleString("en")} / ${most.toLocaleString("en")} characters${over}`;
  };
  input.addEventListener("input", update);
  return update;
}

// -- wiring -----------------------------------------------------------------------------
const chosen = PRESETS[state.preset];
if (chosen && (chosen.expr !== state.expr || chosen.values !== state.values)) state.preset = "custom"; // a link's own expression
bindControls(TABLE, state, (key) => {
  rnnControls();
  if (key === "preset" && state.preset === "rnn" || key === "T") {
    state.preset = $("preset").value = "rnn";
    loadRnn().then((ok) => ok && build(0));
  } else if (key === "preset") {
    const preset = PRESETS[state.preset];
    if (!preset) return;
    $("expression").value = state.expr = preset.expr;
    $("values").value = state.values = preset.values;
    counted();
    build(0);
  } else if (key === "expr" || key === "values") {
    $("preset").value = state.preset = "custom";
  } else if (key === "h") {
    build(Number(state.step));
  } // the descent's fields are sent by its form
});

const counters = ["expression", "values", "loss"].map((id) => counter($(id)));
const counted = () => counters.forEach((update) => update());
counted();
$("graph-form").addEventListener("submit", (event) => {
  event.preventDefault();
  build(0);
});
for (const regime of ["vanishing", "exploding"]) {
  $(`rnn-${regime}`).addEventListener("click", () => {
    state.regime = regime;
    loadRnn().then((ok) => ok && build(0));
  });
}
$("reset").addEventListener("click", () => { stop(); show(0); });
$("back").addEventListener("click", () => { stop(); show(Number(state.step) - 1); });
$("forward").addEventListener("click", () => { stop(); show(Number(state.step) + 1); });
$("to-end").addEventListener("click", () => { stop(); show(frames.length - 1); });
const playback = player($("play"), {
  advance: () => show(Number(state.step) + 1),
  done: () => Number(state.step) >= frames.length - 1,
  restart: () => show(0),
});
const stop = playback.stop;
$("descent-form").addEventListener("submit", (event) => {
  event.preventDefault();
  descend();
});
document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea") || event.altKey || event.ctrlKey || event.metaKey) return;
  const keys = { ArrowRight: () => show(Number(state.step) + 1), ArrowLeft: () => show(Number(state.step) - 1),
    Home: () => show(0), End: () => show(frames.length - 1), " ": playback.toggle };
  if (!keys[event.key] || !data) return;
  event.preventDefault();
  if (event.key !== " ") stop();
  keys[event.key]();
});

// A link's phase: figure 2.4 (phase=forward): the forward pass done, every value shown; figure
// 2.5 (phase=backward): the backward pass done, every gradient shown; else its step.
const startOf = (phase) => (phase === "backward" ? "end" : phase === "forward" ? "forward-end" : state.step);

// Classroom mode (classbar.js): the instructor's state, shown in place. A new expression,
// values or h: a new graph (the followed step shown once it arrives, the latest step followed
// meanwhile); the step alone: shown at once; the descent's fields: a new descent.
const GRAPH = ["preset", "expr", "values", "h"], DESCENT = ["loss", "w0", "lr", "n"];
onFollow((followed) => {
  if ("preset" in followed && !("expr" in followed) && PRESETS[followed.preset]) followed = { ...followed, ...PRESETS[followed.preset] };
  const changed = adopt(TABLE, state, followed);
  rnnControls();
  const start = startOf(state.phase);
  state.phase = "";
  counted();
  stop();
  if (GRAPH.some((key) => changed.has(key))) build(start);
  else if (building) buildStart = start; // the graph coming is shown there
  else if (changed.has("step") || start !== state.step) show(startAt(start));
  if (DESCENT.some((key) => changed.has(key))) descend();
});

const phase = state.phase;
state.phase = ""; // a link's starting point, not kept once the page is used
rnnControls();
const rnnFromServer = state.preset === "rnn" && !params.has("expr"); // ?preset=rnn: its expression is the server's
(rnnFromServer ? loadRnn() : Promise.resolve(true)).then((ok) => ok && build(startOf(phase)));
window.addEventListener("load", descend);
