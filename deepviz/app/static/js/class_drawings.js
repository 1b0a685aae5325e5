// The hall's drawings on the dashboard (/class, docs/classroom.md): ask everyone to draw a digit
// on /lenet; each student's 28×28 arrives with LeNet-5's reading (wrong ones marked), with the
// poll's accuracy and the class's confusion matrix, all computed by the server. "Project" moves
// the class, and the dashboard's driving tab, to /lenet showing that drawing. Names are text,
// never HTML.
import { api, errorText } from "./api.js";
import { el, plural } from "./format.js";
import { secretLink, urlOf } from "./classroom.js";
import { heatmap } from "./render/heatmap.js";
import { inkLevels, inkRows } from "./render/ink.js";

const $ = (id) => document.getElementById(id);
const DRIVE_TAB = "deepviz-drive"; // the window the dashboard's "drive a page" links open (class.html)
const percent = (x) => (x === null ? "–" : `${Math.round(100 * x)}%`);
const said = (text, error = false) => {
  $("drawings-status").textContent = text;
  $("drawings-status").classList.toggle("error", error);
};

// session: {record, options} as class.js holds them; onAsked(pollId): a drawing poll was asked.
export function drawingPolls(session, onAsked) {
  let shown = ""; // the gallery drawn (JSON): drawn again only when it changes

  $("draw-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const target = Number($("draw-digit").value);
    const body = { question: `Draw a ${target}`, kind: "drawing", target };
    const answer = await api.classPoll(session.record.code, body, session.options);
    $("draw-error").hidden = answer.ok;
    $("draw-error").textContent = answer.ok ? "" : errorText(answer.data);
    if (answer.ok) onAsked(answer.data.poll_id);
  });

  // The class's current poll (every second): its gallery if it is a drawing poll, else nothing.
  async function look(poll) {
    $("drawings-panel").hidden = poll?.kind !== "drawing";
    if (poll?.kind !== "drawing") return;
    const answer = await api.classGallery(session.record.code, poll.poll_id, session.options);
    if (!answer.ok) return said(`The drawings could not be fetched: ${errorText(answer.data)}`, true);
    const text = JSON.stringify(answer.data);
    if (text === shown) return;
    shown = text;
    draw(answer.data);
  }

  function draw(g) {
    $("drawings-title").textContent = `The hall's drawings: ${g.question}`;
    $("drawings-summary").replaceChildren(
      el("strong", {}, plural(g.total, "drawing")), ` · ${g.correct} read as ${g.target} by LeNet-5 · accuracy `,
      el("strong", { id: "drawings-accuracy" }, percent(g.accuracy)));
    $("drawings-gallery").replaceChildren(...g.drawings.map((d) => figure(d, g.target)));
    if (!g.drawings.length) said("No drawing yet: the students draw on the LeNet-5 page and press “Send my drawing”.");
    else if (!$("drawings-status").classList.contains("error")) said("");
    confusion(g.confusion);
  }

  function figure(d, target) {
    const who = d.name || "anonymous";
    const right = d.reading === target;
    const canvas = el("canvas", { class: "pixels", role: "img", "aria-label": `${who}'s drawing, read as ${d.reading}` });
    heatmap(canvas, inkRows(inkLevels(d.ink), 1 / 255), { cell: 3, gray: true });
    const project = el("button", { type: "button", class: "drawing-project", "aria-label": `Project ${who}'s drawing` }, "Project");
    project.addEventListener("click", () => projectIt(d, who));
    return el("figure", { class: right ? "drawing" : "drawing wrong", "data-reading": String(d.reading) }, canvas,
      el("figcaption", {}, el("span", { class: "drawing-name" }, who), // text, never HTML
        el("span", { class: "drawing-reading" }, right ? `read as ${d.reading} ✓` : `read as ${d.reading} ✗`)),
      project);
  }

  // The class (and the driving tab, opened or moved) goes to /lenet showing the drawing.
  async function projectIt(d, who) {
    const { code, token } = session.record;
    const show = { page: "/lenet", state: { ink: d.ink } };
    const tab = window.open("", DRIVE_TAB); // the driving tab, or a new one (at the click: no popup blocker minds)
    // a tab showing it already is left alone: the same URL but for its fragment would keep the
    // token in its address bar, on the projector
    if (tab && `${tab.location.pathname}${tab.location.search}` !== urlOf(show)) {
      tab.location.href = secretLink(urlOf(show), code, token);
    }
    const sent = await api.classState(code, show, session.options);
    said(sent.ok ? `Projected: ${who}'s drawing, on /lenet.` : `Not projected: ${errorText(sent.data)}`, !sent.ok);
  }

  function confusion(c) {
    $("confusion-summary").textContent = c.total
      ? `${c.correct} of ${plural(c.total, "drawing")} read as the digit asked: ${percent(c.accuracy)}.`
      : "No drawing yet.";
    const most = Math.max(1, ...c.matrix.flat());
    const head = el("tr", {}, el("th", { scope: "col" }, "asked ↓ read →"),
      ...c.matrix.map((_, r) => el("th", { scope: "col" }, String(r))));
    const rows = c.matrix.map((row, asked) => el("tr", {}, el("th", { scope: "row" }, String(asked)),
      ...row.map((n, read) => el("td", {
        class: asked === read ? "diagonal" : "",
        style: n ? `background: rgba(${asked === read ? "0,158,115" : "213,94,0"}, ${(0.15 + (0.75 * n) / most).toFixed(2)})` : "",
        "aria-label": `asked ${asked}, read ${read}: ${n}`,
      }, n ? String(n) : ""))));
    $("confusion").replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
  }

  return { look };
}
