// The optimizers page: choose a surface and racers, click a start, and watch the engine's
// optimizers race (trajectories on the contour, loss and step size against step, who got there).
import { api, errorText, latest } from "./api.js";
import { el, fmt } from "./format.js";
import { player } from "./player.js";
import { COLOURS, drawLoss, drawMap, drawSizes, resultsTable } from "./render/race.js";
import { adopt, bindControls, forget, onFollow, param, readState, writeState } from "./state.js";
import { statusLine } from "./status.js";

const $ = (id) => document.getElementById(id);
const KAPPAS = ["1", "2", "5", "10", "20", "50", "100", "200", "500", "1000"]; // the slider's stops
const DEFAULT_RACERS = "gd,momentum,adam,newton,newton_safeguarded";
const status = statusLine([$("race-status"), $("map-status")]); // by the Race button, and on the map (a phone's first screen)
const loadOptions = latest(api.optimizeOptions, status, { persist: true });
const request = latest(api.optimize, status);
const compact = () => window.matchMedia("(max-width: 700px)").matches;

let options = null; // surfaces, optimizers, datasets, limits: from the server
let state = null;
let answer = null; // the last race
let t = 0; // the step shown
let clickBound = false;
let parameters = null; // the page's table, once the server has said what the parameters may be
let play = null; // the step player
let racing = 0; // races asked for and not answered yet
let pending = null; // the race asked for and not answered yet (its body, as JSON)

// -- the page's parameters, once the server has said what they may be ----------------------
function table(o) {
  const names = o.optimizers.map((x) => x.name);
  const lr = (name) => ({
    ...param.custom((text) => {
      if (text.trim() === "") return "";
      const n = Number(text);
      if (!Number.isFinite(n) || n <= 0 || n > o.limits.learning_rate) {
        throw new Error(`expected a learning rate above 0 and at most ${o.limits.learning_rate}, or nothing for the default`);
      }
      return text.trim();
    }, "", `lr-${name}`),
    event: "change",
  });
  const coordinate = (control) => ({
    ...param.custom((text) => {
      if (text.trim() === "") return "";
      const n = Number(text);
      if (!Number.isFinite(n) || Math.abs(n) > o.limits.start) throw new Error(`expected a number from -${o.limits.start} to ${o.limits.start}`);
      return text.trim();
    }, "", control),
    event: "change",
  });
  const typed = (p) => ({ ...p, event: "change" }); // a number typed digit by digit: races when done
  return {
    surface: param.oneOf(o.surfaces.map((s) => s.name), "quadratic", "surface"),
    k: param.oneOf(KAPPAS, "10"),
    x: coordinate("start-x"),
    y: coordinate("start-y"),
    steps: typed(param.integer(1, o.limits.steps, "100", "steps")),
    racers: param.custom((text) => {
      const list = text.split(",").filter(Boolean);
      const unknown = list.find((n) => !names.includes(n));
      if (unknown) throw new Error(`“${unknown}” is not an optimizer: one of ${names.join(", ")}`);
      if (new Set(list).size !== list.length) throw new Error("an optimizer is named twice");
      return list.join(",");
    }, DEFAULT_RACERS),
    ...Object.fromEntries(names.map((name) => [`lr_${name}`, lr(name)])),
    mu: typed(param.number(0, 0.999, "0.9", "momentum")),
    batch: typed(param.integer(1, o.limits.points, "10", "batch")),
    damping: typed(param.number(0, 1000, "0", "damping")),
    data: param.oneOf(o.datasets, "blobs", "dataset"),
    n: typed(param.integer(2, o.limits.points, "100", "points")),
    noise: typed(param.number(0, 1, "0.1", "noise")),
    seed: typed(param.integer(0, 2 ** 31 - 1, "0", "seed")),
    t: param.custom((text) => {
      if (!/^\d{1,6}$/.test(text)) throw new Error("expected a step number");
      return text;
    }, ""), // the step shown; empty: the last
  };
}

const surfaceOf = (name) => options.surfaces.find((s) => s.name === name);
const chosen = () => state.racers.split(",").filter(Boolean);

