// The LeNet stream's binary frames (subprotocol deepviz.lenet.bin1, docs/lenet-stream.md):
// the page sends the 28×28 it made itself (mnist.js) in 788 bytes and reads answers of about
// 9.9 KB, instead of a PNG in and ~15 KB of JSON out.
export const BINARY = "deepviz.lenet.bin1";
const NONE = 255; // no class: the prediction explained, or no ink

// A frame to send: u8 1, u8 target (255: the prediction), u16 id, then 784 levels.
export function binaryFrame(levels, target, id) {
  const bytes = new Uint8Array(4 + 784);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, 1);
  view.setUint8(1, target === null ? NONE : target);
  view.setUint16(2, id % 65536, true);
  bytes.set(levels, 4);
  return bytes;
}

// An answer, read into the JSON frame's shape: {prediction, probabilities, target, id, input,
// layers, saliency}, each map {name, shape, min, max, bytes} (render/maps.js decodes either).
export function readFrame(buffer) {
  const view = new DataView(buffer);
  const prediction = view.getUint8(1), target = view.getUint8(2), count = view.getUint8(3);
  const probabilities = Array.from({ length: 10 }, (_, k) => view.getFloat32(8 + 4 * k, true));
  const maps = [];
  let at = 48;
  for (let m = 0; m < count; m++) {
    const name = String.fromCharCode(...new Uint8Array(buffer, at + 1, view.getUint8(at)));
    at += 1 + view.getUint8(at);
    const shape = Array.from({ length: view.getUint8(at) }, (_, d) => view.getUint16(at + 1 + 2 * d, true));
    at += 1 + 2 * shape.length;
    const min = view.getFloat32(at, true), max = view.getFloat32(at + 4, true);
    const size = shape.reduce((a, b) => a * b, 1);
    maps.push({ name, shape, min, max, bytes: new Uint8Array(buffer, at + 8, size) });
    at += 8 + size;
  }
  const frame = { prediction: prediction === NONE ? null : prediction, probabilities, id: view.getUint16(4, true) };
  if (!maps.length) return frame;
  return { ...frame, target, input: maps[0], layers: maps.slice(1, -1), saliency: maps[maps.length - 1] };
}
