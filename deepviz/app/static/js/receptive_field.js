// The receptive-field page: build a stack, click a unit, see its field in every map.
import { api, errorText, latest } from "./api.js";
import { el, plural } from "./format.js";
import { FIELDS, encodeStack, parseStack } from "./layers.js";
import { heatmap } from "./render/heatmap.js";
import { adopt, bindControls, onFollow, param, readState, writeState } from "./state.js";
import { statusLine } from "./status.js";

const $ = (id) => document.getElementById(id);
const TABLE = { // the page's parameters: the URL and the controls
  stack: param.custom((text) => encodeStack(parseStack(text, FIELDS)), "c3,c3,c3"),
  n: { ...param.integer(4, 64, "16", "input-size"), event: "change" },
  unit: param.custom((text) => {
    if (!/^\d+\.\d+\.\d+$/.test(text)) throw new Error("expected map.row.column, as 3.2.4");
    return text;
  }, ""),
};
const { state } = readState(TABLE);
const request = latest(api.receptiveField, statusLine([$("rf-status"), $("maps-status")]));
let layers = [];
let answer = null;

function unit() {
  const [layer, row, col] = state.unit.split(".").map(Number);
  return state.unit ? { layer, row, col } : null;
}

async function refresh() {
  state.stack = encodeStack(layers);
  writeState(state);
  const body = { layers, input_size: Number(state.n) };
  if (unit()) body.unit = unit();
  const got = await request(body);
  if (!got) return;
  $("rf-error").hidden = got.ok;
  if (!got.ok) {
    $("rf-error").textContent = errorText(got.data);
    if (unit()) { state.unit = ""; return refresh(); }
    return unanswered();
  }
  answer = got.data;
  drawTable();
  drawMaps();
}

// The stack has a mistake (said above the maps): the figures of the last stack that worked
// would read as this one's, so they go, and the table keeps only what was typed.
function unanswered() {
  answer = null;
  drawTable();
  $("unit-layer").replaceChildren();
  $("maps").replaceChildren(el("p", { class: "empty" }, "No maps: the stack above has a mistake (see the message)."));
  $("regions").replaceChildren();
}

function cellInput(layer, key, i) {
  if (layer.type !== "conv" && key === "dilation") return el("td", {}, "");
  const input = el("input", { type: "number", min: key === "padding" ? "0" : "1", max: "11", value: String(layer[key]), "aria-label": `layer ${i + 1} ${key}` });
  input.addEventListener("change", () => { layer[key] = Number(input.value); $("preset").value = "custom"; state.unit = ""; refresh(); });
  return el("td", {}, input);
}

function drawTable() {
  $("layers").replaceChildren(...layers.map((layer, i) => {
    const m = answer ? answer.maps[i + 1] : { size: "–", r: "–", jump: "–" };
    const remove = el("button", { type: "button", "aria-label": `remove layer ${i + 1}` }, "✕");
    remove.addEventListener("click", () => { layers.splice(i, 1); state.unit = ""; refresh(); });
    return el("tr", {}, el("td", {}, String(i + 1)), el("td", {}, layer.type),
      cellInput(layer, "kernel", i), cellInput(layer, "stride", i), cellInput(layer, "padding", i), cellInput(layer, "dilation", i),
      el("td", {}, answer ? `${m.size}×${m.size}` : "–"), el("td", { class: "r" }, String(m.r)), el("td", {}, String(m.jump)), el("td", {}, remove));
  }));
  if (!answer) return ($("rf-formula").textContent = "");
  const last = answer.maps[answer.maps.length - 1];
  const simple = layers.every((l) => l.type === "conv" && l.stride === 1 && l.dilation === 1 && l.kernel === layers[0].kernel);
  $("rf-formula").textContent = simple
    ? `${plural(layers.length, "stride-1 layer")} of kernel ${layers[0].kernel}: r = 1 + L(K − 1) = 1 + ${layers.length}·(${layers[0].kernel} − 1) = ${last.r}`
    : `r = ${plural(last.r, "input pixel")} across after ${plural(layers.length, "layer")} (jump ${last.jump}); the notes' 1 + L(K − 1) holds only for stride-1 stacks`;
}

