// The backprop page's timeline and its words: the frames a graph is stepped through (the
// start, one per forward node, one per backward step), what is known at each, and each
// step told in words ("upstream × local = downstream") and as a table.
import { el, fmt, listText, sumOf, valueText } from "./format.js";
import { grid } from "./render/grid.js";

// The frames of graph `d` (POST /api/v1/graph's answer, `data` below).
export function buildFrames(d) {
  return [{ phase: "start" }, ...d.nodes.map((n) => ({ phase: "forward", node: n.id })),
    ...d.backward.map((s) => ({ phase: "backward", node: s.node, step: s }))];
}

// What frame `index` shows: the values known, the gradients and the flows so far, the node at hand.
export function viewAt(frames, index) {
  const known = new Set(), grads = new Map(), flows = new Map();
  for (const f of frames.slice(0, index + 1)) {
    if (f.phase === "forward") known.add(f.node);
    if (f.phase === "backward") {
      grads.set(f.node, f.step.upstream);
      f.step.inputs.forEach((i, slot) => { // one flow per use: x * x has two
        if (i.downstream !== null) flows.set(`${i.node}>${f.node}#${slot}`, i.downstream);
      });
    }
  }
  return { known, grads, flows, current: frames[index].node ?? null };
}

// Every use of node `id` as an input, in forward order, with the gradient it sends back:
// [{target, slot, downstream}], downstream null for a use that carries none.
function uses(data, id) {
  const back = new Map(data.backward.map((s) => [s.node, s]));
  return data.edges.filter((e) => e.source === id)
    .sort((a, b) => a.target - b.target || a.slot - b.slot)
    .map((e) => ({ ...e, downstream: back.get(e.target)?.inputs[e.slot]?.downstream ?? null }));
}

// A node used more than once receives the sum of its uses' gradients: "-4 + 1 = -3, the
// sum over its 2 uses (-4 from q, 1 from f)"; "" for a node used once.
function sumOverUses(data, n, total) {
  const carried = uses(data, n.id).filter((u) => u.downstream !== null);
  if (carried.length < 2) return "";
  const seen = new Set();
  const from = carried.map((u) => {
    const again = seen.has(u.target) ? " again" : "";
    seen.add(u.target);
    return `${listText(u.downstream)} from ${data.nodes[u.target].label}${again}`;
  });
  return `${sumOf(carried.map((u) => u.downstream))} = ${listText(total)}, the sum over its ${carried.length} uses (${from.join(", ")})`;
}

// An input's name in a step: "x", or "x (input 2)" when the node takes x more than once.
function inputName(data, step, k) {
  const id = step.inputs[k].node;
  const name = data.nodes[id].label;
  return step.inputs.filter((i) => i.node === id).length > 1 ? `${name} (input ${k + 1})` : name;
}

export function narrate(data, frame) {
  const out = data.nodes[data.output].label;
  if (frame.phase === "start") return "Press Step (→) to run the forward pass, node by node.";
  const n = data.nodes[frame.node];
  if (frame.phase === "forward") {
    if (n.kind === "variable") return n.shape.length ? `${n.label} is an input${valueText(n.shape, n.value)}.` : `${n.label} = ${fmt(n.value)}: an input.`;
    if (n.kind === "constant") return `${n.label}: a constant.`;
    return `${n.label} = ${n.formula}${valueText(n.shape, n.value)}` + (n.id === data.output ? ". The forward pass is done; step on for the backward pass." : "");
  }
  const up = frame.step.upstream;
  const sum = sumOverUses(data, n, up);
  const gradient = `∂${out}/∂${n.label} = ${sum || listText(up)}`;
  if (!frame.step.inputs.length) return `${gradient}: ${n.label} is an input, and its gradient is complete.`;
  const head = n.id === data.output ? `${n.label} = ${n.formula}; upstream ∂${out}/∂${out} = 1`
    : `${n.label} = ${n.formula}${valueText(n.shape, n.value)}; upstream ${gradient}`;
  const parts = frame.step.inputs.map((i, k) => [i, k]).filter(([i]) => i.downstream !== null).map(([i, k]) => {
    const name = data.nodes[i.node].label;
    const scalarLocal = i.local !== null && !Array.isArray(i.local);
    const local = scalarLocal && i.rule !== fmt(i.local) ? ` = ${fmt(i.local)}` : "";
    const product = scalarLocal && !Array.isArray(up) ? `${fmt(i.local)} × ${fmt(up)} = ` : "";
    return `to ${inputName(data, frame.step, k)}: local ∂${n.label}/∂${name} = ${i.rule}${local}; downstream ${product}${listText(i.downstream)}`;
  });
  return [head, ...parts].join("; ");
}

export function detail(data, frame) {
  if (frame.phase !== "backward" || !frame.step.inputs.length) return [];
  const n = data.nodes[frame.node];
  const out = data.nodes[data.output].label;
  const table = el("table", { class: "chain" });
  table.append(el("tr", {}, ...["input", "local gradient", "× upstream", "= downstream"].map((h) => el("th", { scope: "col" }, h))));
  frame.step.inputs.forEach((i, k) => {
    const name = data.nodes[i.node].label;
    const cell = (v, kind) => (Array.isArray(v) ? grid(v, { kind }) : fmt(v));
    table.append(el("tr", {},
      el("th", { scope: "row" }, inputName(data, frame.step, k)),
      el("td", {}, `∂${n.label}/∂${name} = ${i.rule}`,
        i.local !== null && i.rule !== fmt(i.local) ? el("div", {}, cell(i.local, "local")) : ""),
      el("td", {}, cell(frame.step.upstream, "grad")),
      el("td", { class: "downstream" }, i.downstream === null ? "(a constant: no gradient)" : cell(i.downstream, "grad"))));
  });
  return [el("h3", {}, `At ${n.label}: upstream ∂${out}/∂${n.label}, local ∂${n.label}/∂input`), table];
}
