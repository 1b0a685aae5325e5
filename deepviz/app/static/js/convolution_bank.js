// The convolution page's bank of kernels: up to 8 kernels over the same photograph, an
// activation map each, and the output's shape (channels × height × width); the kernels
// ticked are kept in the URL (bank=sobel_x,sobel_y,…).
import { api, errorText, latest } from "./api.js";
import { el } from "./format.js";
import { heatmap } from "./render/heatmap.js";
import { forget } from "./state.js";
import { statusLine } from "./status.js";

const $ = (id) => document.getElementById(id);
const MOST = 8; // kernels in a bank

// state.bank: the names ticked; image(): the photograph as sent; save(): writes the URL.
// offer(kernels, square): the server's kernels have loaded (name -> kernel), a checkbox for
// each 3×3 one; refresh(): the maps again; tick(): the boxes as state.bank says (followed).
export function bankPanel(state, image, save) {
  const conv = latest(api.conv, statusLine($("bank-status")));
  let kernels = null; // until they load, nothing to tick: lists-status says how that goes

  function message(text, role = null) {
    conv.cancel(); // an older answer must not overwrite the message
    $("bank-maps").replaceChildren(el("p", role ? { class: "error", role } : { class: "help" }, text));
  }

  async function refresh() {
    if (!kernels) return;
    const names = state.bank.split(",").filter((n) => kernels[n]);
    if (!names.length) return message("Pick at least one kernel.");
    if (names.length > MOST) return message(`A bank holds at most ${MOST} kernels: untick one.`, "alert");
    const answer = await conv({ image: image(), kernels: names, padding: 1 });
    if (!answer) return;
    if (!answer.ok) return message(errorText(answer.data), "alert");
    $("bank-maps").replaceChildren(...answer.data.outputs.map((map, i) => {
      const canvas = el("canvas", { class: "pixels", "aria-label": `activation map of ${names[i]}` });
      heatmap(canvas, map, { cell: 1 });
      return el("figure", {}, canvas, el("figcaption", {}, `${i + 1}: ${names[i]}`));
    }), el("p", { class: "help" }, `Output: ${answer.data.output_shape.join(" × ")} (channels × height × width)`));
  }

  function offer(known, square) {
    kernels = known;
    $("bank-choice").append(...square.map((x) => {
      const box = el("input", { type: "checkbox", id: `bank-${x.name}`, value: x.name });
      box.checked = state.bank.split(",").includes(x.name);
      box.addEventListener("change", () => {
        state.bank = [...$("bank-choice").querySelectorAll("input:checked")].map((b) => b.value).join(",");
        forget("bank");
        save();
        refresh();
      });
      return el("span", { class: "check" }, box, el("label", { for: `bank-${x.name}` }, x.name));
    }));
  }

  function tick() {
    for (const box of $("bank-choice").querySelectorAll("input")) box.checked = state.bank.split(",").includes(box.value);
  }

  return { offer, refresh, tick };
}
