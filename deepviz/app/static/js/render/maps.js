// LeNet-5's frames: decoding quantized maps and drawing each layer.
import { el } from "../format.js";
import { heatmap } from "./heatmap.js";

// A quantized map {shape, min, max, data: base64 bytes} as nested arrays of floats.
export function decode(m) { // a map of a JSON frame (base64 `data`) or of a binary one (`bytes`)
  const bytes = m.bytes ?? Uint8Array.from(atob(m.data), (c) => c.charCodeAt(0));
  const scale = (m.max - m.min) / 255;
  const flat = Array.from(bytes, (b) => m.min + b * scale);
  const [a, b, c] = m.shape;
  if (m.shape.length === 1) return flat;
  if (m.shape.length === 2) return Array.from({ length: a }, (_, i) => flat.slice(i * b, (i + 1) * b));
  return Array.from({ length: a }, (_, k) => Array.from({ length: b }, (_, i) => flat.slice(k * b * c + i * c, k * b * c + (i + 1) * c)));
}

// "conv1 + ReLU: 6@28×28", "fc1 + ReLU: 120": the layer's caption (from the model) and its shape.
function caption(title, shape) {
  return `${title}: ${shape.length === 3 ? `${shape[0]}@${shape[1]}×${shape[2]}` : shape[0]}`;
}

// Draw every layer; onUnit(layerName, channel, row, col) when a unit is clicked.
export function drawLayers(container, layers, titles, onUnit) {
  const blocks = layers.map((m) => {
    const values = decode(m);
    const figure = el("figure", { class: "layer", "data-layer": m.name }, el("figcaption", {}, caption(titles[m.name] || m.name, m.shape)));
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
