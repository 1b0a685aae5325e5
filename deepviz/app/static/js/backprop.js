// The backprop page: build a graph from an expression, step through its forward and
// backward passes, check its gradients, and run gradient descent (figure 2.1).
import { api, errorText, latest } from "./api.js";
import { el, fmt } from "./format.js";
import { drawCheck } from "./render/check.js";
import { drawDescent } from "./render/descent.js";
import { drawGraph } from "./render/graph.js";
import { grid } from "./render/grid.js";
import { player } from "./player.js";
import { bindControls, param, readState, writeState } from "./state.js";
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
const TABLE = { // the page's parameters: the URL and the controls
  preset: param.oneOf([...Object.keys(PRESETS), "custom"], "notes", "preset"),
  expr: param.text(PRESETS.notes.expr, 2000, "expression"),
  values: param.text(PRESETS.notes.values, 20000, "values"),
  step: param.integer(0, 100000, "0"),
  phase: param.oneOf(["", "forward", "backward"], ""), // where a link starts: the forward or the backward pass
  h: param.oneOf(["0.1", "0.001", "0.00001", "1e-7", "1e-10", "1e-13"], "0.00001", "h"), // #h's options
  loss: param.text("(w - 3)^2 + 1", 2000, "loss"),
  w0: param.number(-1e6, 1e6, "-1", "start"),
  lr: param.number(0, 1e6, "0.2", "lr"),
  n: param.integer(1, 100, "10", "steps"),
};

const $ = (id) => document.getElementById(id);
const { state, params } = readState(TABLE);
if (params.has("preset") && !params.has("expr") && PRESETS[state.preset]) Object.assign(state, PRESETS[state.preset]);
const graph = latest(api.graph, statusLine($("graph-status")));
const descent = latest(api.descent, statusLine($("descent-status")));
let data = null; // the last graph the server returned
let frames = []; // the timeline: start, one frame per forward node, one per backward step

