// MNIST-style preprocessing in the browser, as the server does it (deepviz/app/preprocess.py):
// crop to the ink, scale to fit 20×20 (Lanczos, as Pillow resizes), place in 28×28, and move
// the centre of mass to the centre (bilinear, as scipy's ndimage.shift with order 1). The page
// then sends the 784 bytes the network sees instead of a picture (docs/lenet-stream.md), and
// the server skips this work. tests/browser/test_mnist_parity.py checks it against the server
// on hundreds of drawings.
//
// Input: the ink as bytes (0 background, 255 full ink: a canvas's alpha channel), its width and
// height. Output: {pixels: Float32Array(784) in [0, 1] or null when there is no ink, small: the
// ink spans less than SMALL of the canvas (a dot, not a digit)}.

const THRESHOLD = 0.1; // ink above this counts (as the server's)
const SMALL = 0.12;
const BITS = 22; // Pillow's fixed-point precision for 8-bit images

export function mnistStyle(ink, width, height) {
  const box = inkBox(ink, width, height);
  if (!box) return { pixels: null, small: false };
  const w = box.right - box.left + 1, h = box.bottom - box.top + 1;
  const crop = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) crop[y * w + x] = asByte(ink[(box.top + y) * width + box.left + x]);
  }
  const scale = 20 / Math.max(h, w);
  const outW = Math.max(1, roundHalfEven(w * scale)), outH = Math.max(1, roundHalfEven(h * scale));
  const small = resize(crop, w, h, outW, outH);
  const placed = new Float64Array(28 * 28);
  const top = Math.floor((28 - outH) / 2), left = Math.floor((28 - outW) / 2);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) placed[(top + y) * 28 + left + x] = small[y * outW + x] / 255;
  }
  const [cy, cx] = centreOfMass(placed);
  return { pixels: shift(placed, 13.5 - cy, 13.5 - cx), small: Math.max(w, h) / Math.max(width, height) < SMALL };
}

// The ink's bounding box (pixels above THRESHOLD), or null.
function inkBox(ink, width, height) {
  let top = height, bottom = -1, left = width, right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (Math.fround(ink[y * width + x] / 255) > THRESHOLD) {
        if (y < top) top = y;
        if (y > bottom) bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  return bottom < 0 ? null : { top, bottom, left, right };
}

// The server holds the ink as float32 a / 255 and makes it bytes again by (ink · 255) truncated.
function asByte(a) {
  return Math.trunc(Math.fround(Math.fround(a / 255) * 255));
}

// Python's round(): halves go to the even neighbour.
function roundHalfEven(v) {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function lanczos(x) {
  const sinc = (t) => (t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t));
  return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

// Pillow's coefficients for resizing one axis from inSize to outSize: for each output pixel,
// the first input pixel and its fixed-point weights.
function coefficients(inSize, outSize) {
  const scale = inSize / outSize, filterScale = Math.max(scale, 1), support = 3 * filterScale;
  const out = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const first = Math.max(Math.trunc(centre - support + 0.5), 0);
    const last = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const weights = [];
    let sum = 0;
    for (let x = first; x < last; x++) {
      const w = lanczos((x - centre + 0.5) / filterScale);
      weights.push(w);
      sum += w;
    }
    out.push({ first, weights: weights.map((w) => fixed(sum ? w / sum : w)) });
  }
  return out;
}

function fixed(w) {
  return Math.trunc(w < 0 ? -0.5 + w * 2 ** BITS : 0.5 + w * 2 ** BITS);
}

function clip8(v) {
  if (v >= 2 ** (BITS + 8)) return 255;
  return v <= 0 ? 0 : Math.floor(v / 2 ** BITS);
}

// One axis resized, the other kept: `along` is the number of pixels in a line, `lines` the lines.
function pass(src, lines, along, outAlong, horizontal) {
  const coeffs = coefficients(along, outAlong);
  const out = new Uint8Array(lines * outAlong);
  for (let line = 0; line < lines; line++) {
    for (let i = 0; i < outAlong; i++) {
      const { first, weights } = coeffs[i];
      let acc = 2 ** (BITS - 1);
      for (let k = 0; k < weights.length; k++) {
        const at = first + k;
        acc += weights[k] * src[horizontal ? line * along + at : at * lines + line];
      }
      out[horizontal ? line * outAlong + i : i * lines + line] = clip8(acc);
    }
  }
  return out;
}

// Pillow's 8-bit resize: horizontally first, then vertically, each pass rounded to bytes.
function resize(src, w, h, outW, outH) {
  const wide = outW === w ? src : pass(src, h, w, outW, true);
  return outH === h ? wide : pass(wide, outW, h, outH, false);
}

function centreOfMass(a) {
  let total = 0, ys = 0, xs = 0;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const v = a[y * 28 + x];
      total += v;
      ys += y * v;
      xs += x * v;
    }
  }
  return [ys / total, xs / total];
}

// scipy.ndimage.shift(a, (dy, dx), order=1, mode="constant"): each output pixel reads the input
// at (y - dy, x - dx) bilinearly; outside [0, 27] on either axis it is 0. Clipped to [0, 1].
function shift(a, dy, dx) {
  const out = new Float32Array(28 * 28);
  for (let y = 0; y < 28; y++) {
    const sy = y - dy;
    if (sy < 0 || sy > 27) continue;
    const y0 = Math.floor(sy), fy = sy - y0, y1 = Math.min(y0 + 1, 27);
    for (let x = 0; x < 28; x++) {
      const sx = x - dx;
      if (sx < 0 || sx > 27) continue;
      const x0 = Math.floor(sx), fx = sx - x0, x1 = Math.min(x0 + 1, 27);
      const v = (1 - fy) * ((1 - fx) * a[y0 * 28 + x0] + fx * a[y0 * 28 + x1])
        + fy * ((1 - fx) * a[y1 * 28 + x0] + fx * a[y1 * 28 + x1]);
      out[y * 28 + x] = Math.min(1, Math.max(0, v));
    }
  }
  return out;
}
