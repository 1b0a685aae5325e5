// The network as TensorFlow Playground draws it, in SVG: the inputs, each hidden unit as a
// small heatmap of its output over the plane, the outputs; an edge per weight, its width
// from |w| (against the largest weight of the frame) and its colour from its sign.
import { bytes } from "./plane.js";

const SVG = "http://www.w3.org/2000/svg";
const POSITIVE = [0, 114, 178]; // blue, as the plane's class 0 … and Playground's positive
const NEGATIVE = [213, 94, 0]; // vermillion

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function title(node, text) {
  const t = svg("title");
  t.textContent = text;
  node.append(t);
  return t;
}

// Paint a unit's output {min, max, values: b64 bytes} into its canvas (size × size): white at
// 0, blue above, vermillion below, full at the largest |value| of that unit. A 1-D input's
// unit depends on x alone: its row of values is repeated down the square. (A canvas per unit,
// not an <image> of a PNG data URL: encoding 64 PNGs a frame halved the frame rate.)
function paintUnit(canvas, unit, size) {
  if (canvas.width !== size) canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  const values = bytes(unit.values);
  const scale = (unit.max - unit.min) / 255;
  const biggest = Math.max(Math.abs(unit.min), Math.abs(unit.max)) || 1;
  const across = values.length < size * size;
  for (let k = 0; k < size * size; k++) {
    const v = (unit.min + values[across ? k % size : k] * scale) / biggest; // in [-1, 1]
    const colour = v >= 0 ? POSITIVE : NEGATIVE;
    const t = Math.min(1, Math.abs(v));
    for (let c = 0; c < 3; c++) image.data[4 * k + c] = Math.round(255 + t * (colour[c] - 255));
    image.data[4 * k + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

// Names of the inputs and outputs, as the notes write them.
function names(layers, regression) {
  const inputs = layers[0] === 1 ? ["x"] : layers[0] === 2 ? ["x₁", "x₂"] : Array.from({ length: layers[0] }, (_, i) => `x${i + 1}`);
  const out = layers.at(-1);
  const outputs = regression ? ["ŷ"] : out === 1 ? ["logit"] : Array.from({ length: out }, (_, i) => `class ${i}`);
  return { inputs, outputs };
}

// Build the drawing for `layers` ([2, 8, 8, 1]); returns update(frame), which colours the
// edges and fills the units' heatmaps from a frame.
export function drawNetwork(holder, layers, { regression = false } = {}) {
  const widest = Math.max(...layers);
  const node = widest > 8 ? 24 : 34; // a unit's side, px
  const gap = widest > 8 ? 6 : 10;
  const columnGap = 96;
  const height = widest * (node + gap) + 30;
  const width = (layers.length - 1) * columnGap + node + 110; // room for "class 2" on the right
  const x = (l) => 45 + l * columnGap;
  const y = (l, i) => 22 + (height - 30 - layers[l] * (node + gap)) / 2 + i * (node + gap);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    "aria-label": `The network: ${layers.join(" → ")} units` });
  const { inputs, outputs } = names(layers, regression);

  // edges first, so that the units lie over them
  const edges = [];
  const edgeLayer = svg("g", { class: "net-edges" });
  for (let l = 0; l + 1 < layers.length; l++) {
    const rows = [];
    for (let j = 0; j < layers[l + 1]; j++) {
      const row = [];
      for (let i = 0; i < layers[l]; i++) {
        const x0 = x(l) + node, y0 = y(l, i) + node / 2, x1 = x(l + 1), y1 = y(l + 1, j) + node / 2;
        const mid = (x0 + x1) / 2;
        const path = svg("path", { d: `M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1}`, class: "net-edge" });
        edgeLayer.append(path);
        row.push(path);
      }
      rows.push(row);
    }
    edges.push(rows);
  }
  root.append(edgeLayer);

  const images = []; // images[hidden layer][unit]
  layers.forEach((n, l) => {
    const column = [];
    for (let i = 0; i < n; i++) {
      const g = svg("g", { class: "net-unit" });
      const box = svg("rect", { x: x(l), y: y(l, i), width: node, height: node, rx: 3 });
      g.append(box);
      if (l === 0 || l === layers.length - 1) {
        const label = l === 0 ? inputs[i] : outputs[i];
        g.classList.add(l === 0 ? "net-input" : "net-output");
        const text = svg("text", { x: l === 0 ? x(l) - 6 : x(l) + node + 6, y: y(l, i) + node / 2 + 4,
          "text-anchor": l === 0 ? "end" : "start" });
        text.textContent = label;
        g.append(text);
        title(g, l === 0 ? `input ${label}` : `output: ${label}`);
      } else {
        const slot = svg("foreignObject", { x: x(l), y: y(l, i), width: node, height: node });
        const canvas = document.createElement("canvas");
        canvas.className = "net-map";
        slot.append(canvas);
        g.insertBefore(slot, box);
        column.push({ canvas, tip: title(g, "") });
      }
      root.append(g);
    }
    if (l > 0 && l < layers.length - 1) images.push(column);
    const caption = svg("text", { x: x(l) + node / 2, y: 12, "text-anchor": "middle", class: "net-caption" });
    caption.textContent = l === 0 ? "input" : l === layers.length - 1 ? "output" : `hidden ${l}`;
    root.append(caption);
  });
  holder.replaceChildren(root);

  return function update(frame, gridSize) {
    let biggest = 0;
    for (const { w } of frame.weights) for (const row of w) for (const v of row) biggest = Math.max(biggest, Math.abs(v));
    biggest ||= 1;
    frame.weights.forEach(({ w }, l) => w.forEach((row, j) => row.forEach((v, i) => {
      const path = edges[l]?.[j]?.[i];
      if (!path) return;
      const t = Math.abs(v) / biggest;
      const [r, g, b] = v >= 0 ? POSITIVE : NEGATIVE;
      path.style.stroke = `rgba(${r},${g},${b},${(0.25 + 0.75 * t).toFixed(2)})`;
      path.style.strokeWidth = (0.4 + 4.6 * t).toFixed(2);
    })));
    (frame.units || []).forEach((column, l) => column.forEach((unit, i) => {
      const cell = images[l]?.[i];
      if (!cell) return;
      paintUnit(cell.canvas, unit, gridSize);
      cell.tip.textContent = `hidden layer ${l + 1}, unit ${i + 1}: its output over the plane, from ${unit.min.toPrecision(3)} to ${unit.max.toPrecision(3)}`;
    }));
  };
}
