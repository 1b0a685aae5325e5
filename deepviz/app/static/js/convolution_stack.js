// The convolution page's stack of layers (figures 5.7 and 5.8): a row per conv, ReLU or
// max-pool layer, its sizes editable, and the shape after each layer as the server computes
// it (POST /api/v1/shapes); a layer that does not fit is marked, with the server's message.
import { api, errorText, latest } from "./api.js";
import { el } from "./format.js";
import { SHAPES, encodeStack, parseStack } from "./layers.js";
import { statusLine } from "./status.js";

const $ = (id) => document.getElementById(id);

// "3×32×32": the stack's input shape
export function readShape(text) {
  const dims = text.trim().split(/\s*[×x*, ]\s*/);
  if (dims.length !== 3 || dims.some((d) => !/^\d+$/.test(d) || Number(d) < 1)) throw new Error("expected channels × height × width, as 3×32×32");
  return dims.map(Number);
}

// The stack of `state.stack` on input `state.input`; save() writes the URL after each change.
// refresh(): asks for its shapes again; restore(): reads state.stack again (a followed state).
export function stackPanel(state, save) {
  const shapes = latest(api.shapes, statusLine($("stack-status")));
  const stack = parseStack(state.stack, SHAPES);

  async function refresh() {
    state.stack = encodeStack(stack);
    save();
    let dims;
    try {
      dims = readShape(state.input);
    } catch (error) {
      shapes.cancel();
      $("stack-error").hidden = false;
      $("stack-error").textContent = `Input: ${error.message}`;
      return drawStack(null, -1);
    }
    const answer = await shapes({ input_shape: dims, layers: stack });
    if (!answer) return;
    const bad = answer.ok ? -1 : answer.data.detail?.[0]?.loc?.[2];
    $("stack-error").hidden = answer.ok;
    if (!answer.ok) $("stack-error").textContent = errorText(answer.data);
    drawStack(answer.ok ? answer.data.shapes : null, typeof bad === "number" ? bad : -1);
  }

  function numberCell(layer, key, i) {
    if (layer[key] === undefined) return el("td", {}, "");
    const input = el("input", { type: "number", min: key === "padding" ? "0" : "1", value: String(layer[key]), size: "3", "aria-label": `layer ${i + 1} ${key.replace("_", " ")}` });
    input.addEventListener("change", () => { layer[key] = Number(input.value); refresh(); });
    return el("td", {}, input);
  }

  function drawStack(shapesOut, bad) {
    $("stack-body").replaceChildren(...stack.map((layer, i) => {
      const remove = el("button", { type: "button", "aria-label": `remove layer ${i + 1}` }, "✕");
      remove.addEventListener("click", () => { stack.splice(i, 1); refresh(); });
      const tr = el("tr", { class: i === bad ? "bad" : "" },
        el("td", {}, String(i + 1)), el("td", {}, layer.type),
        numberCell(layer, "in_channels", i), numberCell(layer, "out_channels", i), numberCell(layer, "kernel", i),
        numberCell(layer, "stride", i), numberCell(layer, "padding", i),
        el("td", { class: "shape" }, shapesOut ? shapesOut[i + 1].join(" × ") : i === bad ? "does not fit" : "…"), el("td", {}, remove));
      return tr;
    }));
  }

  $("add-conv").addEventListener("click", () => {
    const last = [...stack].reverse().find((l) => l.type === "conv");
    stack.push({ type: "conv", in_channels: last ? last.out_channels : 3, out_channels: 8, kernel: 3, stride: 1, padding: 0 });
    refresh();
  });
  $("add-relu").addEventListener("click", () => { stack.push({ type: "relu" }); refresh(); });
  $("add-pool").addEventListener("click", () => { stack.push({ type: "maxpool", kernel: 2 }); refresh(); });

  return { refresh, restore: () => stack.splice(0, stack.length, ...parseStack(state.stack, SHAPES)) };
}
