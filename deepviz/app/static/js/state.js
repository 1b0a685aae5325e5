// A page's state lives in its URL query string, so that a link reproduces the figure.

export function readState(defaults) {
  const params = new URLSearchParams(window.location.search);
  const state = { ...defaults };
  for (const key of Object.keys(defaults)) {
    if (params.has(key)) state[key] = params.get(key);
  }
  return { state, params };
}

export function writeState(state) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const url = `${window.location.pathname}?${params}${window.location.hash}`;
  window.history.replaceState(null, "", url);
}
