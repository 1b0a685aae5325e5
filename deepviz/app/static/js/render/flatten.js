// Flatten vs convolution (figure 5.1): the image, and the vector a fully connected layer
// reads. A clicked pixel (orange) and its neighbours above and below (blue) are marked in
// both: next to each other in the image, a whole row apart in the vector.
import { heatmap } from "./heatmap.js";

const PICKED = "#E69F00", NEIGHBOUR = "#56B4E9";
let picked = [0, 0]; // the pixel clicked last (row, column)

// figure: {image, vector} canvases and the vector's caption; input: the image's rows.
export function drawFlatten(figure, input) {
  const h = input.length, w = input[0].length;
  const [r, c] = picked.map((v, i) => Math.min(v, (i ? w : h) - 1));
  const at = (i, j) => ({ top: i, left: j, bottom: i, right: j });
  const mark = [{ ...at(r, c), colour: PICKED, width: 3 }];
  if (r > 0) mark.push({ ...at(r - 1, c), colour: NEIGHBOUR, width: 3 });
  if (r < h - 1) mark.push({ ...at(r + 1, c), colour: NEIGHBOUR, width: 3 });
  const pick = heatmap(figure.image, input, { cell: Math.floor(160 / Math.max(h, w)), outlines: mark, gray: true });
  figure.image.onclick = (e) => { picked = pick(e); drawFlatten(figure, input); };
  const index = (i) => ({ top: 0, left: i, bottom: 0, right: i });
  const strip = [{ ...index(r * w + c), colour: PICKED, width: 3 }];
  if (r > 0) strip.push({ ...index((r - 1) * w + c), colour: NEIGHBOUR, width: 3 });
  if (r < h - 1) strip.push({ ...index((r + 1) * w + c), colour: NEIGHBOUR, width: 3 });
  heatmap(figure.vector, [input.flat()], { cell: Math.max(4, Math.floor(900 / (h * w))), outlines: strip, gray: true });
  const neighbours = [r > 0 ? (r - 1) * w + c : null, r < h - 1 ? (r + 1) * w + c : null].filter((i) => i !== null);
  const which = neighbours.length === 2 ? "its neighbours above and below (blue) are entries" : `its neighbour ${r > 0 ? "above" : "below"} (blue) is entry`;
  figure.caption.textContent = `the flattened vector: pixel (${r}, ${c}) is entry ${r * w + c}; `
    + (neighbours.length ? `${which} ${neighbours.join(" and ")}, ${w} places away` : "it has no neighbour above or below");
}