// The row and column of the chosen map go from 0 to its size - 1.
function boundUnitPicker() {
  const size = answer.maps[Number($("unit-layer").value)].size;
  for (const id of ["unit-row", "unit-col"]) $(id).max = String(size - 1);
}

function drawUnitForm() {
  const u = unit();
  const select = $("unit-layer");
  const chosen = u ? String(u.layer) : select.value || String(answer.maps.length - 1);
  select.replaceChildren(...answer.maps.slice(1).map((m, i) => el("option", { value: String(i + 1) }, `${m.name} (${m.size}×${m.size})`)));
  select.value = answer.maps[Number(chosen)] ? chosen : String(answer.maps.length - 1);
  boundUnitPicker();
  if (u) { $("unit-row").value = String(u.row); $("unit-col").value = String(u.col); }
}

function drawMaps() {
  drawUnitForm();
  const u = unit();
  const regions = answer.regions; // input first, then each map up to the unit's
  const figures = answer.maps.map((m, i) => {
    const canvas = el("canvas", { class: "pixels", "data-layer": String(i), "aria-label": `${m.name}, ${m.size}×${m.size}: click a unit` });
    const cell = Math.max(3, Math.min(14, Math.floor(220 / m.size)));
    const outlines = [];
    if (regions && i < regions.length) {
      const [top, left, bottom, right] = regions[i];
      outlines.push({ top, left, bottom, right, colour: "#E69F00", width: 2, fill: i === 0 && answer.effective ? null : "rgba(230,159,0,0.35)" });
    }
    const grid = i === 0 && answer.effective ? answer.effective : Array.from({ length: m.size }, () => Array(m.size).fill(0));
    const pick = heatmap(canvas, grid, { cell, outlines, signed: !(i === 0 && answer.effective) });
    canvas.addEventListener("click", (event) => {
      const [row, col] = pick(event);
      state.unit = `${i}.${row}.${col}`;
      refresh();
    });
    return el("figure", {}, el("figcaption", {}, `${m.name}: ${m.size}×${m.size}`), canvas);
  });
  $("maps").replaceChildren(...figures);
  if (!u || !regions) {
    $("regions").replaceChildren(el("li", {}, "Click a unit in any map."));
    return;
  }
  $("regions").replaceChildren(...regions.map(([top, left, bottom, right], i) => el("li", { "data-layer": String(i) },
    `${answer.maps[i].name}: rows ${top}–${bottom}, columns ${left}–${right} (${bottom - top + 1}×${right - left + 1})`
    + (i === regions.length - 1 ? ": the unit itself" : ""))));
}

function takeStack() {
  $("preset").value = [...$("preset").options].some((o) => o.value === state.stack) ? state.stack : "custom";
  layers = parseStack(state.stack, FIELDS);
}
takeStack();
$("preset").addEventListener("change", () => {
  if ($("preset").value === "custom") return;
  layers = parseStack($("preset").value, FIELDS);
  state.unit = "";
  refresh();
});
bindControls(TABLE, state, () => { state.unit = ""; refresh(); });
onFollow((followed) => { // classroom mode: the instructor's stack, input size or unit (one request)
  const changed = adopt(TABLE, state, followed);
  if (changed.has("stack")) takeStack();
  if (changed.size) refresh();
});
$("add-conv").addEventListener("click", () => { layers.push({ type: "conv", kernel: 3, stride: 1, padding: 0, dilation: 1 }); $("preset").value = "custom"; refresh(); });
$("add-pool").addEventListener("click", () => { layers.push({ type: "maxpool", kernel: 2, stride: 2, padding: 0, dilation: 1 }); $("preset").value = "custom"; refresh(); });
$("unit-layer").addEventListener("change", boundUnitPicker);
$("unit-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.unit = `${$("unit-layer").value}.${$("unit-row").value}.${$("unit-col").value}`;
  refresh();
});
refresh();
