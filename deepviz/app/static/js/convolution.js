// The convolution page: flatten vs convolution, the sliding kernel with padding and
// stride, kernels on a photograph, a bank of kernels, and a stack of layers.
import { all, api, errorText, latest } from "./api.js";
import { bankPanel } from "./convolution_bank.js";
import { kernelEditor, readWeights } from "./convolution_kernel.js";
import { readShape, stackPanel } from "./convolution_stack.js";
import { el } from "./format.js";
import { SHAPES, encodeStack, parseStack } from "./layers.js";
import { drawingPad } from "./render/draw.js";
import { drawFlatten } from "./render/flatten.js";
import { heatmap } from "./render/heatmap.js";
import { droppedText, formulaText, outputSoFar, paddedInput, smallTable, sumText } from "./render/slide.js";
import { player } from "./player.js";
import { adopt, bindControls, forget, onFollow, param, readState, refuse, writeState } from "./state.js";
import { statusLine } from "./status.js";

const $ = (id) => document.getElementById(id);
const options = (id) => [...$(id).options].map((o) => o.value); // a select's values, from the template

// A kernel or image name (checked against the server's lists once they have loaded).
const NAME = /^[a-z][a-z0-9_]{0,39}$/;
const name = (text) => {
  if (!NAME.test(text)) throw new Error("expected a name such as sobel_x");
  return text;
};

const TABLE = { // the page's parameters: the URL and the controls
  img: param.oneOf(options("slide-image"), "square", "slide-image"),
  n: param.integer(4, 16, "8", "slide-size"),
  k: param.custom((t) => (t === "custom" ? t : name(t)), "sobel_x", "kernel-preset"),
  w: param.custom((t) => (readWeights(t), t), ""),
  p: param.integer(0, 4, "1", "padding"),
  s: param.integer(1, 4, "1", "stride"),
  mode: param.oneOf(options("mode"), "cross-correlation", "mode"),
  b: param.number(-1e6, 1e6, "0", "bias"),
  pos: param.integer(0, 1e6, "0"),
  photo: param.custom(name, "chelsea", "photo"),
  pk: param.custom((t) => (t === "sigma" ? t : name(t)), "sobel_x", "photo-kernel"),
  sigma: param.number(0.3, 2.5, "1", "sigma"),
  bank: param.custom((t) => t.split(",").map(name).join(","), "sobel_x,sobel_y,gaussian,laplacian,sharpen,box"),
  stack: param.custom((t) => encodeStack(parseStack(t, SHAPES)), "c3-6k5,r,c6-10k5,r,c10-12k5"),
  input: { ...param.custom((t) => (readShape(t), t), "3×32×32", "stack-input"), event: "change" },
};
const { state } = readState(TABLE);
if (state.k === "custom" && !state.w) {
  refuse("k", "custom", "a kernel of your own needs its weights, as w=1,0,-1;2,0,-2;1,0,-1", "sobel_x");
  state.k = "sobel_x";
}
if (state.k !== "custom") state.w = "";
const PHOTOS = ["camera", "chelsea", "coins", "astronaut", "coffee"];
const kernels = {}; // name -> {description, values}, once loaded
let loaded = false; // the kernels and the images
let photoShown = null; // the photograph's figure drawn: its kernel's size and output's shape, for the captions
let geometry = null; // the last answer's output size
let uploaded = null; // a data URL the student chose (not kept in the URL)
let own = null; // the student's own image: {data, name}, an upload or a drawing, named in the Photograph menu
const OWN = "own"; // its value in the menu (never in the URL: the image is not kept there)
let slidePlayer = null;
const stopSlide = () => slidePlayer?.stop();

const lists = latest(all(api.kernels, api.images), statusLine($("lists-status"), "the kernels and images"), { persist: true });
const conv = latest(api.conv, statusLine([$("slide-status"), $("flat-status")]));
const convPhoto = latest(api.conv, statusLine($("photo-status")));
const layers = stackPanel(state, () => writeState(state));
const bank = bankPanel(state, photoImage, () => writeState(state));

// -- the kernel editor -----------------------------------------------------------------
let editing = null; // the kernel the editor shows: its name, or "custom"

function showKernel(values) {
  kernelEditor($("kernel-grid"), values, (weights) => {
    state.k = editing = "custom";
    $("kernel-preset").value = "custom";
    forget("k");
    state.w = weights;
    refreshSlide();
  });
}

