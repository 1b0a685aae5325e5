// LeNet-5's frames: decoding quantized maps and drawing each layer.
import { el } from "../format.js";
import { heatmap } from "./heatmap.js";

// A quantized map {shape, min, max, data: base64 bytes} as nested arrays of floats.
export function decode(m) {
  const bytes = Uint8Array.from(atob(m.data), (c) => c.charCodeAt(0));
  const scale = (m.max - m.min) / 255;
  const flat = Array.from(bytes, (b) => m.min + b * scale);
  const [a, b, c] = m.shape;
  if (m.shape.length === 1) return flat;
  if (m.shape.length === 2) return Array.from({ length: a }, (_, i) => flat.slice(i * b, (i + 1) * b));
  return Array.from({ length: a }, (_, k) => Array.from({ length: b }, (_, i) => flat.slice(k * b * c + i * c, k * b * c + (i + 1) * c)));
}

const TITLES = { conv1: "conv1 + ReLU: 6@28×28", pool1: "pool1: 6@14×14", conv2: "conv2 + ReLU: 16@10×10",
  pool2: "pool2: 16@5×5", fc1: "fc1 + ReLU: 120", fc2: "fc2 + ReLU: 84", fc3: "fc3: 10 logits" };

// Draw every layer; onUnit(layerName, channel, row, col) when a unit is clicked.
export function drawLayers(container, layers, onUnit) {
  const blocks = layers.map((m) => {
    const values = decode(m);
    const figure = el("figure", { class: "layer", "data-layer": m.name }, el("figcaption", {}, TITLES[m.name] || m.name));
    const box = el("div", { class: "channels" });
    if (m.shape.length === 3) {
      // one scale for the whole layer, so maps compare: pad a fake cell pair with min and max
      const cell = Math.max(2, Math.floor(84 / m.shape[1]));
      values.forEach((map, k) => {
        const canvas = el("canvas", { class: "pixels", "data-channel": String(k), "aria-label": `${m.name} map ${k + 1}` });
        const pick = heatmap(canvas, withRange(map, m.min, m.max), { cell, signed: false });
        canvas.addEventListener("click", (event) => onUnit(m.name, k, ...pick(event)));
        box.append(canvas);
      });
    } else {
      const canvas = el("canvas", { class: "pixels strip", "aria-label": `${m.name}: ${m.shape[0]} units` });
      heatmap(canvas, [values], { cell: m.shape[0] > 20 ? 5 : 22, signed: false });
      box.append(canvas);
    }
    figure.append(box);
    return figure;
  });
  container.replaceChildren(...blocks);
}

// The same map, drawn against the layer's range rather than its own.
function withRange(map, lo, hi) {
  const copy = map.map((row) => row.slice());
  copy.range = [lo, hi];
  return copy;
}
