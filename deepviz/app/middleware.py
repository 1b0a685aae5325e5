"""Pure ASGI middleware, outermost first: security headers (and a last-resort 500), structured
access logs, HEAD answered as GET, bounds on request heads and bodies (size and time), and
the bound on concurrent work with each computation's budget."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deepviz.app.budget import Abandoned, Budget
from deepviz.app.metrics import METRICS

ACCESS = logging.getLogger("deepviz.access")
LOG = logging.getLogger("deepviz.error")
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)  # plotly injects <style> elements, hence 'unsafe-inline' for styles only; never for scripts
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = list(message.get("headers", [])) + HEADERS
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Abandoned:
            pass  # the client left while its request computed: nobody to answer
        except Exception:
            # a defect, not bad input: one traceback in the log, and a JSON 500 with our headers
            LOG.exception("%s %s failed", scope["method"], scope["path"])
            if not started:
                await send_json(send_with_headers, 500, ["server"], "the server failed on this request", "server_error")


class RequestLimits:
    """Bounds on a request before the app sees it: its head (431 past ``max_header_bytes``;
    the server enforces it too, as the head arrives), its body's size, declared or streamed
    (413), and the time the body takes to arrive (408 after ``body_timeout`` seconds)."""

    def __init__(self, app: ASGIApp, max_header_bytes: int, max_body_bytes: int, body_timeout: float):
        self.app, self.max_header_bytes = app, max_header_bytes
        self.max_body_bytes, self.body_timeout = max_body_bytes, body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        head = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b""))
        head += sum(len(k) + len(v) + 4 for k, v in scope.get("headers", []))
        if head > self.max_header_bytes:
            msg = f"the request head is larger than {self.max_header_bytes} bytes"
            return await send_json(send, 431, ["headers"], msg, "too_large")
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return await self._too_large(send)
        received, complete = 0, False
        deadline = time.monotonic() + self.body_timeout

        async def bounded_receive() -> Message:
            nonlocal received, complete
            if complete:  # the body is in: what follows is the wait for a disconnect
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise _TooSlow from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.max_body_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, bounded_receive, send)
        except _TooLarge:
            await self._too_large(send)
        except _TooSlow:
            METRICS.count("deepviz_requests_refused_total", reason="slow_body")
            msg = f"the body took longer than {self.body_timeout:g} s"
            await send_json(send, 408, ["body"], msg, "timeout", [(b"connection", b"close")])

    async def _too_large(self, send: Send) -> None:
        METRICS.count("deepviz_requests_refused_total", reason="large_body")
        msg = f"the body is larger than {self.max_body_bytes} bytes"
        await send_json(send, 413, ["body"], msg, "too_large", [(b"connection", b"close")])  # the rest is unread


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


async def send_json(send: Send, status: int, loc: list, msg: str, kind: str, headers: list | None = None) -> None:
    """A whole response in the app's error shape: {"detail": [{"loc", "msg", "type"}]}."""
    body = json.dumps({"detail": [{"loc": loc, "msg": msg, "type": kind}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HeadAsGet:
    """HEAD is answered wherever GET is (pages, /healthz, the API's GET routes): the app
    handles a GET, and the body is dropped on the way out (its length stays in the headers)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def send_head(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
            await send(message)

        inner = {**scope, "method": "GET"}
        try:
            await self.app(inner, receive, send_head)
        finally:
            if "route" in inner:  # for the access log and the metrics, outside
                scope["route"] = inner["route"]


class Work:
    """At most ``limit`` computing requests (anything but GET, HEAD and OPTIONS) at once in
    this worker, and at most ``per_address`` of them from one client address (but for the
    trusted proxy's: a student on localhost, or requests without X-Forwarded-For). Past that, a
    503 with Retry-After at once: a request that would wait for a thread would time out
    anyway, and requests queued behind it with it. A request's body is read before it takes a
    slot. Each request gets a Budget (a deadline, and whether its client is still there),
    which routes pass to the engine's loops: the connection is watched for a disconnect while
    the route computes."""

    def __init__(
        self, app: ASGIApp, limit: int, per_address: int, seconds: float, exempt: frozenset[str] = frozenset()
    ):
        self.app, self.limit, self.per_address, self.seconds = app, limit, per_address, seconds
        self.exempt = exempt  # the trusted proxy's own address: behind it, addresses come from X-Forwarded-For
        self.running = 0  # only touched from the event loop
        self.by_address: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        # the body first, holding no slot: a slow upload must not keep one (it has its own deadline)
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        address = (scope.get("client") or ("?",))[0]
        mine = self.by_address[address] if address not in self.exempt else 0
        if self.running >= self.limit or mine >= self.per_address:
            METRICS.count("deepviz_requests_refused_total", reason="busy")
            msg = "the server is busy computing: try again in a second"
            return await send_json(send, 503, ["server"], msg, "busy", [(b"retry-after", b"1")])
        self.running += 1
        self.by_address[address] += 1
        try:
            await self._run(scope, receive, send, body)
        finally:
            self.running -= 1
            self.by_address[address] -= 1
            if self.by_address[address] <= 0:
                del self.by_address[address]

    async def _run(self, scope: Scope, receive: Receive, send: Send, body: bytearray | None) -> None:
        budget = Budget(self.seconds)
        scope.setdefault("state", {})["budget"] = budget
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            budget.gone.set()  # the worker thread sees it at its next check
            gone.set()

        async def replay() -> Message:
            nonlocal body
            if body is not None:
                message, body = {"type": "http.request", "body": bytes(body), "more_body": False}, None
                return message
            await gone.wait()
            return {"type": "http.disconnect"}

        watcher = asyncio.create_task(watch())
        try:
            await self.app(scope, replay, send)
        finally:
            watcher.cancel()


class AccessLog:
    """One structured (JSON) log line and one metrics sample per HTTP request: method, route,
    status, duration. Routes are labelled by their template, never by the raw path (a
    stream of random 404 paths must not grow the metrics without bound)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = {"code": 500}

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Abandoned:
            status["code"] = 499  # as nginx logs it: the client closed the request
            raise
        finally:
            seconds = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None) or (
                "/static" if scope["path"].startswith("/static/") else "unmatched"
            )
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"  # bounded labels
            METRICS.count("deepviz_requests_total", method=method, route=route, status=str(status["code"]))
            METRICS.observe("deepviz_request_seconds", seconds, route=route)
            client = scope.get("client") or ("-", 0)
            ACCESS.info(json.dumps({"method": scope["method"], "path": scope["path"], "route": route,
                                    "status": status["code"], "ms": round(seconds * 1000, 2),
                                    "client": client[0]}))  # fmt: skip