// The kernel as sent: its weights (your own) or its name (the server knows its weights).
function currentKernel() {
  return state.k === "custom" ? readWeights(state.w) : state.k;
}

// -- the sliding kernel: one request per change -------------------------------------------
// The output's side, W′ = ⌊(W − K + 2P) / S⌋ + 1 (the slide's images are square), to keep the
// position inside the output and ask for its detail in the same request; the server's answer
// is the figure. Every kernel of the menu is 3×3.
function outputSide() {
  return Math.floor((Number(state.n) - kernelSize() + 2 * Number(state.p)) / Number(state.s)) + 1;
}

function kernelSize() {
  return state.k === "custom" ? readWeights(state.w).length : kernels[state.k]?.values.length ?? 3;
}

function slideBody(side) {
  const body = { image: { preset: state.img, size: Number(state.n) }, kernels: [currentKernel()],
    bias: [Number(state.b) || 0], padding: Number(state.p), stride: Number(state.s), mode: state.mode };
  if (side >= 1) {
    const pos = Math.min(Math.max(Number(state.pos) || 0, 0), side * side - 1);
    state.pos = String(pos);
    body.detail = { row: Math.floor(pos / side), col: pos % side };
  }
  return body;
}

async function refreshSlide(again = true) {
  writeState(state);
  const side = outputSide();
  const answer = await conv(slideBody(side));
  if (!answer) return;
  if (!answer.ok) return showSlideError(errorText(answer.data));
  geometry = answer.data;
  if (geometry.width.output !== side || !geometry.detail) { // the formula is the server's: this should not happen
    if (again) refreshSlide(false); // a second request, with the side the server found
    return;
  }
  drawSlide(answer.data, Number(state.pos), side * side);
  writeState(state);
}

// The slide cannot be computed (say a link's own kernel larger than its image): the figures
// of the last slide that worked go, with the formula, and the message takes their place.
function showSlideError(message) {
  stopSlide();
  geometry = null;
  for (const id of ["slide-input", "slide-kernel", "slide-products", "slide-output"]) $(id).replaceChildren();
  for (const id of ["output-size", "formula", "dropped-note", "slide-where"]) $(id).textContent = "";
  $("slide-sum").textContent = message;
  $("slide-sum").classList.add("error");
}

function drawSlide(data, pos, count) {
  const d = data.detail;
  if (editing !== state.k) { // a link's own kernel, or the menu's as it is (unflipped)
    const laid = data.kernels[0];
    showKernel(state.k === "custom" ? readWeights(state.w)
      : data.mode === "convolution" ? laid.map((row) => row.slice().reverse()).reverse() : laid);
    editing = state.k;
  }
  describeKernel();
  const dropped = { rows: data.height.dropped, cols: data.width.dropped };
  $("slide-input").replaceChildren(paddedInput(data.input, Number(state.p), d, dropped));
  $("slide-kernel").replaceChildren(smallTable(d.weights, "kernel"));
  $("slide-products").replaceChildren(smallTable(d.products, "products"));
  $("slide-output").replaceChildren(outputSoFar(data.outputs[0], pos));
  $("output-size").textContent = `${data.height.output} × ${data.width.output}`;
  $("formula").textContent = `${formulaText(data.width, "W")}\n${formulaText(data.height, "H")}`; // one line each: a "·" between them read as a product
  $("dropped-note").textContent = droppedText(data.height, data.width);
  $("slide-sum").textContent = sumText(d);
  $("slide-sum").classList.remove("error");
  $("slide-pos").max = String(count - 1);
  $("slide-pos").value = String(pos);
  $("slide-where").textContent = `position ${pos + 1} of ${count}: output row ${d.row}, column ${d.col}`;
  drawFlatten({ image: $("flat-image"), vector: $("flat-vector"), caption: $("flat-caption") }, data.input);
}

function moveTo(pos) {
  state.pos = String(pos);
  refreshSlide();
}

// -- the photograph and the bank (a photograph's change redraws both: two requests) -------
function photoImage() {
  return uploaded ? { data_url: uploaded, size: 128 } : { preset: state.photo, size: 128 };
}

// The Photograph menu names what the figures show: a photograph, or the student's own image
// ("your upload: cat.png", "your drawing"), chosen there as long as it is the input.
function showOwn(text) {
  let option = $("photo").querySelector(`option[value="${OWN}"]`);
  if (!own) {
    option?.remove();
    $("photo").value = state.photo;
    return;
  }
  if (!option) $("photo").append(option = el("option", { value: OWN }));
  option.textContent = text ?? own.name;
  $("photo").value = OWN;
}

