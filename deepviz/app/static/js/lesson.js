// Lesson links (docs/classroom.md): any page's link may hide some of its controls, so that a
// figure shows only what the lesson needs (hide=expression,check), and carry a short guided
// sequence of states to step through (steps=…&at=k). state.js reads and writes these
// parameters with the page's own; this module acts on them: it hides the controls named (the
// elements with that data-control in the template), draws "step k of n" with Previous and
// Next, and the driving bar's "Lesson link" panel that builds such a link from the page.
//
// Who steps: the instructor's driving tab (its bar, classbar.js: each step then goes to the
// class as every state does), a student exploring on their own, or anyone who opens the link
// outside a class (lessonBar(), which classbar.js shows when this tab has no class bar).
import { el } from "./format.js";
import { LESSON, changeLesson, controlNames, lessonParams, readLesson } from "./state.js";
import { urlOf } from "./classroom.js";

const button = (text, onClick, attrs = {}) => {
  const b = el("button", { type: "button", ...attrs }, text);
  b.addEventListener("click", onClick);
  return b;
};
const pageOnly = (state) => Object.fromEntries(Object.entries(state).filter(([key]) => !LESSON.includes(key)));
const sorted = (state) => JSON.stringify(Object.entries(state).sort());
const here = () => Object.fromEntries(new URLSearchParams(location.search));

// Hide the controls the lesson names, show the others.
export function hideControls() {
  const { hide } = readLesson();
  for (const node of document.querySelectorAll("[data-control]")) {
    node.classList.toggle("lesson-hidden", hide.includes(node.dataset.control));
  }
}

// Show {page, state} (a followed state, or a step): the lesson's parameters at once, the page's
// in place if the page can (it handles the cancelable "deepviz:follow" event, as /backprop does
// for its step), else by loading the URL.
export function render({ page, state = {} }) {
  const target = urlOf({ page, state });
  if (page !== location.pathname) return location.assign(target);
  const mine = here();
  if ((state.steps ?? "") === (mine.steps ?? "")) { // the same sequence: the step and the hidden set apply here
    const hide = (state.hide ?? "").split(",").filter(Boolean);
    changeLesson({ hide, at: Number(state.at ?? 0) }, false);
    hideControls();
    if (sorted(pageOnly(state)) === sorted(pageOnly(mine))) return changeLesson({}); // only the lesson's changed
    const followed = new CustomEvent("deepviz:follow", { cancelable: true, detail: { state: pageOnly(state) } });
    if (!window.dispatchEvent(followed)) return refresh(); // rendered in place (the page wrote its URL)
  }
  location.replace(target);
}

// -- "step k of n", Previous and Next -----------------------------------------------------
const steppers = new Set();

function go(k) {
  const { steps } = readLesson();
  if (k < 1 || k > steps.length) return;
  render({ page: location.pathname, state: { ...steps[k - 1], ...lessonParams({ at: k }) } });
}

function refresh() {
  const { steps, at } = readLesson();
  for (const { box, where, back, next } of steppers) {
    box.hidden = steps.length === 0;
    where.textContent = at ? `Step ${at} of ${steps.length}` : `${steps.length} steps, not started`;
    back.disabled = at <= 1;
    next.disabled = at >= steps.length;
  }
}

// The step through a lesson's sequence (hidden while the link has none).
export function stepper() {
  const where = el("span", { class: "lesson-where", "aria-live": "polite" });
  const back = button("◀ Previous", () => go(readLesson().at - 1), { class: "lesson-back" });
  const next = button("Next ▶", () => go(readLesson().at + 1), { class: "lesson-next" });
  const box = el("span", { class: "lesson-steps", role: "group", "aria-label": "The lesson's steps" }, where, back, next);
  steppers.add({ box, where, back, next });
  refresh();
  return box;
}

// -- the driving bar's "Lesson link" panel ----------------------------------------------------
// The link is this page as it is (the hidden controls included), opening at step 1 when it
// has steps; ticking a control hides it here and in the class at once.
export function lessonLink() {
  const { steps } = readLesson();
  const state = steps.length ? { ...steps[0], ...lessonParams({ at: 1 }) } : { ...pageOnly(here()), ...lessonParams() };
  return `${location.origin}${urlOf({ page: location.pathname, state })}`;
}

export function lessonPanel() {
  const limits = document.body.dataset;
  const names = controlNames();
  const boxes = names.map((name) => {
    const input = el("input", { type: "checkbox", value: name, "data-hide": name });
    input.checked = readLesson().hide.includes(name);
    input.addEventListener("change", () => {
      changeLesson({ hide: names.filter((n) => boxes.find((b) => b.value === n).checked) });
      hideControls();
    });
    return input;
  });
  const count = el("span", { class: "lesson-count" });
  const problem = el("span", { class: "error", role: "alert" });
  const add = button("Add this state as a step", () => {
    const { steps } = readLesson();
    const grown = [...steps, pageOnly(here())];
    const bytes = new TextEncoder().encode(lessonParams({ steps: grown }).steps).length;
    if (grown.length > Number(limits.maxLessonSteps)) problem.textContent = ` At most ${limits.maxLessonSteps} steps.`;
    else if (bytes > Number(limits.maxStateBytes)) problem.textContent = ` The steps would be ${bytes} bytes; the limit is ${limits.maxStateBytes}.`;
    else changeLesson({ steps: grown, at: grown.length });
  });
  const clear = button("Clear the steps", () => changeLesson({ steps: [], at: 0 }));
  const link = el("input", { readonly: "", class: "lesson-url", "aria-label": "The lesson link" });
  const copied = el("span", { class: "help" });
  const copy = button("Copy", async () => {
    link.select();
    try {
      await navigator.clipboard.writeText(link.value);
      copied.textContent = " copied";
    } catch {
      copied.textContent = " selected: press Ctrl+C (⌘C)"; // no clipboard here (an insecure origin)
    }
  });
  function update() {
    const { steps } = readLesson();
    count.textContent = steps.length ? `${steps.length} step${steps.length === 1 ? "" : "s"}. ` : "No steps. ";
    clear.disabled = steps.length === 0;
    link.value = lessonLink();
    problem.textContent = "";
  }
  window.addEventListener("deepviz:state", update);
  update();
  const hidden = names.length
    ? el("fieldset", { class: "lesson-hide" }, el("legend", {}, "Hide on this page"),
      ...boxes.map((input) => el("label", {}, input, ` ${input.value}`)))
    : el("p", { class: "help" }, "This page has no controls to hide.");
  return el("details", { class: "lesson-panel" }, el("summary", {}, "Lesson link"), hidden,
    el("p", {}, count, add, " ", clear, problem), el("p", { class: "lesson-copy" }, link, copy, copied));
}

// -- on every page ------------------------------------------------------------------------------
// The lesson's own bar, outside a class: its steps, if it has any.
export function lessonBar() {
  if (!readLesson().steps.length) return;
  const bar = document.getElementById("lesson-bar");
  bar.replaceChildren(el("strong", {}, "Lesson"), stepper());
  bar.hidden = false;
}

readLesson(); // refuses what the link names wrong, as every page's URL state
hideControls();
window.addEventListener("deepviz:state", refresh);
