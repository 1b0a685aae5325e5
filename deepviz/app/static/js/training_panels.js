// The training lab's panels below the run: the PyTorch program of the run (copy, download)
// and the race of Newton against first-order methods (POST /api/v1/train/race).
import { api, errorText, latest } from "./api.js";
import { el, fmt } from "./format.js";
import { drawRace } from "./render/curves.js";
import { statusLine } from "./status.js";

const $ = (id) => document.getElementById(id);

export const OPTIMIZER_NAMES = {
  gd: "gradient descent", sgd: "minibatch SGD", momentum: "momentum", nesterov: "Nesterov",
  adam: "Adam", rmsprop: "RMSprop", newton: "Newton",
};

// -- the PyTorch program --------------------------------------------------------------------
let downloadUrl = null;

// The program of the current run: the `model` message brings it with each new run; a live
// change of the training (optimizer, learning rate, …) asks the server for it again.
let programRequest = null;
export async function refreshProgram(config) {
  programRequest ??= latest(api.trainProgram, statusLine($("program-status"), "the program"));
  const run = config();
  const answer = await programRequest({ config: run });
  if (answer?.ok) showProgram(answer.data.text, run); // refused: the run's error says why
}

export function showProgram(text, run) {
  $("program").textContent = text;
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([text], { type: "text/x-python" }));
  $("download-program").href = downloadUrl;
  $("download-program").download = `deepviz_${run.data.name}_${run.train.optimizer}.py`; // as the server names it
}

async function copyProgram() {
  const text = $("program").textContent;
  try {
    await navigator.clipboard.writeText(text);
    $("copy-state").textContent = "copied";
  } catch {
    // no clipboard (an insecure origin, or refused): select the text for Ctrl+C instead
    const range = document.createRange();
    range.selectNodeContents($("program"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    $("copy-state").textContent = "selected: press Ctrl+C (⌘C) to copy";
  }
  setTimeout(() => { $("copy-state").textContent = ""; }, 4000);
}

// -- the race -------------------------------------------------------------------------------
// Each racer's learning rate: one that suits it on these small problems (Newton's step is 1).
const RACERS = [
  { optimizer: "gd", lr: 0.5 },
  { optimizer: "sgd", lr: 0.1, batch_size: 10 },
  { optimizer: "momentum", lr: 0.1, momentum: 0.9 },
  { optimizer: "adam", lr: 0.03 },
  { optimizer: "newton", lr: 1 },
];

// Why a racer stopped before its last step, in words.
const STOPPED = {
  diverged: (n) => `diverged after ${n}`,
  time: (n) => `out of time after ${n}`, // the racers share the request's time limit
};

const seconds = (t) => (t === null || t === undefined ? "–" : t < 1 ? `${fmt(t * 1000, 3)} ms` : `${fmt(t, 3)} s`);

function raceTable(results) {
  const table = el("table", { class: "steps race-results" });
  table.append(el("tr", {}, ...["optimizer", "learning rate", "steps to target", "time to target", "time in all", "final loss"]
    .map((h) => el("th", { scope: "col" }, h))));
  for (const r of results) {
    const racer = RACERS.find((x) => x.optimizer === r.optimizer);
    const final = r.losses.at(-1);
    const reached = r.steps_to_target !== null && r.steps_to_target !== undefined;
    table.append(el("tr", { "data-optimizer": r.optimizer, class: reached ? "reached" : "" },
      el("th", { scope: "row" }, OPTIMIZER_NAMES[r.optimizer] ?? r.optimizer),
      el("td", {}, racer ? fmt(racer.lr) : "–"),
      el("td", {}, reached ? String(r.steps_to_target) : STOPPED[r.stopped]?.(r.losses.length) ?? `not in ${r.losses.length}`),
      el("td", {}, seconds(r.seconds_to_target)),
      el("td", {}, seconds(r.seconds)),
      el("td", {}, fmt(final))));
  }
  return table;
}

// config(): the current run; parameters(): its model's size (from the server), or null.
export function racePanel(config, parameters) {
  const race = latest(api.trainRace, statusLine($("race-status"), "the race"));
  const mostNewton = Number($("race").dataset.mostNewton); // the server's bound on Newton's Hessian
  $("race").addEventListener("click", async () => {
    const target = Number($("target-loss").value);
    const steps = Number($("race-steps").value);
    $("race-error").hidden = true;
    const size = parameters();
    const newtonSitsOut = size !== null && size > mostNewton;
    $("race-note").hidden = !newtonSitsOut;
    $("race-note").textContent = newtonSitsOut ? `Newton sits this race out: its Hessian would be ${size} × ${size}, and it races models of at most ${mostNewton} parameters. Remove units or layers to let it in.` : "";
    const racers = newtonSitsOut ? RACERS.filter((r) => r.optimizer !== "newton") : RACERS;
    const answer = await race({ config: config(), racers, target_loss: target, max_steps: steps });
    if (!answer) return;
    if (!answer.ok) {
      $("race-error").hidden = false;
      $("race-error").textContent = errorText(answer.data);
      return;
    }
    const { results } = answer.data;
    $("race-plot").hidden = false;
    drawRace($("race-plot"), results, target, (name) => OPTIMIZER_NAMES[name] ?? name);
    $("race-table").replaceChildren(raceTable(results));
  });
}

export function programPanel() {
  $("copy-program").addEventListener("click", copyProgram);
}
