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
  return { state: readParams(table, params), params };
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
  const unknown = [...params.keys()].filter((key) => !(key in table));
  for (const key of unknown) refuse(key, params.get(key), "this page has no such setting");
  return state;
}

export function writeState(state) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const url = `${window.location.pathname}?${params}${window.location.hash}`;
  window.history.replaceState(null, "", url);
  window.dispatchEvent(new Event("deepviz:state")); // classbar.js sends an instructor's state to the class
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
    const query = new URLSearchParams(followed).toString();
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
