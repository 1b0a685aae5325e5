// A page's state lives in its URL query string, so that a link reproduces the figure.
//
// One table per page lists its parameters (as TensorFlow Playground's state.ts): for each,
// its default, how its text in the URL is read, and the control that shows it, if any. The
// table drives both: readState() reads the URL, bindControls() fills the controls and keeps
// the state in step with them, writeState() writes the URL back. A value the table cannot read
// is refused: the page says which and why at its top, and shows the default instead; it is
// never turned silently into some default.
import { el } from "./format.js";

// -- kinds of parameter: each has `fallback` (the default), `read(text)` (the value, or throws
// an Error saying what is wrong) and, optionally, `control` (an element id) ------------------
export const param = {
  oneOf: (values, fallback, control) => ({
    fallback, control,
    read(text) {
      if (!values.includes(text)) throw new Error(`expected one of ${values.map((v) => v || "(empty)").join(", ")}`);
      return text;
    },
  }),
  integer: (min, max, fallback, control) => ({
    fallback, control,
    read(text) {
      if (!/^-?\d+$/.test(text.trim())) throw new Error("expected a whole number");
      const n = Number(text);
      if (n < min || n > max) throw new Error(`expected a whole number from ${min} to ${max}`);
      return String(n);
    },
  }),
  number: (min, max, fallback, control) => ({
    fallback, control,
    read(text) {
      const n = text.trim() === "" ? NaN : Number(text);
      if (!Number.isFinite(n)) throw new Error("expected a number");
      if (n < min || n > max) throw new Error(`expected a number from ${min} to ${max}`);
      return text.trim();
    },
  }),
  text: (fallback, maxLength, control) => ({
    fallback, control,
    read(text) {
      if (text.length > maxLength) throw new Error(`longer than ${maxLength} characters`);
      return text;
    },
  }),
  // read(text) returns the text to keep (or throws)
  custom: (read, fallback, control) => ({ fallback, control, read }),
};

// -- the notice of refused values, at the top of <main> (templates/base.html) ----------------
const refused = new Map(); // key -> message

function showRefused() {
  const box = document.getElementById("state-problems");
  if (!box) return;
  box.hidden = refused.size === 0;
  box.replaceChildren(
    el("p", {}, refused.size === 1 ? "This link has a value the page cannot use:" : "This link has values the page cannot use:"),
    el("ul", {}, ...[...refused.values()].map((m) => el("li", {}, m))));
}

// Refuse `key`'s value `text` (also after loading: a kernel the server does not know), saying why.
export function refuse(key, text, reason, fallback) {
  const shown = text.length > 60 ? `${text.slice(0, 57)}…` : text;
  const instead = fallback === "" || fallback === undefined ? "it is left out" : `showing ${key}=${fallback} instead`;
  refused.set(key, `${key}=${shown}: ${reason}; ${instead}.`);
  showRefused();
}

// A refusal no longer holds (the student chose another value).
export function forget(key) {
  if (refused.delete(key)) showRefused();
}

// The state from the URL: every parameter of `table`, read by its kind or refused.
export function readState(table) {
  const params = new URLSearchParams(window.location.search);
  const state = readParams(table, params);
  readLesson();
  return { state, params };
}

function readParams(table, params) {
  const state = {};
  for (const [key, p] of Object.entries(table)) {
    state[key] = p.fallback;
    if (!params.has(key)) continue;
    const text = params.get(key);
    try {
      state[key] = p.read(text);
    } catch (error) {
      refuse(key, text, error.message, p.fallback);
    }
  }
  const unknown = [...params.keys()].filter((key) => !(key in table) && !LESSON.includes(key));
  for (const key of unknown) refuse(key, params.get(key), "this page has no such setting");
  return state;
}

// The page's state in the URL, with the lesson link's parameters as read (readLesson).
export function writeState(state) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  writeUrl(params);
}

function writeUrl(params) {
  for (const [key, text] of Object.entries(lessonParams())) params.set(key, text);
  const url = `${window.location.pathname}?${params}${window.location.hash}`;
  window.history.replaceState(null, "", url);
  window.dispatchEvent(new Event("deepviz:state")); // classbar.js sends an instructor's state to the class
}

// -- a lesson link: parameters every page takes besides its own (lesson.js acts on them) ----
//   hide=expression,check   controls hidden (the data-control names of the page's template)
//   steps=step=3|step=5     a guided sequence: each step the page's state as a query string
//   at=2                    the step shown, 1 to the number of steps (0, or none: before the first)
// Bounded by the server's settings (templates/base.html): at most max_lesson_steps steps,
// and the steps at most max_class_state_bytes long (they travel with the class's state).
export const LESSON = ["hide", "steps", "at"];
export const STEP = "|"; // between two steps (a query string writes "|" as %7C)
let lesson = null; // {hide: [name], steps: [{param: text}], at}: as read, and as changed since

// The names of the controls a lesson link may hide on this page, in the page's order.
export function controlNames() {
  return [...new Set([...document.querySelectorAll("[data-control]")].map((node) => node.dataset.control))];
}

