// The training lab's model controls: a row per hidden layer (units − / +, its activation),
// and the URL's hidden=8,8&act=tanh,tanh, read with messages that say what is wrong.
import { el } from "./format.js";
import { forget } from "./state.js";

const $ = (id) => document.getElementById(id);
const MAX_LAYERS = Number($("layers").dataset.mostLayers); // the server's settings
const MAX_UNITS = Number($("layers").dataset.mostUnits);
const ACTIVATIONS = ["relu", "tanh", "sigmoid"];

export const list = (text) => (text === "" ? [] : text.split(","));

export function readHidden(text) {
  const units = list(text);
  if (units.length > MAX_LAYERS) throw new Error(`at most ${MAX_LAYERS} hidden layers`);
  for (const n of units) {
    if (!/^\d+$/.test(n) || Number(n) < 1 || Number(n) > MAX_UNITS) throw new Error(`each layer has 1 to ${MAX_UNITS} units`);
  }
  return units.map(Number).join(",");
}

export function readActivations(text) {
  const names = list(text);
  if (names.length > MAX_LAYERS) throw new Error(`at most ${MAX_LAYERS} activations`);
  const wrong = names.find((a) => !ACTIVATIONS.includes(a));
  if (wrong !== undefined) throw new Error(`an activation is one of ${ACTIVATIONS.join(", ")}, not “${wrong}”`);
  return text;
}

// The rows, drawn from state.hidden and state.act; changed(): the student changed the model.
export function drawLayers(state, changed) {
  const units = list(state.hidden).map(Number), acts = list(state.act);
  $("layer-count").textContent = String(units.length);
  $("remove-layer").disabled = units.length === 0;
  $("add-layer").disabled = units.length >= MAX_LAYERS;
  const setLayers = (u, a) => {
    state.hidden = u.join(",");
    state.act = a.join(",");
    forget("hidden");
    forget("act");
    drawLayers(state, changed);
    changed();
  };
  $("layers").replaceChildren(...units.map((n, i) => {
    const fewer = el("button", { type: "button", "aria-label": `fewer units in layer ${i + 1}` }, "−");
    const more = el("button", { type: "button", "aria-label": `more units in layer ${i + 1}` }, "+");
    fewer.disabled = n <= 1;
    more.disabled = n >= MAX_UNITS;
    fewer.addEventListener("click", () => setLayers(units.with(i, n - 1), acts));
    more.addEventListener("click", () => setLayers(units.with(i, n + 1), acts));
    const select = el("select", { "aria-label": `activation of layer ${i + 1}` },
      ...ACTIVATIONS.map((a) => el("option", { value: a }, a)));
    select.value = acts[i];
    select.addEventListener("change", () => setLayers(units, acts.with(i, select.value)));
    return el("li", { class: "layer-row", "data-layer": String(i + 1) }, el("span", { class: "label" }, `Layer ${i + 1}`),
      fewer, el("output", { class: "units" }, `${n} ${n === 1 ? "unit" : "units"}`), more, select);
  }));
  $("add-layer").onclick = () => setLayers([...units, units.at(-1) ?? 4], [...acts, acts.at(-1) ?? "tanh"]);
  $("remove-layer").onclick = () => setLayers(units.slice(0, -1), acts.slice(0, -1));
}
