"""Helpers for the browser tests of the network: a gate between the page and the API (the
server unreachable, or slow), and a count of the page's requests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from playwright.sync_api import Error, Page

API = re.compile(r"/api/v1/")
STREAM = re.compile(r"/api/v1/(lenet|train|lenet/train)/stream$")  # the LeNet frames, the training lab, the live LeNet
TRAIN_STREAM, LIVE_STREAM = "**/api/v1/train/stream", "**/api/v1/lenet/train/stream"


class Gate:
    """Stands between the page and the API, from before the page loads until open():
    "refuse": every request is refused (the server unreachable), each stream opened is closed
    (counted in `refused`);
    "hold": every request waits until open() (the server slow), and so do the stream's frames.
    open() lets what waits through and removes the route: the server is back."""

    def __init__(self, page: Page, mode: str, stream: bool = False):
        assert mode in ("refuse", "hold")
        self.page, self.mode, self.held, self.frames = page, mode, [], []
        self.sockets = []  # (page side, server side) of each stream opened while open
        self.refused = 0  # streams closed as unreachable
        page.route(API, self._http)
        if stream:
            page.route_web_socket(STREAM, self._stream)

    def _http(self, route):
        if self.mode == "refuse":
            route.abort("connectionrefused")
        elif self.mode == "hold":
            self.held.append(route)
        else:
            route.continue_()

    def _stream(self, ws):
        if self.mode == "refuse":
            self.refused += 1
            ws.close(code=1011, reason="unreachable")  # as a server that went away
            return
        server = ws.connect_to_server()
        self.sockets.append((ws, server))
        ws.on_message(lambda m: self.frames.append((server, m)) if self.mode == "hold" else server.send(m))
        server.on_message(ws.send)

    def open(self):
        self.mode = "open"
        held, self.held = self.held, []
        for route in held:
            try:
                route.continue_()
            except Error:  # the page gave up on it meanwhile
                pass
        frames, self.frames = self.frames, []
        for server, message in frames:
            server.send(message)
        self.page.unroute(API, self._http)


# Counts the page's requests by path, from inside the page (fetch wrapped before any script
# runs): how many were started, how many were in flight at once at most, how each ended.
COUNT_REQUESTS = """
(() => {
  const log = { started: [], inFlight: {}, most: {}, ended: [] };
  log.reset = () => { log.started = []; log.ended = []; log.most = { ...log.inFlight }; };
  window.__requests = log;
  const fetch = window.fetch;
  window.fetch = function (input, init) {
    const path = new URL(typeof input === "string" ? input : input.url, location.href).pathname;
    log.started.push(path);
    log.inFlight[path] = (log.inFlight[path] || 0) + 1;
    log.most[path] = Math.max(log.most[path] || 0, log.inFlight[path]);
    const done = (how) => { log.inFlight[path] -= 1; log.ended.push([path, how]); };
    const promise = fetch.call(this, input, init);
    promise.then(() => done("answered"), (error) => done(error.name));
    return promise;
  };
})();
"""


def count_requests(page: Page) -> None:
    page.add_init_script(COUNT_REQUESTS)


def requests(page: Page) -> dict:
    """{"started": [paths], "most": {path: most in flight at once}, "ended": [[path, how]]}."""
    return page.evaluate("({ started: __requests.started, most: __requests.most, ended: __requests.ended })")


def reset_requests(page: Page) -> None:
    page.evaluate("__requests.reset()")


def settle(page: Page, ms: int = 400) -> None:
    """Wait until no request has been in flight for `ms` (polled: the CSP forbids wait_for_function's eval)."""
    idle = "() => Object.values(__requests.inFlight).every((n) => n === 0)"
    quiet = 0
    while quiet < ms:
        page.wait_for_timeout(50)
        quiet = quiet + 50 if page.evaluate(idle) else 0


def stream_log(page: Page, url: str, keep: Callable[[dict], object] = lambda message: message["type"]) -> dict:
    """A stream's messages (``url``: its glob), passed through both ways and logged, each as
    ``keep(message)`` (its type, unless told): {"page": [what the page sent], "server": [what
    the server sent]}. Set before the page opens the stream."""
    log = {"page": [], "server": []}

    def stream(ws):
        server = ws.connect_to_server()

        def to_server(message):
            log["page"].append(keep(json.loads(message)))
            server.send(message)

        def to_page(message):
            log["server"].append(keep(json.loads(message)))
            ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    page.route_web_socket(url, stream)
    return log
