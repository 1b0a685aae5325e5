// Pace, lock or release a class (docs/classroom.md): the instructor's switch, on the dashboard
// (class.js) and in the driving bar (classbar.js). The class's mode reaches the students' bars
// as an event of its own; what each mode means for a student's page is in classbar.js.
import { api, errorText } from "./api.js";
import { el } from "./format.js";

export const MODES = {
  paced: { button: "Pace", title: "Students' pages follow yours; each student may explore alone" },
  locked: { button: "Lock", title: "Every student's page follows yours; nobody may explore alone" },
  released: { button: "Release", title: "Students explore freely: their pages stop following yours" },
};

// Three buttons, the class's mode pressed; `shown(mode)` sets it from what the server says.
export function modeSwitch(record, label = "") {
  const said = el("span", { class: "error", role: "alert" });
  const buttons = Object.entries(MODES).map(([name, { button, title }]) => {
    const b = el("button", { type: "button", class: "mode-button", "data-mode": name, title }, button);
    b.addEventListener("click", () => choose(name));
    return b;
  });
  const box = el("span", { class: "mode-switch", role: "group", "aria-label": "Pace the class" },
    ...(label ? [el("span", {}, label)] : []), ...buttons, said);
  box.shown = (current) => {
    box.dataset.mode = current;
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.mode === current));
  };
  async function choose(name) {
    const answer = await api.classMode(record.code, { mode: name }, { token: record.token });
    said.textContent = answer.ok ? "" : ` Not changed: ${errorText(answer.data)}`;
    if (answer.ok) box.shown(name);
  }
  box.shown("paced"); // a class's mode until its instructor changes it
  return box;
}

// Keep a switch current with the class (the mode may change on the dashboard): asked every
// `every` ms while the tab is visible, and when it becomes visible, until the class is gone.
// Returns what stops it.
export function keepCurrent(box, record, every = 5000) {
  const timer = setInterval(look, every);
  const stop = () => {
    clearInterval(timer);
    document.removeEventListener("visibilitychange", look);
  };
  async function look() {
    if (document.visibilityState !== "visible") return;
    const info = await api.classInfo(record.code, { token: record.token });
    if (info.ok) box.shown(info.data.mode);
    if (info.status === 404) stop(); // ended: the driving bar's next state says so
  }
  document.addEventListener("visibilitychange", look);
  look();
  return stop;
}
