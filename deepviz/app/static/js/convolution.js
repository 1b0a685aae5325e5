// The convolution page: flatten vs convolution, the sliding kernel with padding and
// stride, kernels on a photograph, a bank of kernels, and a stack of layers.
import { api, errorText, latest } from "./api.js";
import { el } from "./format.js";
import { drawingPad } from "./render/draw.js";
import { heatmap } from "./render/heatmap.js";
import { droppedText, formulaText, outputSoFar, paddedInput, smallTable, sumText } from "./render/slide.js";
import { player } from "./player.js";
import { readState, writeState } from "./state.js";

const $ = (id) => document.getElementById(id);
const DEFAULTS = { img: "square", n: "8", k: "sobel_x", w: "", p: "1", s: "1", mode: "cross-correlation", b: "0",
  pos: "0", photo: "chelsea", pk: "sobel_x", sigma: "1", bank: "sobel_x,sobel_y,gaussian,laplacian,sharpen,box",
  stack: "c3-6k5,r,c6-10k5,r,c10-12k5", input: "3×32×32" };
const { state } = readState(DEFAULTS);
let kernels = {}; // name -> {description, values}
let geometry = null; // the last answer's output size, to keep the position inside it
let lastSlide = null;
let uploaded = null; // a data URL the student chose (not kept in the URL)
let slidePlayer = null;
const stopSlide = () => slidePlayer?.stop();

const conv = latest(api.conv);
const convPhoto = latest(api.conv);
const convBank = latest(api.conv);
const shapes = latest(api.shapes);

// -- the kernel editor -----------------------------------------------------------------
function kernelWeights() {
  return [...$("kernel-grid").querySelectorAll("tr")].map((tr) => [...tr.querySelectorAll("input")].map((i) => Number(i.value) || 0));
}

function showKernel(values) {
  const table = el("table", { class: "kernel-inputs" });
  values.forEach((row, i) => {
    const tr = el("tr");
    row.forEach((v, j) => {
      const input = el("input", { type: "number", step: "any", value: String(Number(v.toFixed(4))), "aria-label": `weight row ${i + 1} column ${j + 1}` });
      input.addEventListener("input", () => {
        state.k = "custom";
        $("kernel-preset").value = "custom";
        state.w = kernelWeights().map((r) => r.join(",")).join(";");
        refreshSlide(true);
      });
      tr.append(el("td", {}, input));
    });
    table.append(tr);
  });
  $("kernel-grid").replaceChildren(table);
}

function currentKernel() {
  if (state.k === "custom" && state.w) return state.w.split(";").map((r) => r.split(",").map(Number));
  return kernels[state.k]?.values ?? [[0, 0, 0], [0, 1, 0], [0, 0, 0]];
}

// -- the sliding kernel -----------------------------------------------------------------
function slideBody(detail) {
  const body = { image: { preset: state.img, size: Number(state.n) }, kernels: [currentKernel()],
    bias: [Number(state.b) || 0], padding: Number(state.p), stride: Number(state.s), mode: state.mode };
  if (detail) body.detail = detail;
  return body;
}

async function refreshSlide(geometryChanged) {
  writeState(state);
  if (geometryChanged || !geometry) {
    const first = await conv(slideBody(null));
    if (!first) return;
    if (!first.ok) return showSlideError(errorText(first.data));
    geometry = first.data;
  }
  const count = geometry.height.output * geometry.width.output;
  const pos = Math.min(Math.max(Number(state.pos) || 0, 0), count - 1);
  state.pos = String(pos);
  const answer = await conv(slideBody({ row: Math.floor(pos / geometry.width.output), col: pos % geometry.width.output }));
  if (!answer) return;
  if (!answer.ok) return showSlideError(errorText(answer.data));
  geometry = answer.data;
  drawSlide(answer.data, pos, count);
  writeState(state);
}

function showSlideError(message) {
  $("slide-sum").textContent = message;
  stopSlide();
}

