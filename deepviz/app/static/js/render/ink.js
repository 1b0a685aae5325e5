// A 28×28 grey image as pages carry it: /lenet's URL parameter `ink`, a class's drawings.
// The server makes it (app/frames.py's ink): 784 levels 0..255, light ink on black as MNIST's,
// base64url without padding. A level l is the network's input l / 255.

const INK = /^[A-Za-z0-9_-]{1046}$/; // 784 bytes in base64url, unpadded

// The 784 levels of `text`, or null when it is not an image of 28×28.
export function inkLevels(text) {
  if (!INK.test(text)) return null;
  const raw = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return raw.length === 784 ? Uint8Array.from(raw, (c) => c.charCodeAt(0)) : null;
}

// The levels as 28 rows of 28 (what the API takes), scaled by `scale` (1 / 255: the network's input).
export function inkRows(levels, scale = 1) {
  return Array.from({ length: 28 }, (_, r) => Array.from(levels.subarray(28 * r, 28 * r + 28), (v) => v * scale));
}
