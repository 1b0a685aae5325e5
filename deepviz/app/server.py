"""Limits on connections that uvicorn does not set itself, for a server a lecture hall shares.

uvicorn's default HTTP parser (httptools) accepts request heads of any size and takes any
time over them: four connections streaming one endless header value pinned a worker at 100%
CPU and hundreds of MB (the parser grows the value by concatenation), and silent sockets
were never closed. So, on each HTTP connection of uvicorn's protocols (httptools and h11):

- a request head (request line and headers) larger than ``max_header_bytes`` gets 431;
- a request head not complete within ``header_timeout`` seconds of its first byte (or of the
  connection opening) gets 408 and the connection closes (slowloris, silent sockets);
- a client address holding more than ``max_connections_per_address`` HTTP connections has
  the extra ones closed at once (the trusted proxy, nginx, is exempt: it enforces its own).

These are added to uvicorn's protocol classes when the app is created, so that they hold
however the server is started (``deepviz serve``, or ``uvicorn deepviz.app.main:app``): uvicorn
chooses its protocol class before it imports the app, so subclassing alone would not reach
the second case. Bodies have a deadline too, enforced in the app (app/middleware.py).
"""

from __future__ import annotations

import json
import logging
import resource
from collections import Counter
from dataclasses import dataclass

from deepviz.app.metrics import METRICS

LOG = logging.getLogger("deepviz.server")


@dataclass
class Limits:
    max_header_bytes: int = 16_384
    header_timeout: float = 10.0
    max_connections_per_address: int = 64
    trusted: frozenset[str] = frozenset({"127.0.0.1", "::1"})


LIMITS = Limits()
OPEN = Counter()  # open HTTP connections per client address, in this worker


def _reply(transport, status: int, reason: str, message: str) -> None:
    """Answer a request whose head never completed, then close: no app is involved."""
    body = json.dumps({"detail": [{"loc": ["headers"], "msg": message, "type": f"http_{status}"}]}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    if not transport.is_closing():
        transport.write(head + body)
        transport.close()


def _guard(cls: type) -> None:
    """Wrap the connection callbacks of one uvicorn HTTP protocol class with the limits."""
    made, lost, received, upgrade = (
        cls.connection_made,
        cls.connection_lost,
        cls.data_received,
        cls.handle_websocket_upgrade,
    )

    def arm(self) -> None:
        """Start the clock for a request head: it must be complete in time, and small."""
        self._dv_cycle = self.cycle  # a new request has begun when uvicorn replaces it
        self._dv_bytes = 0
        self._dv_timer = self.loop.call_later(LIMITS.header_timeout, expired, self)

    def disarm(self) -> None:
        if self._dv_timer is not None:
            self._dv_timer.cancel()
            self._dv_timer = None

    def expired(self) -> None:
        self._dv_timer = None
        METRICS.count("deepviz_connections_refused_total", reason="slow_head")
        _reply(self.transport, 408, "Request Timeout", f"the request head took longer than {LIMITS.header_timeout:g} s")

    def uncount(self) -> None:
        if self._dv_counted:
            self._dv_counted = False
            OPEN[self._dv_peer] -= 1
            if OPEN[self._dv_peer] <= 0:
                del OPEN[self._dv_peer]

    def connection_made(self, transport) -> None:
        made(self, transport)
        self._dv_timer, self._dv_peer = None, (self.client or ("?",))[0]
        self._dv_counted = self._dv_peer not in LIMITS.trusted
        if self._dv_counted:
            OPEN[self._dv_peer] += 1
            if OPEN[self._dv_peer] > LIMITS.max_connections_per_address:
                METRICS.count("deepviz_connections_refused_total", reason="per_address")
                transport.abort()  # at once: a flood of sockets must not hold file descriptors
                return
        arm(self)

    def connection_lost(self, exc) -> None:
        disarm(self)
        uncount(self)
        lost(self, exc)

    def data_received(self, data: bytes) -> None:
        if self._dv_timer is None and (self.cycle is None or self.cycle.response_complete):
            arm(self)  # the next request on a kept-alive connection
        if self._dv_timer is not None:
            self._dv_bytes += len(data)
        received(self, data)
        if self._dv_timer is not None and self.cycle is not self._dv_cycle:
            disarm(self)  # the head is complete (the body has a deadline of its own)
        elif self._dv_timer is not None and self._dv_bytes > LIMITS.max_header_bytes:
            disarm(self)
            METRICS.count("deepviz_connections_refused_total", reason="large_head")
            _reply(self.transport, 431, "Request Header Fields Too Large",
                   f"the request head is larger than {LIMITS.max_header_bytes} bytes")  # fmt: skip

    def handle_websocket_upgrade(self, *args) -> None:
        disarm(self)  # the WebSocket has limits of its own (app/routers/lenet.py)
        uncount(self)
        upgrade(self, *args)

    cls.connection_made, cls.connection_lost = connection_made, connection_lost
    cls.data_received, cls.handle_websocket_upgrade = data_received, handle_websocket_upgrade
    cls._dv_guarded = True


def install(settings) -> None:
    """Apply ``settings``' connection limits to uvicorn's HTTP protocols in this process."""
    LIMITS.max_header_bytes = settings.max_header_bytes
    LIMITS.header_timeout = settings.header_timeout
    LIMITS.max_connections_per_address = settings.max_connections_per_address
    LIMITS.trusted = settings.trusted_addresses
    try:
        from uvicorn.protocols.http.h11_impl import H11Protocol
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is optional in uvicorn; h11 is always there
        from uvicorn.protocols.http.h11_impl import H11Protocol

        HttpToolsProtocol = None
    for cls in (H11Protocol, HttpToolsProtocol):
        if cls is not None and not getattr(cls, "_dv_guarded", False):
            _guard(cls)
    _raise_file_limit()


def _raise_file_limit() -> None:
    """Use every file descriptor the system allows: a hall's sockets need more than 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # not allowed here: keep what we have
            LOG.info("could not raise the open-file limit from %d", soft)
