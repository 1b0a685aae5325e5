// /join: a student types the class's code (or arrives with ?code= from the link or the QR
// code) and an optional name; the token goes to sessionStorage and the class bar takes over.
import { api, errorText, latest } from "./api.js";
import { joined } from "./classbar.js";
import { load, save } from "./classroom.js";
import { statusLine } from "./status.js";

const $ = (id) => document.getElementById(id);
const form = $("join-form"), error = $("join-error"), done = $("join-done");
$("join-code").value = new URLSearchParams(location.search).get("code") || "";

const code = () => $("join-code").value.trim().toUpperCase();
const body = () => ($("join-name").value.trim() ? { name: $("join-name").value.trim() } : {});
// While the server cannot be reached the join waits and tries again with backoff, saying so
// (with Retry now); each attempt sends the fields as they are then, so a code corrected
// meanwhile goes with it.
let sentCode = ""; // the code of the last attempt: the class joined, if it succeeds
const join = latest((o) => {
  sentCode = code();
  return api.classJoin(sentCode, body(), o);
}, statusLine($("join-status")));

function inClass(joinedCode) {
  form.hidden = true;
  done.hidden = false;
  done.textContent = `You are in class ${joinedCode}: your page goes to the instructor's as soon as they show one.`;
}

const record = load("student");
if (record) inClass(record.code);
else if ($("join-code").value) $("join-name").focus();
else $("join-code").focus();

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  error.hidden = true;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true; // one join per press, however long the server takes
  const answer = await join();
  button.disabled = false;
  if (!answer) return;
  if (!answer.ok) {
    error.hidden = false;
    error.textContent = answer.status === 404 ? "No class has this code: check it with your instructor." : errorText(answer.data);
    return;
  }
  save("student", { code: sentCode, token: answer.data.student_token, following: true, answers: {} });
  inClass(sentCode);
  joined();
});
