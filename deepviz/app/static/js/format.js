// How numbers read on the pages: short, exact when they are whole.

export function fmt(v, digits = 4) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "string") return v; // "NaN", "Infinity", "-Infinity"
  if (Array.isArray(v)) return `[${v.map((x) => fmt(x, digits)).join(", ")}]`;
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(digits - 2).replace("e", "e");
  return String(Number(v.toPrecision(digits)));
}

// Rows of a value for a grid: a scalar is 1×1, a vector one column, a matrix its rows.
export function rows(v) {
  if (!Array.isArray(v)) return [[v]];
  if (!Array.isArray(v[0])) return v.map((x) => [x]);
  return v;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, val] of Object.entries(attrs)) {
    if (k === "class") node.className = val;
    else node.setAttribute(k, val);
  }
  for (const child of children) node.append(child);
  return node;
}
