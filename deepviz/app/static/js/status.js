// A panel's status line: "loading…" while its request is slow, "the server is not answering:
// retrying in 4 s" (with a Retry now button) while it cannot be reached, or what failed; empty
// when all is well. The text is a polite live region (role="status"), so that a screen reader
// hears what sighted students see. latest() in api.js drives it.
import { errorText } from "./api.js";
import { el } from "./format.js";

const LOADING_AFTER = 300; // ms: an answer quicker than this shows no "loading…" (no flicker)

function seconds(ms) {
  return Math.max(1, Math.round(ms / 1000));
}

// `holders`: an empty element of the template (class "status"), or several (one per panel
// the request draws: the first is the live region, the others repeat it for the eye only);
// `what`: what is loading, if the panel's own figure does not say it ("the kernels").
export function statusLine(holders, what = "") {
  const lines = [holders].flat().map((holder, i) => {
    const text = el("span", i ? { class: "status-text", "aria-hidden": "true" } : { class: "status-text", role: "status" });
    const retry = el("button", { type: "button", class: "retry", hidden: "" }, "Retry now");
    retry.addEventListener("click", () => wait?.wake());
    holder.replaceChildren(text, retry);
    return { holder, text, retry };
  });
  let timer = null;
  let wait = null; // the pause before the next attempt, which Retry now cuts short
  let offline = false; // the last attempt failed: the next "loading" says it is trying again

  function show(state, message, canRetry = false) {
    clearTimeout(timer);
    timer = null;
    for (const { holder, text, retry } of lines) {
      holder.dataset.state = state;
      if (text.textContent !== message) text.textContent = message;
      retry.hidden = !canRetry;
    }
    if (!canRetry) wait = null;
  }

  return {
    show, // (state, message): for a state no request has, such as the LeNet stream's
    busy() {
      clearTimeout(timer);
      if (offline) return show("offline", "The server is not answering: trying again…");
      timer = setTimeout(() => show("loading", what ? `Loading ${what}…` : "Loading…"), LOADING_AFTER);
    },
    done() {
      offline = false;
      show("", "");
    },
    retrying(answer, pause) {
      offline = true;
      const again = `retrying in ${seconds(pause.ms)} s`;
      const message = {
        unreachable: `The server is not answering${what ? ` (${what})` : ""}: ${again}.`,
        timeout: `The server did not answer in time${what ? ` (${what})` : ""}: ${again}.`,
        busy: `The server is busy: ${again}.`,
      }[answer.problem] ?? `The server failed (${answer.status}): ${errorText(answer.data)}. Retrying in ${seconds(pause.ms)} s.`;
      show("offline", message, true);
      wait = pause;
    },
    failed(answer) {
      offline = false;
      show("error", `The server failed (${answer.status}): ${errorText(answer.data)}. Change something to try again.`);
    },
  };
}
