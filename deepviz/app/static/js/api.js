// The only module that knows the server's URLs, and the only one that calls fetch.
//
// Every request has a timeout (combined with the caller's abort signal) and an error path: it
// resolves to an answer {ok, status, data, problem}, and throws only when its caller aborts it
// (an AbortError). `problem` says what went wrong:
//   null           the server answered 2xx
//   "bad"          4xx: the input is wrong; data.detail says where (errorText)
//   "unreachable"  no answer at all: the network or the server is down
//   "timeout"      no answer within the timeout
//   "busy"         503, still after retrying after its Retry-After
//   "server"       another 5xx
// `latest()` below turns the transient ones into retries with backoff, shown on a status line.

export const TIMEOUT = 15000; // ms, for one attempt

const sleepers = new Set(); // retries waiting for their turn: woken early when the server answers

// Resolves after `ms`, or when wake() is called, or (if `early`) when the server is seen to
// answer; rejects with an AbortError when `signal` aborts.
export function pause(ms, signal, early = true) {
  let wake = null;
  const promise = new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      sleepers.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    wake = done;
    if (early) sleepers.add(done);
    if (signal) {
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        sleepers.delete(done);
        reject(new DOMException("aborted", "AbortError"));
      }, { once: true });
    }
  });
  promise.wake = wake;
  promise.ms = ms;
  return promise;
}

// The server answered (a request, or the LeNet stream opened): whoever waits to retry, go now.
export function serverAnswered() {
  for (const wake of [...sleepers]) wake();
}

function failure(problem, status, msg) {
  return { ok: false, status, problem, data: { detail: [{ loc: [], msg }] } };
}

// The server computes a few requests of one client address at once (its setting
// max_work_per_address, 4 by default) and answers one more with 503 at once: so a page sends
// at most two computing requests (POST) at a time, and queues the others, in order (a second
// tab of the same student, or a setting of 2, still fits).
const MAX_POSTS = 2;
let posting = 0;
const queue = [];

function slot(signal) {
  if (posting < MAX_POSTS) {
    posting++;
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const turn = () => { posting++; resolve(); };
    queue.push(turn);
    signal?.addEventListener("abort", () => {
      const i = queue.indexOf(turn);
      if (i < 0) return; // its turn has come: the request sees the abort itself
      queue.splice(i, 1);
      reject(new DOMException("aborted", "AbortError"));
    }, { once: true });
  });
}

function release() {
  posting--;
  queue.shift()?.();
}