function photoName() {
  return uploaded ? own.name : ($("photo").selectedOptions[0]?.title || state.photo);
}

// The last photograph's figures are not left under a failed one: they go, and the captions say why.
function noPhoto(message) {
  $("photo-error").textContent = message;
  $("photo-error").hidden = false;
  for (const id of ["photo-input", "photo-output"]) {
    $(id).getContext("2d").clearRect(0, 0, $(id).width, $(id).height);
    $(id).width = $(id).height = 0;
  }
  $("photo-input-caption").textContent = `input: ${photoName()}, which could not be used`;
  $("photo-caption").textContent = "no activation map";
  if (uploaded) showOwn(`${own.name} (could not be read)`);
}

async function refreshPhoto() {
  writeState(state);
  bank.refresh();
  const kernel = state.pk === "sigma" ? `gaussian:${state.sigma}` : state.pk;
  const answer = await convPhoto({ image: photoImage(), kernels: [kernel], padding: 1 });
  if (!answer) return;
  $("photo-error").hidden = answer.ok;
  photoShown = null;
  if (!answer.ok) return noPhoto(errorText(answer.data));
  const cell = Math.max(1, Math.floor(256 / Math.max(answer.data.input.length, answer.data.input[0].length)));
  heatmap($("photo-input"), answer.data.input, { cell, gray: true });
  heatmap($("photo-output"), answer.data.outputs[0], { cell });
  photoShown = { size: answer.data.kernels[0].length, shape: answer.data.output_shape.slice(1) };
  captionPhoto();
}

// The words under the figures name the kernel and the photograph by their descriptions, which
// come with the lists: said again when the lists arrive after the figures (a slow first load).
function describeKernel() {
  $("kernel-about").textContent = state.k === "custom" ? "Your own kernel" : kernels[state.k]?.description ?? state.k;
}

function captionPhoto() {
  if (!photoShown) return;
  const { size, shape } = photoShown;
  $("photo-input-caption").textContent = `input: ${photoName()}`;
  const title = state.pk === "sigma" ? `Gaussian blur, σ = ${state.sigma} (${size}×${size})` : kernels[state.pk]?.description ?? state.pk;
  $("photo-caption").textContent = `${title}: ${shape.join(" × ")}`;
}

// -- the kernels and images the menus list -------------------------------------------------
// Until they load, each menu holds the link's choice alone, and the figures use it by name.
function provisional(id, values) {
  $(id).replaceChildren(...values.map((v) => el("option", { value: v }, v)));
}

// A name the server does not know is refused (said at the top of the page), never replaced silently.
function known(key, names, fallback) {
  if (names.includes(state[key])) return true;
  refuse(key, state[key], `not one of ${names.join(", ")}`, fallback);
  state[key] = fallback;
  return false;
}

// A menu shows a kernel's or a photograph's short name, its description cut at `cut`, whole on
// a phone (the Sobel kernel's full description was cut in its menu); the option's title, the
// line over the weights and the figures' captions keep the rest.
const choice = (x, cut) => el("option", { value: x.name, title: x.description }, x.description.split(cut)[0]);

async function loadLists() {
  const answer = await lists();
  if (!answer) return;
  const [k, imgs] = answer.data;
  for (const kernel of k) kernels[kernel.name] = kernel;
  const square = k.filter((x) => x.values.length === 3);
  $("kernel-preset").replaceChildren(...square.map((x) => choice(x, ": ")), el("option", { value: "custom" }, "your own"));
  $("photo-kernel").replaceChildren(...k.map((x) => choice(x, ": ")),
    el("option", { value: "sigma" }, "Gaussian with σ (the slider)"));
  const photos = imgs.filter((x) => PHOTOS.includes(x.name));
  $("photo").replaceChildren(...photos.map((x) => choice(x, " (")));
  if (own && uploaded) showOwn();
  const slideOk = state.k === "custom" || known("k", square.map((x) => x.name), "sobel_x");
  const photoOk = known("photo", photos.map((x) => x.name), "chelsea");
  const photoKernelOk = state.pk === "sigma" || known("pk", k.map((x) => x.name), "sobel_x");
  const unknown = state.bank.split(",").filter((n) => !kernels[n] || kernels[n].values.length !== 3);
  if (unknown.length) {
    refuse("bank", state.bank, `no 3×3 kernel called ${unknown.join(", ")}`, state.bank.split(",").filter((n) => !unknown.includes(n)).join(","));
    state.bank = state.bank.split(",").filter((n) => !unknown.includes(n)).join(",");
  }
  bank.offer(kernels, square);
  for (const key of ["k", "photo", "pk"]) $(TABLE[key].control).value = state[key];
  lastPhoto = state.photo;
  if (own && uploaded) $("photo").value = OWN;
  loaded = true;
  if (geometry) describeKernel();
  captionPhoto();
  if (!slideOk) refreshSlide();
  if (!photoOk || !photoKernelOk) refreshPhoto();
  else bank.refresh();
}

