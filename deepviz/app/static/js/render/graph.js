// Draws a traced graph as SVG, inputs on the left, output on the right, and what is known
// at the current step: values after their forward step, gradients after their backward one.
import { fmt, rows } from "../format.js";

const SVG = "http://www.w3.org/2000/svg";
const CELL_W = 44, CELL_H = 16, PAD = 8, HEAD = 20, GAP_X = 70, GAP_Y = 22;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function gridSize(shape) {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], 1];
  return [shape[0], shape[1]];
}

// Column of each node: ops one right of their latest input; inputs just left of their
// first consumer (so that z sits next to the multiplication, as in the notes' figure).
export function layout(nodes) {
  const column = new Map();
  for (const n of nodes) {
    column.set(n.id, n.inputs.length ? 1 + Math.max(...n.inputs.map((i) => column.get(i))) : 0);
  }
  for (const n of nodes) {
    if (n.inputs.length) continue;
    const consumers = nodes.filter((m) => m.inputs.includes(n.id)).map((m) => column.get(m.id));
    if (consumers.length) column.set(n.id, Math.min(...consumers) - 1);
  }
  const boxes = new Map();
  for (const n of nodes) {
    const [r, c] = gridSize(n.shape);
    const scalar = n.shape.length === 0;
    const w = scalar ? 96 : Math.max(96, c * CELL_W + 2 * PAD);
    const h = HEAD + (scalar ? 2 * 18 : 2 * r * CELL_H + 10) + PAD;
    boxes.set(n.id, { w, h, col: column.get(n.id) });
  }
  const columns = [];
  for (const n of nodes) (columns[boxes.get(n.id).col] ||= []).push(n);
  // Order each column by the mean height of the inputs (fewer crossings), then stack.
  const x0 = [];
  let x = 10;
  columns.forEach((col, i) => {
    x0[i] = x;
    x += Math.max(...(col || []).map((n) => boxes.get(n.id).w), 0) + GAP_X;
  });
  let height = 0;
  const centre = new Map();
  columns.forEach((col) => {
    if (!col) return;
    col.sort((a, b) => rank(a) - rank(b));
    let y = 10;
    for (const n of col) {
      const box = boxes.get(n.id);
      box.x = x0[box.col];
      box.y = y;
      centre.set(n.id, y + box.h / 2);
      y += box.h + GAP_Y;
    }
    height = Math.max(height, y);
  });
  function rank(n) {
    const ys = n.inputs.map((i) => centre.get(i)).filter((v) => v !== undefined);
    return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : n.id * 1e-3;
  }
  return { boxes, width: x, height: height + 10 };
}

function drawValue(group, value, shape, x, y, w, kind) {
  if (shape.length === 0) {
    group.append(svg("text", { x: x + w / 2, y: y + 13, class: `num ${kind}`, "text-anchor": "middle" },
      kind === "grad" ? `∂ ${fmt(value)}` : fmt(value)));
    return 18;
  }
  const r = rows(value);
  r.forEach((row, i) => row.forEach((v, j) => {
    group.append(svg("rect", { x: x + PAD + j * CELL_W, y: y + i * CELL_H, width: CELL_W - 2, height: CELL_H - 2, class: `cell ${kind}` }));
    group.append(svg("text", { x: x + PAD + j * CELL_W + CELL_W / 2 - 1, y: y + i * CELL_H + 11, class: `num small ${kind}`, "text-anchor": "middle" }, fmt(v, 3)));
  }));
  return r.length * CELL_H + 5;
}

// view: {known: Set of ids with values, grads: Map id -> gradient, flows: Map "src>dst" ->
// downstream, current: id or null, phase}
export function drawGraph(container, data, view) {
  const { boxes, width, height } = layout(data.nodes);
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Graph of ${data.nodes.length} nodes` });
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }));
  defs.append(marker);
  root.append(defs);

  for (const e of data.edges) {
    const a = boxes.get(e.source), b = boxes.get(e.target);
    const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2;
    const mx = (x1 + x2) / 2;
    const flow = view.flows.get(`${e.source}>${e.target}`);
    const active = view.current === e.target || view.current === e.source;
    root.append(svg("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`,
      class: `edge${flow !== undefined ? " carried" : ""}${active ? " active" : ""}`, "marker-end": "url(#arrow)" }));
    if (flow !== undefined && data.nodes[e.source].shape.length === 0) {
      root.append(svg("text", { x: mx, y: (y1 + y2) / 2 - 4, class: "num grad flow", "text-anchor": "middle" }, fmt(flow)));
    }
  }

  for (const n of data.nodes) {
    const b = boxes.get(n.id);
    const g = svg("g", { class: `node ${n.kind}${view.current === n.id ? " current" : ""}`, "data-id": n.id, "data-label": n.label });
    g.append(svg("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 8 }));
    const title = n.kind === "op" ? `${n.label} = ${n.formula}` : n.label;
    g.append(svg("text", { x: b.x + PAD, y: b.y + 14, class: "label" }, title.length > 28 ? title.slice(0, 27) + "…" : title));
    let y = b.y + HEAD;
    if (view.known.has(n.id)) y += drawValue(g, n.value, n.shape, b.x, y, b.w, "value");
    if (view.grads.has(n.id)) drawValue(g, view.grads.get(n.id), n.shape, b.x, y, b.w, "grad");
    g.append(svg("title", {}, `${title}\nvalue ${fmt(n.value)}\ngradient ${fmt(n.grad)}`));
    root.append(g);
  }
  container.replaceChildren(root);
}
