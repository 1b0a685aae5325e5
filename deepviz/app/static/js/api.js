// The only module that knows the server's URLs.

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  if (signal) signal.addEventListener("abort", () => { clearTimeout(timer); reject(new DOMException("aborted", "AbortError")); });
});

async function post(path, body, signal, retries = 2) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    return { ok: false, status: 0, data: { detail: [{ loc: [], msg: "the server cannot be reached" }] } };
  }
  if (response.status === 503 && retries > 0) {
    // busy: try again after the time it asks for, with jitter so that a hall does not retry at once
    const seconds = Number(response.headers.get("Retry-After")) || 1;
    await sleep(seconds * 1000 * (0.5 + Math.random()), signal);
    return post(path, body, signal, retries - 1);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = { detail: [{ loc: [], msg: `the server answered ${response.status}` }] };
  }
  return { ok: response.ok, status: response.status, data };
}

async function get(path) {
  const response = await fetch(path);
  return { ok: response.ok, status: response.status, data: await response.json() };
}

export const api = {
  graph: (body, signal) => post("/api/v1/graph", body, signal),
  descent: (body, signal) => post("/api/v1/descent", body, signal),
  conv: (body, signal) => post("/api/v1/conv", body, signal),
  receptiveField: (body, signal) => post("/api/v1/receptive-field", body, signal),
  pool: (body, signal) => post("/api/v1/pool", body, signal),
  shapes: (body, signal) => post("/api/v1/shapes", body, signal),
  kernels: () => get("/api/v1/kernels"),
  images: () => get("/api/v1/images"),
  lenetModel: () => get("/api/v1/lenet/model"),
  lenetMistakes: () => get("/api/v1/lenet/mistakes"),
  lenetStream: () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/lenet/stream`,
};

// Only the latest call of `fn` counts: an older answer that arrives late is dropped, so a
// slider moved quickly never shows a stale figure.
export function latest(fn) {
  let controller = null;
  const call = async (...args) => {
    if (controller) controller.abort();
    controller = new AbortController();
    const mine = controller;
    try {
      const answer = await fn(...args, mine.signal);
      return mine === controller ? answer : null;
    } catch (error) {
      if (error.name === "AbortError") return null;
      throw error;
    }
  };
  call.cancel = () => {  // forget any call in flight: its answer will be dropped
    if (controller) controller.abort();
    controller = null;
  };
  return call;
}

// "what is wrong (where)" from a 4xx answer's {"detail": [...]}.
export function errorText(data) {
  const detail = data && data.detail;
  if (!Array.isArray(detail)) return String(detail || "something went wrong");
  return detail
    .map((d) => {
      const where = (d.loc || []).filter((p) => p !== "body").join(" → ");
      return where && !String(d.msg).includes("at character") ? `${d.msg} (${where})` : d.msg;
    })
    .join("; ");
}