export function readLesson() {
  if (lesson) return lesson;
  lesson = { hide: [], steps: [], at: 0 };
  const params = new URLSearchParams(window.location.search);
  if (params.has("hide")) {
    const names = [...new Set(params.get("hide").split(",").map((name) => name.trim()).filter(Boolean))];
    const known = controlNames();
    const unknown = names.filter((name) => !known.includes(name));
    lesson.hide = names.filter((name) => known.includes(name));
    if (unknown.length) {
      const which = unknown.map((name) => `“${name}”`).join(", ");
      refuse("hide", params.get("hide"), `this page has no control called ${which} (it has ${known.join(", ") || "none"})`,
        lesson.hide.join(","));
    }
  }
  if (params.has("steps")) {
    try {
      lesson.steps = readSteps(params.get("steps"));
    } catch (error) {
      refuse("steps", params.get("steps"), error.message);
    }
  }
  if (params.has("at")) {
    const text = params.get("at"), n = lesson.steps.length;
    if (/^\d+$/.test(text) && Number(text) <= n) lesson.at = Number(text);
    else refuse("at", text, n ? `expected a step from 1 to ${n}` : "this link has no steps", n ? "0" : "");
  }
  return lesson;
}

function readSteps(text) {
  const limits = document.body.dataset;
  const most = Number(limits.maxLessonSteps), bytes = Number(limits.maxStateBytes);
  const size = new TextEncoder().encode(text).length;
  if (size > bytes) throw new Error(`the steps are ${size} bytes long; the limit is ${bytes}`);
  const steps = text.split(STEP).map((query) => Object.fromEntries(new URLSearchParams(query)));
  if (steps.length > most) throw new Error(`${steps.length} steps; a lesson link has at most ${most}`);
  for (const [i, step] of steps.entries()) {
    const inner = Object.keys(step).find((key) => LESSON.includes(key));
    if (inner) throw new Error(`step ${i + 1} sets ${inner}, which is the lesson link's own`);
  }
  return steps;
}

// The lesson's parameters as a URL writes them: {hide?, steps?, at?} (`changes` first applied
// to a copy of the lesson: {at: 2} for the second step's).
export function lessonParams(changes = {}) {
  const { hide, steps, at } = { ...readLesson(), ...changes };
  const params = {};
  if (hide.length) params.hide = hide.join(",");
  if (steps.length) params.steps = steps.map((step) => new URLSearchParams(step)).join(STEP);
  if (steps.length && at) params.at = String(at);
  return params;
}

// Change the lesson's parameters ({hide}, {steps, at}, …): the URL follows (and so does the
// class, when this tab drives), the page's own parameters untouched.
export function changeLesson(changes, write = true) {
  Object.assign(readLesson(), changes);
  for (const key of LESSON) forget(key);
  if (!write) return;
  const params = new URLSearchParams(window.location.search);
  for (const key of LESSON) params.delete(key);
  writeUrl(params);
}

// Fill each parameter's control from the state, and keep the state in step with it: on the
// control's `input` event (or the parameter's `event`, such as "change" for a number typed
// digit by digit), state[key] takes its value and onChange(key) runs.
export function bindControls(table, state, onChange) {
  for (const [key, p] of Object.entries(table)) {
    if (!p.control) continue;
    const control = document.getElementById(p.control);
    control.value = state[key];
    control.addEventListener(p.event || "input", () => {
      state[key] = control.value;
      forget(key);
      onChange(key);
    });
  }
}

// -- classroom mode: the instructor's state of this page, rendered in place ------------------
// classbar.js dispatches "deepviz:follow" (detail: {state: {param: text}}) when the instructor's
// page is this one; a page that renders it in place registers `apply(followed)` here: the
// event is taken (no reload) and the URL becomes the followed one (a reload shows the same),
// then the page applies it, usually as render(adopt(TABLE, state, followed)).
export function onFollow(apply) {
  window.addEventListener("deepviz:follow", (event) => {
    event.preventDefault();
    const followed = event.detail.state || {};
    const params = new URLSearchParams(followed);
    for (const [key, text] of Object.entries(lessonParams())) params.set(key, text); // the lesson's, as read
    const query = params.toString();
    window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}${window.location.hash}`);
    apply(followed);
  });
}

// Read a followed state as a link is read (each value by its kind, or refused: the previous
// link's refusals no longer hold), copy it into `state`, fill the changed parameters' controls,
// and return the set of the parameters that changed: the page redraws only what they touch.
export function adopt(table, state, followed) {
  refused.clear();
  const fresh = readParams(table, new URLSearchParams(followed));
  showRefused();
  const changed = new Set(Object.keys(table).filter((key) => fresh[key] !== state[key]));
  for (const key of changed) {
    state[key] = fresh[key];
    const control = table[key].control && document.getElementById(table[key].control);
    if (control) control.value = state[key];
  }
  return changed;
}
