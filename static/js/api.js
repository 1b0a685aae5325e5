// The only module that knows the server's URLs.

async function post(path, body, signal) {
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
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = { detail: [{ loc: [], msg: `the server answered ${response.status}` }] };
  }
  return { ok: response.ok, status: response.status, data };
}

export const api = {
  graph: (body, signal) => post("/api/v1/graph", body, signal),
  descent: (body, signal) => post("/api/v1/descent", body, signal),
};

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