// One attempt: the response and its JSON, or a failure; throws an AbortError if `signal` aborted.
async function exchange(method, path, body, signal, timeout, superseded, token) {
  if (method !== "GET") {
    await slot(signal);
    if (superseded?.()) { // overtaken while it queued: never sent
      release();
      throw new DOMException("superseded", "AbortError");
    }
  }
  const timer = AbortSignal.timeout(timeout);
  const both = signal ? AbortSignal.any([signal, timer]) : timer;
  try {
    const response = await fetch(path, {
      method,
      headers: {
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(token ? { Authorization: `Bearer ${token}` } : {}), // classroom mode's tokens
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: both,
    });
    let data;
    try { // JSON, or a file to download (a program) as {text}; an error page goes the JSON way
      const text = response.ok && /^text\/(x-python|plain)/.test(response.headers.get("Content-Type") || "");
      data = text ? { text: await response.text() } : await response.json();
    } catch (error) {
      if (both.aborted) throw error;
      data = { detail: [{ loc: [], msg: `the server answered ${response.status} ${response.statusText}`.trim() }] };
    }
    return { response, data };
  } catch (error) {
    if (signal?.aborted) throw new DOMException("aborted", "AbortError");
    if (timer.aborted) return { failed: failure("timeout", 0, `the server did not answer within ${Math.round(timeout / 1000)} s`) };
    if (error.name === "AbortError") throw error;
    return { failed: failure("unreachable", 0, "the server cannot be reached") };
  } finally {
    if (method !== "GET") release();
  }
}

// options: `signal` aborts it; `timeout` (ms) bounds each attempt; `superseded()`, if true
// when its turn to be sent comes, drops it unsent (latest() below); `token` is sent as
// `Authorization: Bearer <token>` (classroom mode).
async function request(method, path, body, { signal = null, timeout = TIMEOUT, superseded = null, token = null } = {}) {
  if (signal?.aborted) throw new DOMException("aborted", "AbortError");
  for (let retries = 2; ; retries--) {
    const { response, data, failed } = await exchange(method, path, body, signal, timeout, superseded, token);
    if (failed) return failed;
    const { status } = response;
    if (status < 502 || status > 504) serverAnswered(); // a gateway's 502–504 says nothing of the server
    if (status === 503 && retries > 0) {
      // busy: try again after the time it asks for, with jitter so that a hall does not retry at once
      const seconds = Number(response.headers.get("Retry-After")) || 1;
      await pause(seconds * 1000 * (0.5 + Math.random()), signal, false);
      continue;
    }
    const problem = response.ok ? null : status < 500 ? "bad" : status === 503 ? "busy" : "server";
    return { ok: response.ok, status, data, problem };
  }
}

const post = (path) => (body, options) => request("POST", path, body, options);
const get = (path) => (options) => request("GET", path, undefined, options);

export const api = {
  graph: post("/api/v1/graph"),
  descent: post("/api/v1/descent"),
  // the unrolled recurrent network's preset: query {T, regime} -> {expression, values}
  rnnPreset: (query, options) => request("GET", `/api/v1/graph/rnn?${new URLSearchParams(query)}`, undefined, options),
  conv: post("/api/v1/conv"),
  convBackward: post("/api/v1/conv/backward"),
  receptiveField: post("/api/v1/receptive-field"),
  pool: post("/api/v1/pool"),
  shapes: post("/api/v1/shapes"),
  kernels: get("/api/v1/kernels"),
  images: get("/api/v1/images"),
  optimize: post("/api/v1/optimize"),
  optimizeOptions: get("/api/v1/optimize/options"),
  lenetModel: get("/api/v1/lenet/model"),
  lenetMistakes: get("/api/v1/lenet/mistakes"),
  adversarial: post("/api/v1/lenet/adversarial"),
  adversarialSmallest: post("/api/v1/lenet/adversarial/smallest-epsilon"),
  adversarialDigits: get("/api/v1/lenet/adversarial/digits"),
  robustness: get("/api/v1/lenet/robustness"),
  lenetStream: () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/lenet/stream`,
  trainRace: post("/api/v1/train/race"),
  trainProgram: post("/api/v1/train/program"), // answers {text}: the program
  trainStream: () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/train/stream`,
  lenetTrainStream: () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/lenet/train/stream`,
  // classroom mode (docs/classroom.md): `code` is the class's join code, tokens go in `options.token`
  classCreate: post("/api/v1/classes"),
  classJoin: (code, body, options) => request("POST", classPath(code, "join"), body, options),
  classInfo: (code, options) => request("GET", classPath(code), undefined, options),
  classState: (code, body, options) => request("POST", classPath(code, "state"), body, options),
  classMode: (code, body, options) => request("POST", classPath(code, "mode"), body, options),
  classEnd: (code, options) => request("POST", classPath(code, "end"), undefined, options),
  classPoll: (code, body, options) => request("POST", classPath(code, "polls"), body, options),
  classQuestions: (code, body, options) => request("POST", classPath(code, "questions"), body, options),
  classPollResult: (code, pollId, options) => request("GET", classPath(code, "polls", pollId), undefined, options),
  classAnswer: (code, pollId, body, options) =>
    request("POST", classPath(code, "polls", pollId, "answers"), body, options),
  classReveal: (code, pollId, body, options) =>
    request("POST", classPath(code, "polls", pollId, "reveal"), body, options),
  classDrawing: (code, pollId, body, options) => // a student's 28×28 for a drawing poll
    request("POST", classPath(code, "polls", pollId, "drawings"), body, options),
  classGallery: (code, pollId, options) => request("GET", classPath(code, "polls", pollId, "gallery"), undefined, options),
  classQr: (code) => classPath(code, "qr.svg"), // an image's src
  classJoinPage: (code) => `${location.origin}/join?code=${encodeURIComponent(code)}`,
  // the student token goes in the query (browsers cannot set a WebSocket's headers); nginx
  // keeps it out of its access log (deploy/nginx.conf)
  classFollow: (code, token) => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`
    + `${classPath(code, "follow")}?student_token=${encodeURIComponent(token)}`,
};

function classPath(code, ...rest) {
  return ["/api/v1/classes", ...[code, ...rest].map(encodeURIComponent)].join("/");
}

// Several requests as one answer: the first that failed, else {ok, data: [their data]}.
export function all(...calls) {
  return async (options) => {
    const answers = await Promise.all(calls.map((call) => call(options)));
    return answers.find((a) => !a.ok) || { ok: true, status: 200, problem: null, data: answers.map((a) => a.data) };
  };
}

// The wait before retry number `attempt` (0, 1, …): 1 s, 2 s, 4 s, … up to 30 s, with jitter.
export function backoff(attempt) {
  return Math.round(Math.min(1000 * 2 ** attempt, 30000) * (0.75 + Math.random() / 2));
}

// Only the latest call of `fn(...args, options)` counts, and a panel has at most one request
// in flight: a call made while one is in flight waits for it, and a newer call overtakes it
// (it returns null, unsent), so a slider moved quickly sends its first and its last positions
// and never shows a stale figure. A request already sent is not aborted but its answer is
// dropped: the server computes it anyway (its work slot for this address stays taken until it
// is done), so a request sent in its place at once would be refused with 503.
// An answer comes back for 2xx and 4xx (the caller shows a 4xx's detail); while the server
// cannot be reached, does not answer in time or is busy, the call waits and tries again with
// backoff (saying so on `view`, a status line), so that the page recovers by itself when the
// server returns; a newer call tries at once. Another 5xx is a defect: it is shown on `view`
// and the call returns null (the next action tries again), unless `persist` (data the page
// needs, such as its kernels). Returns null when the call was overtaken or cancelled.
export function latest(fn, view = null, { persist = false } = {}) {
  let newest = 0; // the number of the newest call
  let sent = null; // the request in flight, if any
  let waiting = null; // aborts the pause before a retry, when a newer call comes
  const call = async (...args) => {
    const mine = ++newest;
    const superseded = () => mine !== newest;
    waiting?.abort();
    view?.busy();
    for (let busy = sent; busy; busy = sent) { // wait for the request in flight
      await busy.catch(() => null);
      if (superseded()) return null;
    }
    for (let attempt = 0; ; attempt++) {
      let answer;
      sent = fn(...args, { superseded });
      try {
        answer = await sent;
      } catch (error) {
        if (error.name === "AbortError") return null;
        throw error;
      } finally {
        sent = null;
      }
      if (superseded()) return null;
      if (answer.ok || answer.problem === "bad") {
        view?.done();
        return answer;
      }
      if (answer.problem === "server" && !persist) {
        view?.failed(answer);
        return null;
      }
      waiting = new AbortController();
      const wait = pause(backoff(attempt), waiting.signal);
      view?.retrying(answer, wait);
      try {
        await wait;
      } catch {
        return null; // a newer call goes instead
      }
      if (superseded()) return null;
      view?.busy();
    }
  };
  call.cancel = () => { // forget any call: its answer will be dropped
    newest++;
    waiting?.abort();
    view?.done();
  };
  return call;
}

// What is wrong, from an answer's {"detail": [...]} (or {"detail": "…"}): the server's messages
// are sentences that name the place themselves ("layer 2: the kernel must be at most 11, not
// 30"), so the `loc` is not repeated after them.
export function errorText(data) {
  const detail = data && data.detail;
  if (!Array.isArray(detail)) return String(detail || "something went wrong");
  return detail.map((d) => d.msg).join("; ");
}
