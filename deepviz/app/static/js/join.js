// /join: a student types the class's code (or arrives with ?code= from the link or the QR
// code) and an optional name; the token goes to sessionStorage and the class bar takes over.
import { api, errorText } from "./api.js";
import { joined } from "./classbar.js";
import { load, save } from "./classroom.js";

const $ = (id) => document.getElementById(id);
const form = $("join-form"), error = $("join-error"), done = $("join-done");
$("join-code").value = new URLSearchParams(location.search).get("code") || "";

function inClass(code) {
  form.hidden = true;
  done.hidden = false;
  done.textContent = `You are in class ${code}: your page goes to the instructor's as soon as they show one.`;
}

const record = load("student");
if (record) inClass(record.code);
else if ($("join-code").value) $("join-name").focus();
else $("join-code").focus();

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  error.hidden = true;
  const code = $("join-code").value.trim().toUpperCase();
  const name = $("join-name").value.trim();
  const answer = await api.classJoin(code, name ? { name } : {});
  if (!answer.ok) {
    error.hidden = false;
    error.textContent = answer.status === 404 ? "No class has this code: check it with your instructor." : errorText(answer.data);
    return;
  }
  save("student", { code, token: answer.data.student_token, following: true, answers: {} });
  inClass(code);
  joined();
});