// -- values: "x = -2, W = [[1, 2], [3, 4]]" -> {x: -2, W: [[1, 2], [3, 4]]} -------------
export function parseValues(text) {
  const values = {};
  const parts = [];
  let depth = 0, start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === "[") depth++;
    else if (c === "]") depth--;
    else if ((c === "," || c === ";" || c === undefined) && depth === 0) {
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
function buildFrames(d) {
  return [{ phase: "start" }, ...d.nodes.map((n) => ({ phase: "forward", node: n.id })),
    ...d.backward.map((s) => ({ phase: "backward", node: s.node, step: s }))];
}

function viewAt(index) {
  const known = new Set(), grads = new Map(), flows = new Map();
  for (const f of frames.slice(0, index + 1)) {
    if (f.phase === "forward") known.add(f.node);
    if (f.phase === "backward") {
      grads.set(f.node, f.step.upstream);
      for (const i of f.step.inputs) if (i.downstream !== null) flows.set(`${i.node}>${f.node}`, i.downstream);
    }
  }
  return { known, grads, flows, current: frames[index].node ?? null };
}

function narrate(frame) {
  const out = data.nodes[data.output].label;
  if (frame.phase === "start") return "Press Step (→) to run the forward pass, node by node.";
  const n = data.nodes[frame.node];
  if (frame.phase === "forward") {
    if (n.kind === "variable") return `${n.label} = ${fmt(n.value)}: an input.`;
    if (n.kind === "constant") return `${n.label}: a constant.`;
    const value = n.shape.length ? `a ${n.shape.join("×")} tensor` : fmt(n.value);
    return `${n.label} = ${n.formula} = ${value}` + (n.id === data.output ? ". The forward pass is done; step on for the backward pass." : "");
  }
  const up = frame.step.upstream;
  if (!frame.step.inputs.length) return `∂${out}/∂${n.label} = ${fmt(up)}: ${n.label} is an input, and its gradient is complete.`;
  const head = n.id === data.output ? `${n.label} = ${n.formula}; upstream ∂${out}/∂${out} = 1`
    : `${n.label} = ${n.formula} = ${n.shape.length ? n.shape.join("×") : fmt(n.value)}; upstream ∂${out}/∂${n.label} = ${fmt(up)}`;
  const parts = frame.step.inputs.filter((i) => i.downstream !== null).map((i) => {
    const name = data.nodes[i.node].label;
    const scalarLocal = i.local !== null && !Array.isArray(i.local);
    const local = scalarLocal && i.rule !== fmt(i.local) ? ` = ${fmt(i.local)}` : "";
    const product = scalarLocal && !Array.isArray(up) ? `${fmt(i.local)} × ${fmt(up)} = ` : "";
    return `to ${name}: local ∂${n.label}/∂${name} = ${i.rule}${local}; downstream ${product}${fmt(i.downstream)}`;
  });
  return [head, ...parts].join("; ");
}

function detail(frame) {
  if (frame.phase !== "backward" || !frame.step.inputs.length) return [];
  const n = data.nodes[frame.node];
  const out = data.nodes[data.output].label;
  const table = el("table", { class: "chain" });
  table.append(el("tr", {}, ...["input", "local gradient", "× upstream", "= downstream"].map((h) => el("th", { scope: "col" }, h))));
  for (const i of frame.step.inputs) {
    const name = data.nodes[i.node].label;
    const cell = (v, kind) => (Array.isArray(v) ? grid(v, { kind }) : fmt(v));
    table.append(el("tr", {},
      el("th", { scope: "row" }, name),
      el("td", {}, `∂${n.label}/∂${name} = ${i.rule}`,
        i.local !== null && i.rule !== fmt(i.local) ? el("div", {}, cell(i.local, "local")) : ""),
      el("td", {}, cell(frame.step.upstream, "grad")),
      el("td", { class: "downstream" }, i.downstream === null ? "(a constant: no gradient)" : cell(i.downstream, "grad"))));
  }
  return [el("h3", {}, `At ${n.label}: upstream ∂${out}/∂${n.label}, local ∂${n.label}/∂input`), table];
}

function show(index) {
  if (!data) return;
  state.step = String(Math.max(0, Math.min(index, frames.length - 1)));
  const i = Number(state.step);
  drawGraph($("graph"), data, viewAt(i));
  $("narration").textContent = narrate(frames[i]);
  $("detail").replaceChildren(...detail(frames[i]));
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

async function build(initialStep) {
  state.expr = $("expression").value;
  state.values = $("values").value;
  state.h = $("h").value;
  let values;
  try {
    values = parseValues(state.values);
  } catch (error) {
    return showError($("error"), error.message);
  }
  const answer = await graph({ expression: state.expr, values, h: Number(state.h) }); // the latest wins
  if (!answer) return; // overtaken by a newer request, or the server failed (its status line says so)
  if (!answer.ok) {
    const first = answer.data?.detail?.[0];
    return showError($("error"), errorText(answer.data), first?.loc?.includes("expression") ? first.position : null);
  }
  showError($("error"), "");
  stop();
  data = answer.data;
  frames = buildFrames(data);
  drawCheck($("check-table"), data.check, data.note);
  show(initialStep === "forward-end" ? data.nodes.length : Number(initialStep) || 0);
}

async function descend() {
  Object.assign(state, { loss: $("loss").value, w0: $("start").value, lr: $("lr").value, n: $("steps").value });
  const answer = await descent({ expression: state.loss, parameter: "w", start: Number(state.w0),
    learning_rate: Number(state.lr), steps: Number(state.n) });
  if (!answer) return;
  if (!answer.ok) return showError($("descent-error"), errorText(answer.data));
  showError($("descent-error"), "");
  drawDescent($("descent-plot"), $("descent-table"), answer.data, "w");
  writeState(state);
}

// -- wiring -----------------------------------------------------------------------------
const chosen = PRESETS[state.preset];
if (chosen && (chosen.expr !== state.expr || chosen.values !== state.values)) state.preset = "custom"; // a link's own expression
bindControls(TABLE, state, (key) => {
  if (key === "preset") {
    const preset = PRESETS[state.preset];
    if (!preset) return;
    $("expression").value = state.expr = preset.expr;
    $("values").value = state.values = preset.values;
    build(0);
  } else if (key === "expr" || key === "values") {
    $("preset").value = state.preset = "custom";
  } else if (key === "h") {
    build(Number(state.step));
  } // the descent's fields are sent by its form
});

$("graph-form").addEventListener("submit", (event) => {
  event.preventDefault();
  build(0);
});
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

const phase = state.phase;
state.phase = ""; // a link's starting point, not kept once the page is used
build(phase === "backward" ? "forward-end" : phase === "forward" ? 0 : state.step);
window.addEventListener("load", descend);
