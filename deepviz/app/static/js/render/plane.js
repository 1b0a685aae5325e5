// The training lab's plane: the decision boundary the server sent (each cell's class, its
// colour paler where the network is unsure), the training points (filled) and the held-out
// test points (hollow rings); for the sine, the fitted curve through the points instead.
// The page does no maths: it maps the grid's extent to pixels and colours what it is given.

export const CLASS_COLOURS = [[0, 114, 178], [230, 159, 0], [0, 158, 115]]; // Okabe–Ito: blue, orange, green

export function classCss(label, alpha = 1) {
  const [r, g, b] = CLASS_COLOURS[label] ?? [120, 120, 120];
  return `rgba(${r},${g},${b},${alpha})`;
}

export function bytes(b64) {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

// The canvas's pixel size follows its CSS size (and the screen's density), so points stay round.
function fit(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const side = Math.round(canvas.clientWidth * ratio) || 300;
  if (canvas.width !== side) canvas.width = canvas.height = side;
  return side;
}

// [x, y] in the data's coordinates -> [px, py] on a canvas of `side` pixels.
function toPixels(extent, side) {
  const [x0, x1, y0, y1] = extent;
  return (x, y) => [((x - x0) / (x1 - x0)) * side, ((y1 - y) / (y1 - y0)) * side];
}

// A pointer event on the canvas -> [x, y] in the data's coordinates.
export function planePoint(canvas, extent, event) {
  const box = canvas.getBoundingClientRect();
  const [x0, x1, y0, y1] = extent;
  const x = x0 + ((event.clientX - box.left) / box.width) * (x1 - x0);
  const y = y1 - ((event.clientY - box.top) / box.height) * (y1 - y0);
  return [x, y];
}

// The boundary as an image of size × size cells: the class's colour mixed with white by how
// sure the network is (confidence 1/classes: white, 1: the full colour).
function boundaryImage(boundary, size, classes) {
  const label = bytes(boundary.label), confidence = bytes(boundary.confidence);
  const image = new ImageData(size, size);
  const floor = 1 / Math.max(classes, 2);
  for (let k = 0; k < size * size; k++) {
    const sure = Math.max(0, (confidence[k] / 255 - floor) / (1 - floor));
    const mix = 0.15 + 0.55 * sure;
    const colour = CLASS_COLOURS[label[k]] ?? [120, 120, 120];
    for (let c = 0; c < 3; c++) image.data[4 * k + c] = Math.round(255 + mix * (colour[c] - 255));
    image.data[4 * k + 3] = 255;
  }
  const small = new OffscreenCanvas(size, size);
  small.getContext("2d").putImageData(image, 0, 0);
  return small;
}

// The axes through 0, and the square [-1, 1]² where the data lie (and clicks add points).
function drawAxes(ctx, at, side) {
  const [ox, oy] = at(0, 0);
  ctx.strokeStyle = "rgba(29,35,48,0.25)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(0, oy); ctx.lineTo(side, oy);
  ctx.moveTo(ox, 0); ctx.lineTo(ox, side);
  ctx.stroke();
  const [left, top] = at(-1, 1), [right, bottom] = at(1, -1);
  ctx.setLineDash([4, 4]);
  ctx.strokeRect(left, top, right - left, bottom - top);
  ctx.setLineDash([]);
}

function drawPoints(ctx, at, points, { test, regression, radius }) {
  for (const [x, y, label] of points) {
    const [px, py] = at(x, y);
    ctx.beginPath();
    ctx.arc(px, py, radius, 0, 2 * Math.PI);
    const colour = regression ? "rgb(29,35,48)" : classCss(label);
    if (test) { // hollow: a ring of the class's colour around white
      ctx.fillStyle = "#fff";
      ctx.fill();
      ctx.lineWidth = radius * 0.6;
      ctx.strokeStyle = colour;
    } else {
      ctx.fillStyle = colour;
      ctx.fill();
      ctx.lineWidth = Math.max(1, radius * 0.3);
      ctx.strokeStyle = "#fff";
    }
    ctx.stroke();
  }
}

// view: {grid: {size, extent}, classes, regression, boundary (a frame's, or null),
// train, test: [[x, y, label], …], showTest}
export function drawPlane(canvas, view) {
  const side = fit(canvas);
  const ctx = canvas.getContext("2d");
  const { grid, boundary } = view;
  const at = toPixels(grid.extent, side);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, side, side);
  if (boundary?.label && !view.regression) {
    ctx.imageSmoothingEnabled = true; // a smooth boundary between the cells' centres
    ctx.drawImage(boundaryImage(boundary, grid.size, view.classes), 0, 0, side, side);
  }
  drawAxes(ctx, at, side);
  const radius = Math.max(2.5, side / 110);
  drawPoints(ctx, at, view.train, { test: false, regression: view.regression, radius });
  if (view.showTest) drawPoints(ctx, at, view.test, { test: true, regression: view.regression, radius });
  if (boundary?.curve && view.regression) {
    const [x0, x1] = grid.extent;
    const n = boundary.curve.length;
    ctx.strokeStyle = "rgb(213,94,0)"; // vermillion: the network's prediction
    ctx.lineWidth = Math.max(2, side / 150);
    ctx.beginPath();
    boundary.curve.forEach((yhat, i) => {
      const [px, py] = at(x0 + ((x1 - x0) * i) / (n - 1), yhat);
      if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py);
    });
    ctx.stroke();
  }
}