function drawSlide(data, pos, count) {
  lastSlide = data;
  const d = data.detail;
  const dropped = { rows: data.height.dropped, cols: data.width.dropped };
  $("slide-input").replaceChildren(paddedInput(data.input, Number(state.p), d, dropped));
  $("slide-kernel").replaceChildren(smallTable(d.weights, "kernel"));
  $("slide-products").replaceChildren(smallTable(d.products, "products"));
  $("slide-output").replaceChildren(outputSoFar(data.outputs[0], pos));
  $("output-size").textContent = `${data.height.output} × ${data.width.output}`;
  $("formula").textContent = `${formulaText(data.width, "W")}    ·    ${formulaText(data.height, "H")}`;
  $("dropped-note").textContent = droppedText(data.height, data.width);
  $("slide-sum").textContent = sumText(d);
  $("slide-pos").max = String(count - 1);
  $("slide-pos").value = String(pos);
  $("slide-where").textContent = `position ${pos + 1} of ${count}: output row ${d.row}, column ${d.col}`;
  drawFlatten(data.input);
}

function moveTo(pos) {
  state.pos = String(pos);
  refreshSlide(false);
}

// -- flatten ------------------------------------------------------------------------------
let flatPick = [0, 0];
function drawFlatten(input) {
  const h = input.length, w = input[0].length;
  const [r, c] = flatPick.map((v, i) => Math.min(v, (i ? w : h) - 1));
  const at = (i, j) => ({ top: i, left: j, bottom: i, right: j });
  const mark = [{ ...at(r, c), colour: "#E69F00", width: 3 }];
  if (r > 0) mark.push({ ...at(r - 1, c), colour: "#56B4E9", width: 3 });
  if (r < h - 1) mark.push({ ...at(r + 1, c), colour: "#56B4E9", width: 3 });
  const pick = heatmap($("flat-image"), input, { cell: Math.floor(160 / Math.max(h, w)), outlines: mark, gray: true });
  $("flat-image").onclick = (e) => { flatPick = pick(e); drawFlatten(input); };
  const index = (i) => ({ top: 0, left: i, bottom: 0, right: i });
  const strip = [{ ...index(r * w + c), colour: "#E69F00", width: 3 }];
  if (r > 0) strip.push({ ...index((r - 1) * w + c), colour: "#56B4E9", width: 3 });
  if (r < h - 1) strip.push({ ...index((r + 1) * w + c), colour: "#56B4E9", width: 3 });
  heatmap($("flat-vector"), [input.flat()], { cell: Math.max(4, Math.floor(900 / (h * w))), outlines: strip, gray: true });
  $("flat-caption").textContent = `the flattened vector: pixel (${r}, ${c}) is entry ${r * w + c}; its neighbours above and below (blue) are entries ${r > 0 ? (r - 1) * w + c : "–"} and ${r < h - 1 ? (r + 1) * w + c : "–"}, ${w} places away`;
}

// -- the photograph and the bank -------------------------------------------------------
function photoImage() {
  return uploaded ? { data_url: uploaded, size: 128 } : { preset: state.photo, size: 128 };
}

async function refreshPhoto() {
  writeState(state);
  const kernel = state.pk === "sigma" ? `gaussian:${state.sigma}` : state.pk;
  const answer = await convPhoto({ image: photoImage(), kernels: [kernel], padding: 1 });
  if (!answer) return;
  $("photo-error").hidden = answer.ok;
  if (!answer.ok) return ($("photo-error").textContent = errorText(answer.data));
  const cell = Math.max(1, Math.floor(256 / Math.max(answer.data.input.length, answer.data.input[0].length)));
  heatmap($("photo-input"), answer.data.input, { cell, gray: true });
  heatmap($("photo-output"), answer.data.outputs[0], { cell });
  const name = state.pk === "sigma" ? `Gaussian blur, σ = ${state.sigma} (${answer.data.kernels[0].length}×${answer.data.kernels[0].length})` : kernels[state.pk]?.description;
  $("photo-caption").textContent = `${name}: ${answer.data.output_shape.slice(1).join(" × ")}`;
  refreshBank();
}

