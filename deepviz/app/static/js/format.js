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

// One product of a written-out sum, "2·(-1)": a negative factor in brackets ("2·-1" reads as a typo).
export function product(a, b, digits = 3) {
  const factor = (v) => (typeof v === "number" && v < 0 ? `(${fmt(v, digits)})` : fmt(v, digits));
  return `${factor(a)}·${factor(b)}`;
}

// "1 layer", "3 layers": a count with its noun agreeing.
export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

// What a tensor is, in words: "a vector of 3", "a 2×3 matrix", "a 2×3×4 tensor"; "" for a scalar.
export function shapeText(shape) {
  if (shape.length === 0) return "";
  if (shape.length === 1) return `a vector of ${shape[0]}`;
  if (shape.length === 2) return `a ${shape.join("×")} matrix`;
  return `a ${shape.join("×")} tensor`;
}

// A value for a sentence: a number as it is, a tensor's entries up to `most` of them (then "…").
export function listText(v, most = 12) {
  if (!Array.isArray(v)) return fmt(v);
  let left = most;
  const walk = (a) => {
    const parts = [];
    for (const x of a) {
      if (left <= 0) {
        parts.push("…");
        break;
      }
      if (Array.isArray(x)) parts.push(walk(x));
      else {
        parts.push(fmt(x));
        left--;
      }
    }
    return `[${parts.join(", ")}]`;
  };
  return walk(v);
}

// "x = 3" for a scalar, "p, a vector of 3: [0.18, 0.31, 0.51]" for a tensor (never its length as its value).
export function valueText(shape, v) {
  return shape.length === 0 ? ` = ${fmt(v)}` : `, ${shapeText(shape)}: ${listText(v)}`;
}

// A sum of terms as read aloud: "-4 + 1", "1 + (-4)".
export function sumOf(terms) {
  return terms.map((t, i) => {
    const text = listText(t);
    return i > 0 && text.startsWith("-") ? `(${text})` : text;
  }).join(" + ");
}
