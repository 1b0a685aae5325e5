// The class bar, on every page (templates/base.html): classroom mode as a student or an
// instructor sees it (docs/classroom.md).
//
// A student's tab follows the instructor through the class's WebSocket: a state of another
// page navigates there; a state of this page replaces its URL state and the page renders it
// (a page that can render a state in place handles the cancelable "deepviz:follow" event and
// calls preventDefault(); the others are reloaded at the new URL). The student may explore
// alone and rejoin (the page jumps back to the instructor's state), and answers the polls here.
// The class's mode (pace.js) decides: "paced", as above; "locked", the page follows and may
// not leave; "released", the page explores freely. Locked, or paced again after a release,
// every page jumps to the instructor's state.
// An instructor's "driving" tab sends its page's state (state.js's writeState) to the class,
// paces it, and steps through a lesson link's sequence (lesson.js).
import { api, backoff, errorText, latest } from "./api.js";
import { el, fmt } from "./format.js";
import { NOT_A_LESSON, forget, here, load, save, secretLink, showing, takeSecret } from "./classroom.js";
import { lessonBar, lessonPanel, render, stepper } from "./lesson.js";
import { keepCurrent, modeSwitch } from "./pace.js";

const bar = document.getElementById("class-bar");
const button = (text, onClick, attrs = {}) => {
  const b = el("button", { type: "button", ...attrs }, text);
  b.addEventListener("click", onClick);
  return b;
};

function show(...children) {
  bar.hidden = false;
  bar.replaceChildren(...children);
}

// -- the instructor's tab: its state goes to the class (latest wins, one request at a time) --
function drive(record) {
  const status = el("span", { class: "class-status" }, "");
  const pace = modeSwitch(record, "The class:");
  const stop = () => {
    forget("drive");
    stopWatching();
    window.removeEventListener("deepviz:state", send);
    bar.hidden = true;
  };
  const dashboard = el("a", { href: "/class", target: "_blank" }, "Dashboard");
  dashboard.addEventListener("click", () => { dashboard.href = secretLink("/class", record.code, record.token); });
  show(el("strong", {}, `Class ${record.code}`), el("span", {}, " you drive: the students follow this page."),
    status, dashboard, button("Stop driving", stop), pace, stepper(), lessonPanel());
  const stopWatching = keepCurrent(pace, record);
  const post = latest((body, options) => api.classState(record.code, body, { ...options, token: record.token }));
  async function send() {
    const answer = await post(here());
    if (!answer) return;
    status.textContent = answer.ok ? "" : ` Not sent: ${errorText(answer.data)}`;
    if (answer.status === 404) stop(); // the class ended
  }
  window.addEventListener("deepviz:state", send);
  send(); // the page as it opens (its own first writeState, if any, follows)
}