// -- controls ---------------------------------------------------------------------------
function buildControls() {
  $("surface").replaceChildren(...options.surfaces.map((s) => el("option", { value: s.name }, s.title)));
  $("dataset").replaceChildren(...options.datasets.map((d) => el("option", { value: d }, d)));
  $("racers").tBodies[0].replaceChildren(...options.optimizers.map((o) => {
    const box = el("input", { type: "checkbox", id: `use-${o.name}`, value: o.name });
    box.addEventListener("change", () => {
      const now = new Set(chosen());
      if (box.checked) now.add(o.name);
      else now.delete(o.name);
      state.racers = options.optimizers.map((x) => x.name).filter((n) => now.has(n)).join(",");
      forget("racers");
      race();
    });
    const swatch = el("span", { class: "racer-swatch" });
    swatch.style.background = COLOURS[o.name];
    const rate = el("input", { type: "number", id: `lr-${o.name}`, min: "0", step: "any", "aria-label": `${o.title}: learning rate` });
    return el("tr", { "data-name": o.name },
      el("td", { class: "racer" }, box, el("label", { for: `use-${o.name}` }, swatch, o.title), el("small", { class: "why" }, "")),
      el("td", {}, rate));
  }));
}

// Which controls the surface uses, which racers apply to it, and the defaults it would take.
function showControls() {
  const surface = surfaceOf(state.surface);
  $("condition-row").hidden = state.surface !== "quadratic";
  $("dataset-row").hidden = state.surface !== "logistic";
  $("batch").closest(".row").hidden = state.surface !== "logistic";
  $("condition").value = String(KAPPAS.indexOf(state.k));
  $("condition-value").textContent = `κ = ${state.k}`;
  const rates = answer && answer.surface.name === state.surface ? answer.surface.learning_rates : surface.learning_rates;
  const start = answer && answer.surface.name === state.surface ? answer.surface.start : surface.start;
  $("start-x").placeholder = fmt(start[0]);
  $("start-y").placeholder = fmt(start[1]);
  for (const o of options.optimizers) {
    const applies = surface.optimizers.includes(o.name);
    const box = $(`use-${o.name}`);
    box.checked = chosen().includes(o.name);
    box.disabled = !applies;
    box.closest("tr").classList.toggle("off", !applies);
    box.closest("tr").querySelector(".why").textContent = applies ? "" : " needs examples: logistic regression only";
    $(`lr-${o.name}`).placeholder = applies ? fmt(rates[o.name]) : "–";
    $(`lr-${o.name}`).disabled = !applies;
  }
}

// -- the race -----------------------------------------------------------------------------
async function race() {
  showControls();
  writeState(state);
  const surface = surfaceOf(state.surface);
  const racers = chosen().filter((n) => surface.optimizers.includes(n));
  if (!racers.length) {
    $("race-error").hidden = false;
    $("race-error").textContent = "Tick at least one racer.";
    return;
  }
  const number = (v) => Number(v);
  const body = {
    surface: state.surface,
    start: state.x !== "" && state.y !== "" ? [number(state.x), number(state.y)] : null,
    steps: number(state.steps),
    condition: number(state.k),
    optimizers: racers.map((name) => ({
      name,
      learning_rate: state[`lr_${name}`] === "" ? null : number(state[`lr_${name}`]),
      momentum: number(state.mu),
      batch_size: number(state.batch),
      damping: number(state.damping),
    })),
    dataset: { name: state.data, points: number(state.n), noise: number(state.noise), seed: number(state.seed) },
    seed: number(state.seed),
  };
  const asked = JSON.stringify(body);
  if (asked === pending) return; // Enter in a field: its change and the form's submit, one race
  pending = asked;
  racing++;
  const got = await request(body).finally(() => racing--);
  if (pending === asked) pending = null;
  if (!got) return;
  $("race-error").hidden = got.ok;
  if (!got.ok) {
    $("race-error").textContent = errorText(got.data);
    return;
  }
  answer = got.data;
  showControls();
  $("formula").innerHTML = answer.surface.formula; // MathML the server made from its own LaTeX
  $("surface-note").textContent = answer.surface.note;
  $("tolerance").textContent = `“Reached the minimum”: within ${fmt(answer.tolerance)} of one (the white star). `
    + "The loss is plotted as its distance to the minimum's, L − L*, on a log scale.";
  const slider = $("step");
  slider.max = String(last());
  show(state.t === "" ? last() : Math.min(Number(state.t), last()));
}