async function refreshBank() {
  const names = state.bank.split(",").filter((n) => kernels[n]);
  if (!names.length || names.length > 8) convBank.cancel();  // an older answer must not overwrite the message
  if (!names.length) return $("bank-maps").replaceChildren(el("p", { class: "help" }, "Pick at least one kernel."));
  if (names.length > 8) return $("bank-maps").replaceChildren(el("p", { class: "error", role: "alert" }, "A bank holds at most 8 kernels: untick one."));
  const answer = await convBank({ image: photoImage(), kernels: names, padding: 1 });
  if (!answer || !answer.ok) return;
  $("bank-maps").replaceChildren(...answer.data.outputs.map((map, i) => {
    const canvas = el("canvas", { class: "pixels", "aria-label": `activation map of ${names[i]}` });
    heatmap(canvas, map, { cell: 1 });
    return el("figure", {}, canvas, el("figcaption", {}, `${i + 1}: ${names[i]}`));
  }), el("p", { class: "help" }, `Output: ${answer.data.output_shape.join(" × ")} (channels × height × width)`));
}

// -- the stack ------------------------------------------------------------------------------
function parseStack(text) {
  return text.split(",").filter(Boolean).map((t) => {
    if (t === "r") return { type: "relu" };
    if (t[0] === "m") return { type: "maxpool", kernel: Number(t.slice(1)) || 2 };
    const m = t.match(/^c(\d+)-(\d+)k(\d+)(?:s(\d+))?(?:p(\d+))?$/);
    return m ? { type: "conv", in_channels: +m[1], out_channels: +m[2], kernel: +m[3], stride: +(m[4] || 1), padding: +(m[5] || 0) } : { type: "relu" };
  });
}

function encodeStack(layers) {
  return layers.map((l) => (l.type === "relu" ? "r" : l.type === "maxpool" ? `m${l.kernel}`
    : `c${l.in_channels}-${l.out_channels}k${l.kernel}${l.stride > 1 ? `s${l.stride}` : ""}${l.padding ? `p${l.padding}` : ""}`)).join(",");
}

let stack = [];
async function refreshStack() {
  state.stack = encodeStack(stack);
  state.input = $("stack-input").value;
  writeState(state);
  const dims = state.input.split(/[×x*, ]+/).map(Number);
  const answer = await shapes({ input_shape: dims, layers: stack });
  if (!answer) return;
  const bad = answer.ok ? -1 : answer.data.detail?.[0]?.loc?.[2];
  $("stack-error").hidden = answer.ok;
  if (!answer.ok) $("stack-error").textContent = errorText(answer.data);
  drawStack(answer.ok ? answer.data.shapes : null, typeof bad === "number" ? bad : -1);
}

function numberCell(layer, key, i) {
  if (layer[key] === undefined) return el("td", {}, "");
  const input = el("input", { type: "number", min: key === "padding" ? "0" : "1", value: String(layer[key]), size: "3", "aria-label": `layer ${i + 1} ${key.replace("_", " ")}` });
  input.addEventListener("change", () => { layer[key] = Number(input.value); refreshStack(); });
  return el("td", {}, input);
}

function drawStack(shapesOut, bad) {
  $("stack-body").replaceChildren(...stack.map((layer, i) => {
    const remove = el("button", { type: "button", "aria-label": `remove layer ${i + 1}` }, "✕");
    remove.addEventListener("click", () => { stack.splice(i, 1); refreshStack(); });
    const tr = el("tr", { class: i === bad ? "bad" : "" },
      el("td", {}, String(i + 1)), el("td", {}, layer.type),
      numberCell(layer, "in_channels", i), numberCell(layer, "out_channels", i), numberCell(layer, "kernel", i),
      numberCell(layer, "stride", i), numberCell(layer, "padding", i),
      el("td", { class: "shape" }, shapesOut ? shapesOut[i + 1].join(" × ") : i === bad ? "does not fit" : "…"), el("td", {}, remove));
    return tr;
  }));
}

