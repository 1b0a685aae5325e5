// Classroom mode's memory in this tab (docs/classroom.md). Tokens live in sessionStorage (this
// tab's own, gone with it) and travel in a URL's fragment only (#…, never sent to a server):
// never in a query string, which the servers' logs keep.
//
//   instructor  {code, token}             the dashboard (/class) of this tab
//   drive       {code, token}             this tab's pages are sent to the class
//   student     {code, token, following, mode, answers: {poll_id: value}}   (mode: the class's, pace.js)

const KEYS = { instructor: "deepviz.class.instructor", drive: "deepviz.class.drive", student: "deepviz.class.student" };

export function load(role) {
  try {
    return JSON.parse(sessionStorage.getItem(KEYS[role]));
  } catch {
    return null; // storage disabled, or not JSON: no class
  }
}

export function save(role, record) {
  sessionStorage.setItem(KEYS[role], JSON.stringify(record));
}

export function forget(role) {
  sessionStorage.removeItem(KEYS[role]);
}

// A link that hands a class's instructor token to the page it opens: `path#code=…&token=…`.
export function secretLink(path, code, token) {
  return `${location.origin}${path}#${new URLSearchParams({ code, token })}`;
}

// The {code, token} of such a link, if this page was opened by one; the fragment is then
// removed from the address bar (and from the history), so that it is not shown or copied.
export function takeSecret() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (!fragment.has("code") || !fragment.has("token")) return null;
  window.history.replaceState(window.history.state, "", `${location.pathname}${location.search}`);
  return { code: fragment.get("code"), token: fragment.get("token") };
}

// Pages that are not lessons: never sent to the class, never followed into.
export const NOT_A_LESSON = new Set(["/class", "/join", "/docs"]);

// The page and its URL state as the API carries them: {page, state: {param: text}}.
export function here() {
  return { page: location.pathname, state: Object.fromEntries(new URLSearchParams(location.search)) };
}

// The URL of a class's {page, state}.
export function urlOf({ page, state }) {
  const query = new URLSearchParams(state || {}).toString();
  return query ? `${page}?${query}` : page;
}

// Whether this page shows `state` already (the parameters' order does not matter).
export function showing({ page, state }) {
  const mine = here();
  const a = Object.entries(mine.state).sort(), b = Object.entries(state || {}).sort();
  return page === mine.page && JSON.stringify(a) === JSON.stringify(b);
}