// -- wiring: every control works before the kernels and images arrive ----------------------
provisional("kernel-preset", [state.k]);
provisional("photo", [state.photo]);
provisional("photo-kernel", [...new Set([state.pk, "sigma"])]);
bindControls(TABLE, state, (key) => {
  if (["img", "n", "k", "mode", "p", "s", "b"].includes(key)) {
    if (key === "p") $("padding-value").textContent = state.p;
    if (key === "s") $("stride-value").textContent = state.s;
    if (key === "k" && state.k !== "custom") state.w = "";
    refreshSlide();
  } else if (key === "photo") {
    if (state.photo === OWN) { // back to the student's own image: the URL keeps the last photograph
      state.photo = lastPhoto;
      uploaded = own.data;
    } else {
      lastPhoto = state.photo;
      uploaded = null;
    }
    refreshPhoto();
  } else if (key === "pk") {
    refreshPhoto();
  } else if (key === "sigma") {
    state.pk = "sigma";
    $("photo-kernel").value = "sigma";
    refreshPhoto();
  } else if (key === "input") {
    layers.refresh();
  }
});
$("padding-value").textContent = state.p;
$("stride-value").textContent = state.s;
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
let lastPhoto = state.photo; // the photograph the URL names, while the student's own image is shown
$("upload").addEventListener("change", () => {
  const file = $("upload").files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    own = { data: reader.result, name: `your upload: ${file.name}` };
    uploaded = own.data;
    showOwn();
    refreshPhoto();
  };
  reader.readAsDataURL(file);
});
let pending = false;
const pad = drawingPad($("photo-pad"), () => {
  if (pending) return;  // at most one request per animation frame while drawing
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    if (pad.empty()) {
      if (own?.name === "your drawing") own = null; // cleared: back to the photograph
      uploaded = own?.data ?? null;
    } else {
      own = { data: pad.dataURL(), name: "your drawing" };
      uploaded = own.data;
    }
    showOwn();
    refreshPhoto();
  });
});
$("pad-clear").addEventListener("click", () => pad.clear());

// Classroom mode: the instructor's state, each figure redrawn only if its parameters changed
// (the student's own image gives way to the instructor's photograph).
const SLIDE = ["img", "n", "k", "w", "p", "s", "mode", "b", "pos"];
onFollow((followed) => {
  const changed = adopt(TABLE, state, followed);
  const any = (keys) => keys.some((key) => changed.has(key));
  if (loaded) { // a name the server does not know is refused, as a link's
    const square = Object.values(kernels).filter((x) => x.values.length === 3).map((x) => x.name);
    if (state.k !== "custom") known("k", square, "sobel_x");
    known("photo", [...$("photo").options].map((o) => o.value).filter((v) => v !== OWN), "chelsea");
    if (state.pk !== "sigma") known("pk", Object.keys(kernels), "sobel_x");
    for (const key of ["k", "photo", "pk"]) $(TABLE[key].control).value = state[key];
    bank.tick();
  } else { // the menus hold the link's choice alone until the lists arrive
    provisional("kernel-preset", [state.k]);
    provisional("photo", [state.photo]);
    provisional("photo-kernel", [...new Set([state.pk, "sigma"])]);
  }
  if (any(SLIDE)) {
    stopSlide();
    if (changed.has("k") || changed.has("w")) editing = null; // the editor shows the followed kernel
    $("padding-value").textContent = state.p;
    $("stride-value").textContent = state.s;
    refreshSlide();
  }
  if (uploaded || any(["photo", "pk", "sigma"])) {
    uploaded = null;
    lastPhoto = state.photo;
    $("photo").value = state.photo;
    refreshPhoto();
  } else if (changed.has("bank")) {
    bank.refresh();
  }
  if (changed.has("stack")) layers.restore();
  if (any(["stack", "input"])) layers.refresh();
});

loadLists();
refreshSlide();
refreshPhoto();
layers.refresh();
