// /class: the instructor's dashboard. Opens a class, shows its code, join link and QR code,
// the students joined and the page the class is on, asks polls and shows their answers as they
// arrive (polled every second), reveals, ends the class. The instructor token stays in this
// tab's sessionStorage; the "secret instructor link" carries it in a fragment (classroom.js).
import { api, errorText, latest } from "./api.js";
import { el, fmt } from "./format.js";
import { NOT_A_LESSON, forget, load, save, secretLink, takeSecret, urlOf } from "./classroom.js";
import { drawingPolls } from "./class_drawings.js";
import { statusLine } from "./status.js";
import { modeSwitch } from "./pace.js";
import { STEP } from "./state.js";

const $ = (id) => document.getElementById(id);
const EVERY = 1000; // ms between two looks at the class and its poll
let record = takeSecret() || load("instructor");
let poll = null; // the current poll: {poll_id, kind, options, revealed}
let ready = null; // the ready-made question asked as the current poll: {poll_id, answer, show}
let offered = null; // the page and state whose ready-made questions are listed (JSON)
let timer = null;
let pace = null; // the switch: paced, locked, released

const stepsShown = (text, at) => `lesson step ${at || 0} of ${text.split(STEP).length}`; // not the steps' text
const said = (box, text) => { box.hidden = !text; box.textContent = text || ""; };
const options = { get token() { return record.token; } };
const drawings = drawingPolls({ get record() { return record; }, options }, (pollId) => {
  poll = { poll_id: pollId };
  look();
});
// While the server cannot be reached these wait and try again with backoff, saying so (and
// offering Retry now), so that the dashboard comes back by itself. The look every second
// says only trouble: a "loading…" there would flicker.
const create = latest((o) => api.classCreate(undefined, o), statusLine($("create-status")));
const lookStatus = statusLine($("class-status"));
const info = latest((code, o) => api.classInfo(code, { ...o, token: record.token }), { ...lookStatus, busy() {} });

function open(fresh) {
  record = fresh;
  save("instructor", record);
  $("class-create").hidden = true;
  $("class-dashboard").hidden = false;
  $("class-code").textContent = record.code;
  $("class-join-host").textContent = location.host;
  const link = api.classJoinPage(record.code);
  $("class-join-link").href = link;
  $("class-join-link").textContent = link;
  $("class-qr").src = api.classQr(record.code);
  $("class-secret").value = secretLink("/class", record.code, record.token);
  pace = modeSwitch(record);
  $("class-pace").replaceChildren(pace);
  look();
}

function closed(message) {
  clearTimeout(timer);
  info.cancel();
  forget("instructor");
  forget("drive");
  record = null;
  $("class-dashboard").hidden = true;
  $("class-create").hidden = false;
  said($("create-error"), message);
}

// -- the class and its current poll, every second --------------------------------------------
// One look at a time: a look asked for while one runs (after a poll is asked) follows it at once.
let looking = false, again = false;
async function look() {
  clearTimeout(timer);
  if (!record) return;
  if (looking) {
    again = true;
    return;
  }
  looking = true;
  try {
    await lookOnce();
  } finally {
    looking = false;
  }
  if (!record) return;
  timer = setTimeout(look, again ? 0 : EVERY);
  again = false;
}

async function lookOnce() {
  const answer = await info(record.code);
  if (!record || !answer) return; // closed meanwhile, or a server failure (shown; the next look tries again)
  if (answer.status === 404) return closed("This class has ended (or expired): open a new one.");
  said($("class-error"), answer.ok ? "" : errorText(answer.data));
  if (answer.ok) {
    const d = answer.data;
    $("class-students").textContent = d.students;
    pace.shown(d.mode);
    $("class-connected").textContent = d.connected;
    $("class-page").textContent = d.page || "no page yet";
    $("class-page").href = d.page ? urlOf(d) : "/";
    const brief = (v) => (v.length > 40 ? `${v.slice(0, 20)}…` : v); // a drawing's ink is 1,046 characters
    $("class-state").textContent = Object.entries(d.state || {}).filter(([k]) => k !== "at")
      .map(([k, v]) => (k === "steps" ? stepsShown(v, d.state.at) : `${k}=${brief(v)}`)).join(" · ");
    $("class-name-count").textContent = d.names.length;
    $("class-names").replaceChildren(...d.names.map((s) => el("li", {}, s.name))); // text, never HTML
    if (d.polls > 0 && poll?.poll_id !== `p${d.polls}`) poll = { poll_id: `p${d.polls}` }; // reopened dashboard
    if (d.page && JSON.stringify([d.page, d.state]) !== offered) await offer(d.page, d.state || {});
  }
  if (poll) await lookAtPoll();
}

