// Draws a traced graph as SVG, inputs on the left, output on the right, and what is known
// at the current step: values after their forward step, gradients after their backward one.
import { fmt, rows } from "../format.js";

const SVG = "http://www.w3.org/2000/svg";
const CELL_W = 50, CELL_H = 16, PAD = 8, HEAD = 20, GAP_X = 84, GAP_Y = 22;
// A value used this many times or more (an RNN's w and u, used at every time step) fans out:
// its edges' gradients, all printed, piled up between the columns, each far from its edge.
// Such an edge prints its gradient at the step that sends it (its target's), and always in
// its tooltip.
const FAN_OUT = 5;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// A node's title: "q = x + y" for an operation, its label for an input (at most 28 characters).
function title(n) {
  const text = n.kind === "op" ? `${n.label} = ${n.formula}` : n.label;
  return text.length > 28 ? text.slice(0, 27) + "…" : text;
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
    const text = 7.3 * title(n).length + 2 * PAD + 4; // the title fits in its box (12px monospace)
    const w = Math.ceil(Math.max(96, text, scalar ? 0 : c * CELL_W + 2 * PAD));
    const h = HEAD + (scalar ? 2 * 18 : 2 * r * CELL_H + 10) + PAD;
    boxes.set(n.id, { w, h, col: column.get(n.id) });
  }
  const columns = [];
  for (const n of nodes) (columns[boxes.get(n.id).col] ||= []).push(n);
  // Order each column by the mean height of the inputs (fewer crossings), then stack.
  const x0 = [], widths = [];
  let x = 10;
  columns.forEach((col, i) => {
    x0[i] = x;
    widths[i] = Math.max(...(col || []).map((n) => boxes.get(n.id).w), 0);
    x += widths[i] + GAP_X;
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
  const spans = columns.map((_, i) => ({ left: x0[i], right: x0[i] + widths[i] }));
  return { boxes, spans, width: x, height: height + 10 };
}

// The level at which an edge from column c1 to column c2 crosses the columns between them:
// clear of their nodes (an edge drawn behind a node reads as going into it) and of the other
// edges already routed there, as near as can be to its two ends.
function lane(y1, y2, c1, c2, boxes, used) {
  const between = [...boxes.values()].filter((b) => b.col > c1 && b.col < c2);
  const candidates = [y1, y2, (y1 + y2) / 2];
  for (const b of between) {
    for (let k = 0; k < 4; k++) candidates.push(b.y + b.h + GAP_Y / 2 + 8 * k, b.y - GAP_Y / 2 - 8 * k);
  }
  const free = (y) => y > 3 && between.every((b) => y < b.y - 5 || y > b.y + b.h + 5)
    && used.every((u) => u.c2 <= c1 + 1 || u.c1 >= c2 - 1 || Math.abs(u.y - y) >= 7);
  const best = candidates.filter(free).sort((a, b) => Math.abs(a - y1) + Math.abs(a - y2) - Math.abs(b - y1) - Math.abs(b - y2))[0];
  return best ?? Math.max(...between.map((b) => b.y + b.h)) + GAP_Y / 2 + 8 * used.length;
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

// Where each edge leaves its source and enters its target: every use its own edge, on its own
// port (x * x is two edges, as it is two uses), the ports spread along the boxes' sides.
function ports(edges, boxes) {
  const out = new Map(), into = new Map();
  for (const e of edges) {
    (out.get(e.source) || out.set(e.source, []).get(e.source)).push(e);
    (into.get(e.target) || into.set(e.target, []).get(e.target)).push(e);
  }
  const place = new Map(); // edge -> {y1, y2, bend}
  const spread = (box, k, n) => box.y + (box.h * (k + 1)) / (n + 1);
  for (const [target, list] of into) {
    list.sort((a, b) => a.slot - b.slot);
    list.forEach((e, k) => place.set(e, { y2: spread(boxes.get(target), k, list.length) }));
  }
  for (const [source, list] of out) {
    // top to bottom by where they enter, so that edges leaving one node do not cross
    list.sort((a, b) => place.get(a).y2 - place.get(b).y2 || a.target - b.target || a.slot - b.slot);
    list.forEach((e, k) => { place.get(e).y1 = spread(boxes.get(source), k, list.length); });
    // uses of one value by one node (x * x) bend apart, so that they read as two edges
    for (const e of list) {
      const twins = list.filter((o) => o.target === e.target);
      const k = twins.indexOf(e);
      place.get(e).bend = twins.length > 1 ? (k - (twins.length - 1) / 2) * 28 : 0;
    }
  }
  return place;
}

// A point of the cubic Bézier (p0, c1, c2, p3) at t.
function bezier(p, t) {
  const u = 1 - t;
  return [0, 1].map((k) => u * u * u * p[0][k] + 3 * u * u * t * p[1][k] + 3 * u * t * t * p[2][k] + t * t * t * p[3][k]);
}

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

// A place for an edge's label, on or near its curve, clear of every node and of the labels
// already placed (two uses of one value between the same nodes carry two readable labels).
function labelBox(curve, text, taken, bounds) {
  const w = 7.4 * text.length + 6, h = 15;
  for (const t of [0.5, 0.62, 0.38, 0.74, 0.26, 0.84, 0.16]) {
    const [x, y] = bezier(curve, t);
    for (const dy of [0, -9, 9, -18, 18, -27, 27]) {
      const box = { x: x - w / 2, y: y + dy - h + 3, w, h };
      if (box.x < 0 || box.y < 0 || box.x + w > bounds.width || box.y + h > bounds.height) continue;
      if (!taken.some((b) => overlaps(b, box))) return box;
    }
  }
  return null;
}

// view: {known: Set of ids with values, grads: Map id -> gradient, flows: Map "src>dst#slot" ->
// downstream, current: id or null, phase}
export function drawGraph(container, data, view) {
  const { boxes, spans, width, height: nodesHeight } = layout(data.nodes);
  let height = nodesHeight;
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Graph of ${data.nodes.length} ${data.nodes.length === 1 ? "node" : "nodes"}` });
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }));
  defs.append(marker);
  root.append(defs);

  const place = ports(data.edges, boxes);
  const uses = new Map();
  for (const e of data.edges) uses.set(e.source, (uses.get(e.source) ?? 0) + 1);
  const taken = [...boxes.values()].map((b) => ({ x: b.x - 2, y: b.y - 2, w: b.w + 4, h: b.h + 4 }));
  const labels = [], paths = [], used = [];
  for (const e of data.edges) {
    const a = boxes.get(e.source), b = boxes.get(e.target);
    const { y1, y2, bend } = place.get(e);
    const x1 = a.x + a.w, x2 = b.x;
    let curves; // cubic Béziers, end to end
    if (b.col - a.col > 1) { // across other columns: around their nodes, along a lane of its own
      const y = lane(y1, y2, a.col, b.col, boxes, used);
      used.push({ y, c1: a.col, c2: b.col });
      height = Math.max(height, y + 12);
      const xa = spans[a.col + 1].left - 6, xb = spans[b.col - 1].right + 6;
      const ma = (x1 + xa) / 2, mb = (xb + x2) / 2;
      curves = [[[x1, y1], [ma, y1], [ma, y], [xa, y]], [[xa, y], [xa, y], [xb, y], [xb, y]], [[xb, y], [mb, y], [mb, y2], [x2, y2]]];
    } else {
      const mx = (x1 + x2) / 2;
      curves = [[[x1, y1], [mx, y1 + bend], [mx, y2 + bend], [x2, y2]]];
    }
    const d = `M${x1},${y1} ` + curves.map((c) => `C${c[1]} ${c[2]} ${c[3]}`).join(" ");
    const flow = view.flows.get(`${e.source}>${e.target}#${e.slot}`);
    const active = view.current === e.target || view.current === e.source;
    const path = svg("path", { d,
      class: `edge${flow !== undefined ? " carried" : ""}${active ? " active" : ""}`, "marker-end": "url(#arrow)",
      "data-source": e.source, "data-target": e.target, "data-slot": e.slot });
    const fans = uses.get(e.source) >= FAN_OUT;
    if (flow !== undefined && fans) {
      path.append(svg("title", {}, `∂ ${fmt(flow)}, from ${data.nodes[e.target].label} to ${data.nodes[e.source].label}`));
    }
    paths.push(path);
    if (flow !== undefined && data.nodes[e.source].shape.length === 0 && (!fans || view.current === e.target)) {
      const text = fmt(flow);
      const box = labelBox(curves.at(-1), text, taken, { width, height: height + 40 }) // in the last gap, before the target
        ?? (curves.length > 1 ? labelBox(curves[1], text, taken, { width, height: height + 40 }) : null);
      const [x, y] = box ? [box.x + box.w / 2, box.y + box.h - 3] : bezier(curves.at(-1), 0.5);
      if (box) taken.push(box);
      labels.push(svg("text", { x, y, class: "num grad flow", "text-anchor": "middle",
        "data-source": e.source, "data-target": e.target, "data-slot": e.slot }, text));
    }
  }

  height = Math.max(height, ...taken.map((t) => t.y + t.h + 2));
  root.setAttribute("height", height);
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  root.append(...paths);
  for (const n of data.nodes) {
    const b = boxes.get(n.id);
    const g = svg("g", { class: `node ${n.kind}${view.current === n.id ? " current" : ""}`, "data-id": n.id, "data-label": n.label });
    g.append(svg("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 8 }));
    g.append(svg("text", { x: b.x + PAD, y: b.y + 14, class: "label" }, title(n)));
    let y = b.y + HEAD;
    if (view.known.has(n.id)) y += drawValue(g, n.value, n.shape, b.x, y, b.w, "value");
    if (view.grads.has(n.id)) drawValue(g, view.grads.get(n.id), n.shape, b.x, y, b.w, "grad");
    const full = n.kind === "op" ? `${n.label} = ${n.formula}` : n.label;
    g.append(svg("title", {}, `${full}\nvalue ${fmt(n.value)}\ngradient ${fmt(n.grad)}`));
    root.append(g);
  }
  root.append(...labels); // over the nodes, though placed clear of them
  container.replaceChildren(root);
}
