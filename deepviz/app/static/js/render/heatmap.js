// 2-D arrays drawn on a canvas, one cell per value, with colour-blind-safe maps:
// viridis for values of one sign, purple-white-orange (PuOr) for signed ones.
// Outlines (receptive fields, the kernel's window) are drawn over the cells.

const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const PUOR = [[84, 39, 136], [153, 142, 195], [247, 247, 247], [241, 163, 64], [179, 88, 6]];

function interpolate(stops, t) {
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  return stops[i].map((a, k) => Math.round(a + f * (stops[i + 1][k] - a)));
}

export function range(grid) {
  let lo = Infinity, hi = -Infinity;
  for (const row of grid) for (const v of row) if (typeof v === "number") { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return lo === Infinity ? [0, 1] : [lo, hi];
}

// colour(v) for a grid: diverging around 0 when values have both signs.
export function colourScale(grid, { signed, gray } = {}) {
  const [lo, hi] = grid.range || range(grid); // a grid may carry its layer's range
  if (gray) {  // photographs: as they are, 0 black, 1 white
    return (v) => { const g = Math.round(255 * Math.min(Math.max(v, 0), 1)); return [g, g, g]; };
  }
  const diverging = signed ?? (lo < 0 && hi > 0);
  if (diverging) {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return (v) => interpolate(PUOR, 0.5 + v / (2 * m));
  }
  const span = hi - lo || 1;
  return (v) => interpolate(VIRIDIS, (v - lo) / span);
}

export function css([r, g, b]) {
  return `rgb(${r},${g},${b})`;
}

// Draw `grid` into `canvas` at `cell` pixels a value; returns a function mapping a click
// to [row, col]. outlines: [{top, left, bottom, right, colour, width, fill}] in cell units.
export function heatmap(canvas, grid, { cell = 4, outlines = [], signed, gray, shade = null } = {}) {
  const rows = grid.length, cols = grid[0].length;
  canvas.width = cols * cell;
  canvas.height = rows * cell;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(cols, rows);
  const colour = colourScale(grid, { signed, gray });
  grid.forEach((row, i) => row.forEach((v, j) => {
    const [r, g, b] = typeof v === "number" ? colour(v) : [200, 0, 0];
    const k = 4 * (i * cols + j);
    image.data.set([r, g, b, 255], k);
  }));
  const small = new OffscreenCanvas(cols, rows);
  small.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, cols * cell, rows * cell);
  if (shade) {  // dim everything outside a region, e.g. pixels no window reads
    ctx.fillStyle = "rgba(0,0,0,0.55)";
    for (const [i, j] of shade) ctx.fillRect(j * cell, i * cell, cell, cell);
  }
  for (const o of outlines) {
    const x = o.left * cell, y = o.top * cell;
    const w = (o.right - o.left + 1) * cell, h = (o.bottom - o.top + 1) * cell;
    if (o.fill) { ctx.fillStyle = o.fill; ctx.fillRect(x, y, w, h); }
    ctx.strokeStyle = o.colour || "#E69F00";
    ctx.lineWidth = o.width || 2;
    ctx.strokeRect(x + ctx.lineWidth / 2, y + ctx.lineWidth / 2, w - ctx.lineWidth, h - ctx.lineWidth);
  }
  return (event) => {
    const box = canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * cols);
    const row = Math.floor(((event.clientY - box.top) / box.height) * rows);
    return [Math.min(Math.max(row, 0), rows - 1), Math.min(Math.max(col, 0), cols - 1)];
  };
}