// -- a student's tab --------------------------------------------------------------------
function follow(record) {
  let latestState = null; // the instructor's last {page, state}, applied or not
  let poll = null, reveal = null, ended = false, attempt = 0, socket = null;
  let mode = record.mode || "paced"; // kept across pages: a released page does not follow the snapshot's state
  const line = el("span", { class: "class-status" });
  const toggle = el("button", { type: "button" });
  const why = el("small", { class: "class-why" });
  const steps = stepper(); // a lesson's steps, for a student on their own
  const pollBox = el("div", { class: "class-poll", "aria-live": "polite" });
  toggle.addEventListener("click", () => {
    record.following = !record.following;
    save("student", record);
    draw();
    if (record.following && latestState) apply(latestState);
  });
  show(el("strong", {}, `Class ${record.code}`), line, toggle, why, button("Leave", leave), steps, pollBox);

  function draw() {
    if (ended) return;
    const free = mode === "released";
    line.textContent = free ? " Explore freely: the instructor has released the class."
      : record.following
        ? (latestState?.page ? " Following the instructor." : " Following the instructor: waiting for their first page.")
        : " Exploring alone.";
    toggle.textContent = record.following ? "Explore alone" : "Rejoin the instructor";
    toggle.hidden = free;
    toggle.disabled = mode === "locked";
    why.textContent = mode === "locked" ? "locked by the instructor" : "";
    steps.classList.toggle("lesson-following", record.following && !free); // a follower does not step
    bar.classList.toggle("exploring", free || !record.following);
  }

  function leave() {
    ended = true;
    forget("student");
    socket?.close(1000);
    bar.hidden = true;
  }

  function apply(event) {
    if (mode === "released" || !event.page || NOT_A_LESSON.has(event.page) || showing(event)) return;
    render(event);
  }

  function drawPoll() {
    if (!poll) return pollBox.replaceChildren();
    const mine = record.answers?.[poll.poll_id];
    const label = (value) => (poll.kind === "choice" ? poll.options[value] ?? fmt(value) : fmt(value));
    const parts = [el("p", { class: "class-question" }, poll.question)];
    if (reveal) {
      parts.push(el("p", {}, reveal.answer === null || reveal.answer === undefined
        ? "The poll is closed." : `The answer: ${label(reveal.answer)}.`,
      mine === undefined ? "" : ` Yours: ${label(mine)}.`));
      return pollBox.replaceChildren(...parts);
    }
    if (poll.kind === "drawing") {
      parts.push(drawingAnswer(mine));
      return pollBox.replaceChildren(...parts);
    }
    if (poll.kind === "choice") {
      parts.push(el("div", { class: "class-options", role: "group", "aria-label": "Your answer" },
        ...poll.options.map((option, i) => button(option, () => answer(i), { "aria-pressed": String(mine === i) }))));
    } else {
      const input = el("input", { type: "number", step: "any", "aria-label": "Your answer", required: "" });
      const form = el("form", { class: "class-number" }, input, el("button", { type: "submit" }, "Answer"));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        if (input.value !== "") answer(Number(input.value));
      });
      parts.push(form);
    }
    parts.push(el("p", { class: "help class-answered" },
      mine === undefined ? "Your answer is anonymous to the other students." : `Your answer: ${label(mine)} (you may change it).`));
    pollBox.replaceChildren(...parts);
  }

  // A drawing poll ("Draw a 7") is answered from /lenet: the page hands over the 28×28 its
  // network saw (the deepviz:drawing event), LeNet-5's reading comes back.
  function drawingAnswer(mine) {
    const said = el("p", { class: "help class-answered" }, mine === undefined
      ? "Only your instructor sees your drawing." : `Sent: LeNet-5 reads it as a ${mine}. Draw again and send to replace it.`);
    if (location.pathname !== "/lenet") {
      return el("p", {}, el("a", { href: "/lenet" }, "Open the LeNet-5 page to draw"), " ", said);
    }
    const sendIt = button("Send my drawing", async () => {
      const drawing = {};
      window.dispatchEvent(new CustomEvent("deepviz:drawing", { detail: drawing }));
      if (!drawing.pixels) return (said.textContent = "Draw the digit on the pad first, then send it.");
      const pollId = poll.poll_id;
      const sent = await api.classDrawing(record.code, pollId, { pixels: drawing.pixels }, { token: record.token });
      if (sent.ok) {
        record.answers = { [pollId]: sent.data.reading };
        save("student", record);
        drawPoll();
      } else {
        said.textContent = errorText(sent.data);
        said.classList.add("error");
      }
    });
    return el("div", { class: "class-options" }, sendIt, said);
  }

  async function answer(value) {
    const pollId = poll.poll_id;
    const sent = await api.classAnswer(record.code, pollId, { value }, { token: record.token });
    if (sent.ok) {
      record.answers = { [pollId]: value }; // only the current poll's answer is kept
      save("student", record);
    }
    drawPoll();
    if (!sent.ok) pollBox.append(el("p", { class: "error" }, errorText(sent.data)));
  }

  function receive(message, first) {
    if (first) { // a new connection: its first messages are the truth (seqs may restart)
      poll = null;
      reveal = null;
    }
    if (message.type === "state") {
      latestState = message;
      draw();
      if (record.following) apply(message);
    } else if (message.type === "mode") {
      const before = mode;
      mode = record.mode = message.mode;
      if (mode === "locked" || (mode === "paced" && before === "released")) record.following = true; // everyone
      save("student", record);
      draw();
      if (record.following && latestState) apply(latestState);
    } else if (message.type === "poll") {
      poll = message;
      reveal = null;
      drawPoll();
    } else if (message.type === "reveal" && poll?.poll_id === message.poll_id) {
      reveal = message;
      drawPoll();
    } else if (message.type === "ended") {
      ended = true;
      forget("student");
      show(el("strong", {}, `Class ${record.code}`), el("span", {}, " The class has ended. Thank you!"),
        button("Close", () => { bar.hidden = true; }));
    }
  }

  function connect() {
    let first = true;
    socket = new WebSocket(api.classFollow(record.code, record.token));
    socket.addEventListener("message", (e) => {
      attempt = 0;
      receive(JSON.parse(e.data), first);
      first = false;
    });
    socket.addEventListener("close", (e) => {
      if (ended) return;
      const wait = backoff(attempt++); // with jitter: a hall does not reconnect at once
      line.textContent = e.code === 4404 || e.code === 4401
        ? " The class is not found (ended, or the server lost it): trying again…"
        : " Connection lost: reconnecting…";
      setTimeout(connect, wait);
    });
  }
  draw();
  drawPoll();
  connect();
}

// -- which bar, if any ----------------------------------------------------------------------
if (!NOT_A_LESSON.has(location.pathname)) {
  const secret = takeSecret(); // a dashboard's "drive" link: this tab now drives
  if (secret) save("drive", secret);
}
const driving = load("drive"), student = load("student");
if (driving && !NOT_A_LESSON.has(location.pathname)) drive(driving);
else if (student && location.pathname !== "/class") follow(student);
else if (!NOT_A_LESSON.has(location.pathname)) lessonBar(); // outside a class: a lesson link's steps

// The /join page calls this once the student has joined.
export function joined() {
  const record = load("student");
  if (record) follow(record);
}
