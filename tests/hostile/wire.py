"""The wire under an attack: targets, outcomes, raw HTTP on sockets (the WebSockets are in
ws_wire.py). Honest clients connect from 127.0.0.2, attackers from 127.0.0.3: per-address
limits are tested as they work in a lecture hall. Traffic goes to loopback only."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from websockets.exceptions import WebSocketException

HONEST_IP = "127.0.0.2"
ATTACKER_IP = "127.0.0.3"
STREAM = "/api/v1/lenet/stream"
GRACE = 5.0  # seconds an attack's requests in flight get after its end; later: "no answer" (a hang)
HONEST_TIMEOUT = 5.0  # an honest request or frame not answered within this is a failure
HONEST_HTTP_RATE = 2.0  # requests a second, for each of the three honest HTTP clients
HONEST_WS_RATE = 4.0  # frames a second on the honest stream
HONEST_JOIN_EVERY = 1.5  # seconds between two honest students opening a new stream


def percentile_ms(samples: list[float], q: float) -> float:
    """The q-th percentile of durations in seconds, in milliseconds (nan if none)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))] * 1e3


@dataclass(frozen=True)
class Target:
    setup: str  # "bare" or "nginx"
    host: str
    port: int

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:{self.port}{STREAM}"

    def as_dict(self) -> dict:
        return {"setup": self.setup, "host": self.host, "port": self.port}


@dataclass
class Outcome:
    """What the attacker saw."""

    statuses: Counter = field(default_factory=Counter)  # HTTP statuses, WebSocket handshake refusals included
    closes: Counter = field(default_factory=Counter)  # WebSocket close codes sent by the server
    ends: Counter = field(default_factory=Counter)  # raw connections: "closed", "reset", "open at end"
    errors: Counter = field(default_factory=Counter)  # client-side: "no answer" (a hang), exceptions
    answers: Counter = field(default_factory=Counter)  # WebSocket answers: "frame", "error: …"
    no_retry_after: int = 0  # 503s without a Retry-After header
    sent: int = 0  # requests, frames or connections the attacker made
    slowest: float = 0.0  # seconds, the slowest answer the attacker got
    close_after: list[float] = field(default_factory=list)  # seconds from connect to the server ending it
    open_ages: list[float] = field(default_factory=list)  # seconds each connection still open at the end had lasted

    def status(self, code: int, headers: dict[str, str], seconds: float) -> None:
        self.statuses[code] += 1
        self.no_retry_after += code == 503 and "retry-after" not in headers
        self.slowest = max(self.slowest, seconds)

    def error(self, error: BaseException) -> None:
        """A client-side failure: the network's (counted by name), or a bug of the attack's own."""
        network = isinstance(error, OSError | TimeoutError | WebSocketException)
        self.errors[type(error).__name__ if network else f"attack bug: {type(error).__name__}: {error}"[:80]] += 1

    def describe(self) -> str:
        parts = [f"{self.sent} sent"]
        for name in ("statuses", "closes", "ends", "answers", "errors"):
            counter = getattr(self, name)
            if counter:
                parts.append(f"{name} {dict(counter.most_common(6))}")
        if self.close_after:
            parts.append(f"server ended connections after {min(self.close_after):.1f}-{max(self.close_after):.1f} s")
        if self.slowest:
            parts.append(f"slowest answer {self.slowest:.1f} s")
        return "; ".join(parts)


@dataclass(frozen=True)
class Context:
    """What a check needs to know of the attack's run: where, how long, and the server's
    timeouts as a client meets them (None: the server sets none)."""

    setup: str  # "bare" or "nginx"
    seconds: float
    header_timeout: float | None = 10.0  # a request head must be complete within this
    body_timeout: float | None = 15.0  # a whole body must be received within this
    ws_idle_timeout: float | None = 300.0  # a stream without a frame for this long is closed


Check = Callable[[Outcome, Context], list[str]]


@dataclass(frozen=True)
class Attack:
    name: str
    run: Callable[[Target, float], Awaitable[Outcome]]
    check: Check  # (outcome, context) -> what the attacker got that it should not have
    what: str
    ci_seconds: float = 2.5
    settle_seconds: float | None = None  # how soon the server must be idle after it (None: the default)

    def refused(self, outcome: Outcome, context: Context) -> list[str]:
        """Generic rules (no 500, no 503 without Retry-After, no internal-error close, no
        hang), then the attack's own."""
        found = []
        errors = {code: n for code, n in outcome.statuses.items() if code >= 500 and code != 503}
        if errors:
            found.append(f"server errors {errors}")
        if outcome.no_retry_after:
            found.append(f"{outcome.no_retry_after} 503(s) without Retry-After")
        if outcome.closes.get(1011):
            found.append(f"{outcome.closes[1011]} WebSocket(s) closed with 1011 (internal error)")
        bugs = [name for name in outcome.errors if name.startswith("attack bug")]
        if bugs:
            found.append(f"the attack itself failed: {bugs}")
        if outcome.errors.get("no answer"):
            found.append(f"{outcome.errors['no answer']} request(s) not answered {GRACE:g} s after the attack (a hang)")
        return found + self.check(outcome, context)


# --- HTTP on raw sockets: every byte under our control -----------------------------------------