// -- wiring -----------------------------------------------------------------------------
async function start() {
  const [k, imgs] = await Promise.all([api.kernels(), api.images()]);
  for (const kernel of k.data) kernels[kernel.name] = kernel;
  const square = k.data.filter((x) => x.values.length === 3);
  $("kernel-preset").replaceChildren(...square.map((x) => el("option", { value: x.name }, x.description)), el("option", { value: "custom" }, "your own"));
  $("photo-kernel").replaceChildren(...k.data.map((x) => el("option", { value: x.name }, x.description)),
    el("option", { value: "sigma" }, "Gaussian with σ (the slider)"));
  const photos = imgs.data.filter((x) => ["camera", "chelsea", "coins", "astronaut", "coffee"].includes(x.name));
  $("photo").replaceChildren(...photos.map((x) => el("option", { value: x.name }, x.description)));
  $("bank-choice").append(...square.map((x) => {
    const box = el("input", { type: "checkbox", id: `bank-${x.name}`, value: x.name });
    box.checked = state.bank.split(",").includes(x.name);
    box.addEventListener("change", () => {
      state.bank = [...$("bank-choice").querySelectorAll("input:checked")].map((b) => b.value).join(",");
      writeState(state);
      refreshBank();
    });
    return el("span", { class: "check" }, box, el("label", { for: `bank-${x.name}` }, x.name));
  }));
  for (const [id, key] of [["slide-image", "img"], ["slide-size", "n"], ["kernel-preset", "k"], ["mode", "mode"], ["padding", "p"], ["stride", "s"], ["bias", "b"], ["photo", "photo"], ["photo-kernel", "pk"], ["sigma", "sigma"]]) {
    $(id).value = state[key];
  }
  $("padding-value").textContent = state.p;
  $("stride-value").textContent = state.s;
  showKernel(currentKernel());
  stack = parseStack(state.stack);
  $("stack-input").value = state.input;

  const bind = (id, key, geometryChanged = true) => $(id).addEventListener("input", () => {
    state[key] = $(id).value;
    if (id === "padding") $("padding-value").textContent = state.p;
    if (id === "stride") $("stride-value").textContent = state.s;
    if (id === "kernel-preset" && state.k !== "custom") { state.w = ""; showKernel(currentKernel()); }
    refreshSlide(geometryChanged);
  });
  bind("slide-image", "img");
  bind("slide-size", "n");
  bind("kernel-preset", "k");
  bind("mode", "mode");
  bind("padding", "p");
  bind("stride", "s");
  bind("bias", "b");
  $("slide-pos").addEventListener("input", () => { stopSlide(); moveTo(Number($("slide-pos").value)); });
  $("slide-step").addEventListener("click", () => { stopSlide(); moveTo(Number(state.pos) + 1); });
  $("slide-back").addEventListener("click", () => { stopSlide(); moveTo(Math.max(0, Number(state.pos) - 1)); });
  $("slide-reset").addEventListener("click", () => { stopSlide(); moveTo(0); });
  slidePlayer = player($("slide-play"), {
    advance: () => moveTo(Number(state.pos) + 1),
    done: () => !geometry || Number(state.pos) >= geometry.height.output * geometry.width.output - 1,
    restart: () => moveTo(0),
    interval: 500,
  });
  $("photo").addEventListener("change", () => { uploaded = null; state.photo = $("photo").value; refreshPhoto(); });
  $("photo-kernel").addEventListener("change", () => { state.pk = $("photo-kernel").value; refreshPhoto(); });
  $("sigma").addEventListener("input", () => { state.sigma = $("sigma").value; state.pk = "sigma"; $("photo-kernel").value = "sigma"; refreshPhoto(); });
  $("upload").addEventListener("change", () => {
    const file = $("upload").files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => { uploaded = reader.result; refreshPhoto(); };
    reader.readAsDataURL(file);
  });
  let pending = false;
  const pad = drawingPad($("photo-pad"), () => {
    if (pending) return;  // at most one request per animation frame while drawing
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      uploaded = pad.empty() ? null : pad.dataURL();
      refreshPhoto();
    });
  });
  $("pad-clear").addEventListener("click", () => pad.clear());
  $("stack-input").addEventListener("change", refreshStack);
  $("add-conv").addEventListener("click", () => {
    const last = [...stack].reverse().find((l) => l.type === "conv");
    stack.push({ type: "conv", in_channels: last ? last.out_channels : 3, out_channels: 8, kernel: 3, stride: 1, padding: 0 });
    refreshStack();
  });
  $("add-relu").addEventListener("click", () => { stack.push({ type: "relu" }); refreshStack(); });
  $("add-pool").addEventListener("click", () => { stack.push({ type: "maxpool", kernel: 2 }); refreshStack(); });

  await refreshSlide(true);
  refreshPhoto();
  refreshStack();
}

start();