async function lookAtPoll() {
  const answer = await api.classPollResult(record.code, poll.poll_id, options);
  if (!answer.ok) return;
  const fresh = !poll.kind;
  poll = answer.data;
  $("poll-live").hidden = false;
  $("poll-shown").textContent = poll.question;
  $("poll-total").textContent = poll.total;
  const label = (value) => (poll.kind === "choice" ? poll.options[value] ?? fmt(value) : fmt(value));
  const most = Math.max(1, ...poll.counts.map((c) => c.count));
  $("poll-histogram").replaceChildren(...poll.counts.map((c) => el("div", { class: "bar-row" },
    el("span", { class: "bar-label" }, label(c.value)),
    el("span", { class: "bar", style: `width: ${(70 * c.count) / most}%` }),
    el("span", { class: "bar-count" }, String(c.count)))));
  $("poll-histogram").setAttribute("aria-label", poll.counts.map((c) => `${label(c.value)}: ${c.count}`).join(", "));
  $("poll-answers").replaceChildren(...poll.answers.map((a) => el("li", {}, `${a.name || "anonymous"}: ${label(a.value)}`)));
  if (fresh) revealControl();
  $("reveal-form").hidden = poll.revealed;
  if (poll.revealed) said($("poll-revealed"), "Revealed: the poll is closed.");
  await drawings.look(poll);
}

// -- ready-made questions: the server computes them and their answers for the class's page --
async function offer(page, state) {
  offered = JSON.stringify([page, state]);
  const answer = await api.classQuestions(record.code, { page, state }, options);
  if (!record || offered !== JSON.stringify([page, state])) return; // the class moved on meanwhile
  const list = answer.ok ? answer.data : [];
  said($("ready-status"), !answer.ok ? `This page's state offers no questions: ${errorText(answer.data)}`
    : list.length ? "" : `${page} offers no ready-made question for this state.`);
  $("ready-list").replaceChildren(...list.map((q) => {
    const button = el("button", { type: "button", class: "ready-ask", "aria-label": `Ask: ${q.question}` }, "Ask");
    button.addEventListener("click", () => ask(q));
    return el("li", {}, button, " ", el("span", {}, q.question)); // the answer waits in the reveal's field
  }));
}

async function ask(q) {
  const answer = await api.classPoll(record.code, { question: q.question, kind: q.kind, options: q.options }, options);
  said($("poll-error"), answer.ok ? "" : errorText(answer.data));
  if (!answer.ok) return;
  poll = { poll_id: answer.data.poll_id };
  ready = { poll_id: answer.data.poll_id, answer: q.answer, show: q.show };
  look();
}

function revealControl() {
  const control = poll.kind === "choice"
    ? el("select", { id: "reveal-answer" }, el("option", { value: "" }, "(no right answer)"),
      ...poll.options.map((o, i) => el("option", { value: String(i) }, o)))
    : el("input", { id: "reveal-answer", type: "number", step: "any", placeholder: "(none)" });
  $("reveal-slot").replaceChildren(control);
  if (ready?.poll_id === poll.poll_id) control.value = String(ready.answer); // the server's answer
  if (poll.kind === "drawing") control.value = String(poll.target);
  said($("poll-revealed"), "");
}

// -- the controls ---------------------------------------------------------------------------
$("class-new").addEventListener("click", async () => {
  said($("create-error"), "");
  $("class-new").disabled = true; // one class per click, however the server answers
  const answer = await create();
  $("class-new").disabled = false;
  if (!answer) return;
  if (!answer.ok) return said($("create-error"), errorText(answer.data));
  open({ code: answer.data.code, token: answer.data.instructor_token });
});

for (const link of document.querySelectorAll("a[data-drive]")) {
  link.addEventListener("click", () => { // the token goes in the fragment, at the last moment
    link.href = secretLink(link.getAttribute("href").split("#")[0], record.code, record.token);
  });
}

$("drive-lesson").addEventListener("submit", (e) => { // a lesson link of this server, opened to drive
  e.preventDefault();
  let url;
  try {
    url = new URL($("lesson-link").value.trim(), location.origin);
  } catch {
    url = null;
  }
  const fine = url && url.origin === location.origin && !NOT_A_LESSON.has(url.pathname);
  said($("lesson-error"), fine ? "" : `Paste a link to one of this site's pages (${location.origin}/…).`);
  if (fine) window.open(secretLink(`${url.pathname}${url.search}`, record.code, record.token), "_blank");
});

$("poll-kind").addEventListener("change", () => { $("poll-options").disabled = $("poll-kind").value !== "choice"; });

$("poll-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const kind = $("poll-kind").value;
  const body = {
    question: $("poll-question").value.trim(), kind,
    options: kind === "choice" ? $("poll-options").value.split("\n").map((o) => o.trim()).filter(Boolean) : [],
  };
  const answer = await api.classPoll(record.code, body, options);
  said($("poll-error"), answer.ok ? "" : errorText(answer.data));
  if (!answer.ok) return;
  poll = { poll_id: answer.data.poll_id };
  look();
});

$("reveal-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("reveal-answer").value;
  const body = text === "" ? {} : { answer: Number(text) };
  if (ready?.poll_id === poll.poll_id) body.show = ready.show; // the class moves to the page state that shows it
  const answer = await api.classReveal(record.code, poll.poll_id, body, options);
  said($("poll-error"), answer.ok ? "" : errorText(answer.data));
  look();
});

$("class-end").addEventListener("click", async () => {
  if (!window.confirm(`End class ${record.code}? Everything about it is deleted.`)) return;
  const answer = await api.classEnd(record.code, options);
  if (answer.ok || answer.status === 404) closed("The class has ended.");
  else said($("class-error"), errorText(answer.data));
});

if (record) open(record);