class Closed(ConnectionError):
    """The server closed the connection without an answer."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def parse_response(raw: bytes) -> Response:
    if not raw:
        raise Closed("closed without an answer")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out, rest = bytearray(), body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out += rest[:n]
            rest = rest[n + 2 :]
        body = bytes(out)
    return Response(status, headers, body)


async def read_all(reader: asyncio.StreamReader, into: bytearray | None = None) -> bytes:
    """Everything the server sends until it closes. A reset after an answer keeps the answer
    (a server that answers early, then closes with our data unread, resets the connection;
    a client reading as it goes, as curl and browsers do, has the answer by then)."""
    got = bytearray() if into is None else into
    try:
        while data := await reader.read(65536):
            got += data
    except ConnectionResetError:
        if not got:
            raise
    return bytes(got)


async def open_from(target: Target, local: str, timeout: float = 10):
    return await asyncio.wait_for(
        asyncio.open_connection(target.host, target.port, local_addr=(local, 0), limit=2**20), timeout
    )


def request_bytes(target: Target, method: str, path: str, body: bytes = b"", headers=()) -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: {target.host}:{target.port}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers]
    if body or method == "POST":
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


async def fetch(target: Target, method: str, path: str, body: bytes = b"", headers=(), local: str = ATTACKER_IP,
                timeout: float | None = None) -> Response:  # fmt: skip
    """One request on a fresh connection (Connection: close), read to the end."""

    async def go() -> Response:
        reader, writer = await open_from(target, local)
        try:
            writer.write(request_bytes(target, method, path, body, headers))
            return parse_response(await read_all(reader))
        finally:
            writer.close()

    return await (asyncio.wait_for(go(), timeout) if timeout else go())


def json_body(data) -> tuple[bytes, tuple]:
    return json.dumps(data).encode(), (("Content-Type", "application/json"),)


async def hit(target: Target, outcome: Outcome, method: str, path: str, body: bytes = b"", headers=(),
              local: str = ATTACKER_IP) -> None:  # fmt: skip
    """An attacker's request: its status (or how it failed) goes to ``outcome``."""
    outcome.sent += 1
    start = time.monotonic()
    try:
        response = await fetch(target, method, path, body, headers, local)
    except Closed:
        outcome.ends["closed"] += 1
    except (ConnectionResetError, BrokenPipeError):
        outcome.ends["reset"] += 1
    except OSError as error:
        outcome.error(error)
    else:
        outcome.status(response.status, response.headers, time.monotonic() - start)


async def run_all(jobs: list[Awaitable], seconds: float, outcome: Outcome) -> Outcome:
    """Run the attack's coroutines; those still running GRACE s after the end are a hang."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    done, pending = await asyncio.wait(tasks, timeout=seconds + GRACE)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    outcome.errors["no answer"] += len(pending)
    for task in done:
        if task.exception() is not None:
            outcome.error(task.exception())
    if not outcome.errors["no answer"]:
        del outcome.errors["no answer"]
    return outcome


async def loop_requests(target: Target, seconds: float, concurrency: int, make: Callable[[int], tuple],
                        local: str = ATTACKER_IP, until: Callable[[Outcome], bool] | None = None,
                        ) -> Outcome:  # fmt: skip
    """``concurrency`` attackers from ``local``, each sending ``make(i)`` = (method, path, body,
    headers) and sending again as soon as answered, for ``seconds`` (or until ``until(outcome)``)."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds

    async def worker(w: int) -> None:
        i = w
        while time.monotonic() < deadline and not (until and until(outcome)):
            await hit(target, outcome, *make(i), local=local)
            i += concurrency

    return await run_all([worker(w) for w in range(concurrency)], seconds, outcome)


async def drip(target: Target, deadline: float, outcome: Outcome, first: bytes, more: bytes | None,
               interval: float, local: str = ATTACKER_IP) -> None:  # fmt: skip
    """A connection that sends ``first``, then ``more`` every ``interval`` s (never, if None),
    and notes how the server ended it: an answer's status, closed, reset, or still open."""
    start = time.monotonic()
    try:
        reader, writer = await open_from(target, local)
    except (OSError, TimeoutError) as error:
        outcome.error(error)
        return
    outcome.sent += 1
    seen = b""
    try:
        writer.write(first)
        while (left := deadline - time.monotonic()) > 0:
            try:
                data = await asyncio.wait_for(reader.read(65536), min(interval, left) if more else left)
            except TimeoutError:
                if more:
                    writer.write(more)
                    await asyncio.wait_for(writer.drain(), max(0.01, deadline - time.monotonic()))
                continue
            if len(seen) < 65536:  # the answer's head, to note its status and headers once complete
                complete = b"\r\n\r\n" in seen
                seen += data
                if not complete and (b"\r\n\r\n" in seen or not data) and seen.startswith(b"HTTP/1."):
                    answer = parse_response(seen)
                    outcome.status(answer.status, answer.headers, time.monotonic() - start)
            if not data:
                outcome.ends["closed"] += 1
                outcome.close_after.append(time.monotonic() - start)
                return
        outcome.ends["open at end"] += 1
        outcome.open_ages.append(time.monotonic() - start)
    except TimeoutError:  # stuck writing: the server stopped reading, but kept it open
        outcome.ends["open at end"] += 1
        outcome.open_ages.append(time.monotonic() - start)
    except (ConnectionResetError, BrokenPipeError):
        outcome.ends["reset"] += 1
        outcome.close_after.append(time.monotonic() - start)
    finally:
        writer.transport.abort()


async def drip_many(target: Target, seconds: float, connections: int, first: bytes, more: bytes | None,
                    interval: float) -> Outcome:  # fmt: skip
    """``connections`` drips at once; each one the server ends is replaced 0.5 s later."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds

    async def slot() -> None:
        while time.monotonic() < deadline:
            await drip(target, deadline, outcome, first, more, interval)
            await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    return await run_all([slot() for _ in range(connections)], seconds, outcome)


def run_async(coroutine):
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps an event loop
    running in the main thread for the whole session, and asyncio.run refuses to nest."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hostile") as pool:
        return pool.submit(asyncio.run, coroutine).result()
