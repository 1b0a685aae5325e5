// The training lab's plots (plotly.js, served by deepviz): the train and test loss against
// the step, and the race of the optimizers (each one's train loss against its step).
import { classCss } from "./plane.js";

const CONFIG = { displayModeBar: false, responsive: true };
const MOST = 2000; // points kept per curve: past it every other one is dropped (the shape stays)

// The loss history of a run: add(frame) per frame, draw() at most every `every` ms.
export function lossCurves(plotEl, { every = 250 } = {}) {
  let steps = [], train = [], test = [];
  let last = 0;
  let pending = null;
  let revision = 0; // the arrays grow in place: plotly redraws when this changes
  const finite = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

  function draw() {
    pending = null;
    last = performance.now();
    if (!window.Plotly) return;
    window.Plotly.react(plotEl, [
      { x: steps, y: train, mode: "lines", name: "train loss J", line: { color: "#0072B2", width: 2 } },
      { x: steps, y: test, mode: "lines", name: "test loss", line: { color: "#D55E00", width: 2, dash: "dot" } },
    ], {
      margin: { t: 10, r: 10, b: 40, l: 50 }, height: 220, datarevision: ++revision,
      legend: { orientation: "h", y: 1.12, x: 0 },
      xaxis: { title: { text: "step" }, rangemode: "tozero" },
      yaxis: { title: { text: "loss" }, type: "log", dtick: "D2" },
    }, CONFIG);
  }

  return {
    add(frame) {
      if (steps.length && frame.step <= steps.at(-1)) { // a reset: the run starts again
        steps = []; train = []; test = [];
      }
      steps.push(frame.step);
      train.push(finite(frame.train_loss));
      test.push(finite(frame.test_loss));
      if (steps.length > MOST) {
        const keep = (_, i) => i % 2 === 0 || i === steps.length - 1;
        steps = steps.filter(keep); train = train.filter(keep); test = test.filter(keep);
      }
      const wait = every - (performance.now() - last);
      if (wait <= 0) draw();
      else pending ??= setTimeout(draw, wait);
    },
    clear() {
      steps = []; train = []; test = [];
      clearTimeout(pending);
      pending = null;
      draw();
    },
  };
}

const RACERS = { gd: 0, sgd: 1, momentum: 2, nesterov: 2, adam: 3, rmsprop: 3, newton: 4 };
const RACE_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00"];

export function drawRace(plotEl, results, target, label) {
  if (!window.Plotly) return;
  const traces = results.map((r) => ({
    x: r.losses.map((_, i) => i + 1),
    y: r.losses.map((v) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : null)),
    mode: r.losses.length < 30 ? "lines+markers" : "lines",
    name: label(r.optimizer),
    line: { color: RACE_COLOURS[RACERS[r.optimizer] ?? 0], width: r.optimizer === "newton" ? 3 : 2 },
  }));
  const longest = Math.max(1, ...results.map((r) => r.losses.length));
  traces.push({ x: [1, longest], y: [target, target], mode: "lines", name: "target loss",
    line: { color: classCss(-1, 0.8), dash: "dash", width: 1 } });
  window.Plotly.react(plotEl, traces, {
    margin: { t: 10, r: 10, b: 40, l: 50 }, height: 280,
    legend: { orientation: "h", y: 1.15, x: 0 },
    xaxis: { title: { text: "step" } },
    yaxis: { title: { text: "train loss" }, type: "log" },
  }, CONFIG);
}
