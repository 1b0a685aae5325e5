// The training lab's WebSocket (docs/training.md): opens it, says its state (live, connecting,
// the server not answering, the server full), and opens it again with backoff when it drops.
// The page tells it what to do on each (re)opening (send its run again) and with each message.
import { serverAnswered } from "./api.js";

const SLOW = 1500; // ms waiting for an answer we asked for before the page says it is waiting
const STALL = 15000; // ms waiting for an answer we asked for before the stream is opened again

// url(): the stream's address; on.open(): (re)opened; on.message(msg): a parsed message;
// on.state(kind, text): "loading" | "live" | "paused" | "offline" | "error", and its words.
export function trainingStream(url, on) {
  let socket = null;
  let retry = 1000; // the next reconnection's delay (ms): doubles after each failure, up to 30 s
  let reconnectTimer = null;
  let stallTimer = null;
  let slowTimer = null;
  let waiting = false; // "waiting for the server…" is shown: the next message says "live" again
  let idle = false; // closed by the server as idle, or by the protocol: reopened on the next action

  function connect() {
    clearTimeout(reconnectTimer);
    idle = false;
    const mine = new WebSocket(url());
    socket = mine;
    on.state("loading", "connecting…");
    mine.addEventListener("open", () => {
      if (socket !== mine) return;
      retry = 1000;
      serverAnswered();
      on.state("live", "live");
      on.open();
    });
    mine.addEventListener("message", (event) => {
      if (socket !== mine) return;
      answered();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        message = { type: "error", msg: "the server sent an unreadable message", loc: [] };
      }
      on.message(message);
    });
    mine.addEventListener("close", (event) => {
      if (socket === mine) lost(event.code);
    });
  }

  // The stream closed: say so and open it again after a while (at once on the next action
  // if the server closed it on purpose).
  function lost(code) {
    socket = null;
    answered();
    if (code === 1000 || code === 1001) {
      idle = true;
      on.state("paused", "closed while idle: press Play or Step to start the run again");
      return;
    }
    if (code === 1008) {
      idle = true;
      on.state("error", "the server closed the stream (too many bad messages): press Play or Step to start again");
      return;
    }
    // 1013: the server is full. Wait longer, with jitter, so that a full hall does not come back at once.
    const base = code === 1013 ? Math.max(retry, 5000) : retry;
    const wait = Math.round(base * (0.5 + Math.random()));
    retry = Math.min(2 * base, 30000);
    const inSeconds = `${Math.max(1, Math.round(wait / 1000))} s`;
    on.state("offline", code === 1013 ? `the server is full: trying again in ${inSeconds}`
      : `the server is not answering: reconnecting in ${inSeconds}`);
    reconnectTimer = setTimeout(connect, wait);
  }

  // Send a message; `expectAnswer`: if nothing comes back within STALL, the stream is reopened.
  function send(message, expectAnswer = false) {
    // a student's action reopens a stream closed on purpose (its opening sends the run again);
    // an ack for a frame drawn after the close does not
    if (idle) { if (message.type !== "ack") connect(); return false; }
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    if (expectAnswer) {
      clearTimeout(stallTimer);
      clearTimeout(slowTimer);
      slowTimer = setTimeout(() => {
        waiting = true;
        on.state("loading", "waiting for the server…");
      }, SLOW);
      stallTimer = setTimeout(() => {
        const stuck = socket;
        socket = null;
        stuck?.close();
        lost(4000);
      }, STALL);
    }
    return true;
  }

  // A message came (or the stream closed): no longer waiting for an answer.
  function answered() {
    clearTimeout(stallTimer);
    clearTimeout(slowTimer);
    if (waiting && socket) on.state("live", "live");
    waiting = false;
  }

  return { connect, send, open: () => socket?.readyState === WebSocket.OPEN };
}