const last = () => Math.max(...answer.trajectories.map((x) => x.points.length - 1));

function show(step) {
  if (!answer || !window.Plotly) return;
  t = Math.max(0, Math.min(step, last()));
  state.t = t === last() ? "" : String(t);
  writeState(state);
  $("step").value = String(t);
  $("step-counter").textContent = `step ${t} of ${last()}`;
  drawMap($("contour"), $("paths"), answer, t, compact());
  drawLoss($("loss-plot"), answer, t);
  drawSizes($("size-plot"), answer, t);
  $("results").replaceChildren(resultsTable(answer, t));
  if (!clickBound) { // a click on the map moves the start there (to the grid point under it)
    clickBound = true;
    $("paths").on("plotly_click", (event) => {
      const point = event.points?.[0];
      if (!point || typeof point.x !== "number") return;
      state.x = String(Number(point.x.toPrecision(4)));
      state.y = String(Number(point.y.toPrecision(4)));
      $("start-x").value = state.x;
      $("start-y").value = state.y;
      forget("x");
      forget("y");
      state.t = "";
      race();
    });
  }
}

// -- start ----------------------------------------------------------------------------------
// The server's options (surfaces, racers, limits) first, then the page's wiring. Called again
// (Race pressed while they cannot be loaded), it tries at once; the older call gives way.
async function begin() {
  const got = await loadOptions();
  if (!got || options) return;
  if (!got.ok) {
    $("race-error").hidden = false;
    $("race-error").textContent = errorText(got.data);
    return;
  }
  options = got.data;
  buildControls();
  parameters = table(options);
  state = readState(parameters).state;
  if (movedK) { // slid while the options were loading
    state.k = movedK;
    forget("k");
  }
  bindControls(parameters, state, (key) => {
    if (key === "surface") { // a new surface: its own start and learning rates (a rate is a surface's)
      state.x = state.y = "";
      $("start-x").value = $("start-y").value = "";
      for (const o of options.optimizers) {
        state[`lr_${o.name}`] = "";
        $(`lr-${o.name}`).value = "";
      }
    }
    state.t = "";
    race();
  });
  $("default-start").addEventListener("click", () => {
    state.x = state.y = "";
    $("start-x").value = $("start-y").value = "";
    state.t = "";
    race();
  });
  $("step").addEventListener("input", () => show(Number($("step").value)));
  play = player($("play"), { advance: () => show(t + 1), done: () => !answer || t >= last(), restart: () => show(0), interval: 60 });
  $("race-form").addEventListener("change", () => play.stop());
  race();
}

// Classroom mode: the instructor's race. The step alone changed: shown from the race at hand;
// anything else: a new race (its controls shown by race()). Before the server's options have
// arrived, the URL (replaced by onFollow) is what main() reads.
onFollow((followed) => {
  if (!state) return;
  const changed = adopt(parameters, state, followed);
  if (!changed.size) return;
  play.stop();
  if (changed.size > 1 || !changed.has("t")) race();
  else if (answer && !racing) show(state.t === "" ? last() : Number(state.t)); // else the race coming shows it
});

// Wired before the options come: κ slides (kept for the race to come), and Race tries again
// at once (the form was sent as a page load, its fields in the URL, while they were missing).
let movedK = null;
function main() {
  const linkedSurface = new URLSearchParams(location.search).get("surface") ?? "quadratic";
  $("surface").replaceChildren(el("option", {}, linkedSurface)); // the menu, once the options come
  const k = new URLSearchParams(location.search).get("k");
  const linked = KAPPAS.includes(k) ? k : "10"; // checked again, and said, with the options
  $("condition").value = String(KAPPAS.indexOf(linked));
  $("condition-value").textContent = `κ = ${linked}`;
  $("condition").addEventListener("input", () => {
    const kappa = KAPPAS[Number($("condition").value)];
    if (!state) {
      movedK = kappa;
      $("condition-value").textContent = `κ = ${kappa}`;
      return;
    }
    state.k = kappa;
    forget("k");
    state.t = "";
    race();
  });
  $("race-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!state) return begin();
    state.t = "";
    race();
  });
  begin();
}

// plotly.js is loaded with `defer`, after this module may have started: wait for it.
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
else main();
