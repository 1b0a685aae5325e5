"""Attacks on a deepviz server, and the honest clients that measure what an attack does to
everyone else. Each attack is an async function (target, seconds) -> Outcome that stops by
itself: it attacks for ``seconds``, gives what it has in flight GRACE seconds more, then
closes everything. Each comes with what the attacker must get back (a clear refusal: a 4xx,
a 503 with Retry-After, a WebSocket close code; never a 500 or a hang).

Honest clients connect from 127.0.0.2, attackers from 127.0.0.3: per-address limits are
tested as they would work in a lecture hall. Traffic goes to loopback only.

``python -m tests.hostile.attacks honest`` runs the honest clients as a process of their
own (harness.Honest): one JSON command a line in, one JSON result a line out.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import json
import sys
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus, WebSocketException

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


# --- payloads ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def digit() -> list[list[float]]:
    """A real MNIST test digit (a 7), 28×28 in [0, 1]."""
    from deepviz.lessons.mnist import load

    return np.round(load().test.images[0, 0].astype(np.float64), 4).tolist()


def data_url(raw: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(raw).decode()


def png(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=1)
def big_png() -> str:
    """A single-colour 4096×4096 RGBA PNG (75 KB; 64 MB once decoded)."""
    return data_url(png(Image.new("RGBA", (4096, 4096), (10, 200, 30, 255))))


@lru_cache(maxsize=4)
def drawing(side: int) -> str:
    """The digit drawn on a side×side transparent RGBA PNG, as the page sends drawings."""
    ink = Image.fromarray((np.array(digit()) * 255).astype(np.uint8)).resize((side, side), Image.BILINEAR)
    rgba = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    rgba.putalpha(ink)
    return data_url(png(rgba))


def largest_drawing_side() -> int:
    """The largest drawing the server accepts (its default max_drawing_side)."""
    from deepviz.app.settings import Settings

    return Settings().max_drawing_side


def _segments(jpeg: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each segment of a JPEG; a scan's entropy-coded data included."""
    found, i = [], 2
    while i < len(jpeg):
        marker = jpeg[i + 1]
        if marker == 0xD9:
            found.append((marker, i, i + 2))
            break
        end = i + 2 + int.from_bytes(jpeg[i + 2 : i + 4], "big")
        if marker == 0xDA:  # entropy-coded data runs to the next marker that is not a stuffed 0xFF or a restart
            while not (jpeg[end] == 0xFF and jpeg[end + 1] != 0 and not 0xD0 <= jpeg[end + 1] <= 0xD7):
                end += 1
        found.append((marker, i, end))
        i = end
    return found


@lru_cache(maxsize=4)
def jpeg_scan_bomb(side: int, max_bytes: int) -> str:
    """A progressive JPEG written by Pillow, with its smallest scan repeated until the file is
    ``max_bytes``: each repeat makes the decoder pass over every block of the image again
    (about 3 ms a scan at 2048×2048: tens of thousands of scans are minutes of CPU)."""
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (200, 10, 10)).save(buffer, "JPEG", progressive=True, quality=90)
    raw = buffer.getvalue()
    scans = [(end - start, start, end) for marker, start, end in _segments(raw) if marker == 0xDA]
    _, start, end = min(scans)
    repeats = (max_bytes - len(raw)) // (end - start)
    return data_url(raw[:end] + raw[start:end] * repeats + raw[end:], "jpeg")


@lru_cache(maxsize=1)
def ztxt_png() -> str:
    """An 8×8 PNG carrying a zTXt chunk that inflates to 50 MB (49 KB as sent)."""
    small = png(Image.new("L", (8, 8), 0))
    data = b"Comment\0\0" + zlib.compress(b"\0" * 50_000_000, 9)
    chunk = len(data).to_bytes(4, "big") + b"zTXt" + data + zlib.crc32(b"zTXt" + data).to_bytes(4, "big")
    return data_url(small[:33] + chunk + small[33:])  # after the 8-byte signature and the 25-byte IHDR


@lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    """50 MB of JSON-ish bytes, gzipped to ~50 KB (the server must never inflate it)."""
    return gzip.compress(b'{"expression": "' + b"x" * 50_000_000 + b'"}', 9)


def nested_brackets(depth: int = 5000) -> str:
    return "[" * depth + "]" * depth


DESCENT_SUM = "+".join(["w"] * 1000)  # 1,999 characters, 1,999 nodes: 100 steps cost ~4 s of CPU
GRAPH_QUOTIENT = "/".join(["x"] * 999)  # ~0.3 s with its gradient check, 450 KB of answer
HONEST_GRAPH = {"expression": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}}


# --- WebSockets -----------------------------------------------------------------------------------


def ws_connect(target: Target, local: str = ATTACKER_IP, open_timeout: float = 10) -> connect:
    return connect(target.ws, local_addr=(local, 0), compression=None, max_size=2**23, open_timeout=open_timeout,
                   ping_interval=None, close_timeout=1, max_queue=None)  # fmt: skip


def ws_failed(outcome: Outcome, error: BaseException) -> None:
    """How a WebSocket attempt ended: a refused handshake (its HTTP status), a close code, or else."""
    if isinstance(error, InvalidStatus):
        outcome.statuses[error.response.status_code] += 1
    elif isinstance(error, ConnectionClosed):
        outcome.closes[error.rcvd.code if error.rcvd else 1006] += 1
    elif isinstance(error, TimeoutError):
        outcome.errors["timeout"] += 1
    elif isinstance(error, InvalidMessage | ConnectionResetError):  # the socket closed before any answer
        outcome.ends["closed at handshake"] += 1
    else:
        outcome.error(error)


def note_answer(outcome: Outcome, message: str | bytes) -> None:
    try:
        answer = json.loads(message)
    except ValueError:
        outcome.answers["not JSON"] += 1
        return
    error = answer.get("error") if isinstance(answer, dict) else None
    outcome.answers[f"error: {str(error.get('msg', error))[:40]}" if error else "frame"] += 1


async def drain(ws: ClientConnection, outcome: Outcome) -> None:
    """Read (and note) whatever the server sends until it closes."""
    async for message in ws:
        note_answer(outcome, message)


async def ws_sockets(target: Target, seconds: float, count: int, body: Callable[[ClientConnection, float], Awaitable],
                     outcome: Outcome | None = None) -> Outcome:  # fmt: skip
    """``count`` attacker WebSockets, each running ``body(ws, deadline)`` until the deadline."""
    outcome = outcome or Outcome()
    deadline = time.monotonic() + seconds

    async def one() -> None:
        try:
            async with ws_connect(target) as ws:
                outcome.sent += 1
                reader = asyncio.create_task(drain(ws, outcome))
                try:
                    await body(ws, deadline)
                    await asyncio.wait_for(asyncio.shield(reader), max(0.0, deadline - time.monotonic()) + 0.5)
                except TimeoutError:
                    outcome.ends["open at end"] += 1
                finally:
                    reader.cancel()
                    await asyncio.gather(reader, return_exceptions=True)
                if ws.close_code is not None:  # closed by the server (1006: without a close frame)
                    outcome.closes[ws.close_code] += 1
        except Exception as error:  # noqa: BLE001 - every way it ends is noted
            ws_failed(outcome, error)

    return await run_all([one() for _ in range(count)], seconds, outcome)


async def send_every(ws: ClientConnection, deadline: float, message: Callable[[], str | bytes], interval: float):
    while time.monotonic() < deadline:
        await ws.send(message())
        await asyncio.sleep(interval)


# --- the attacks ------------------------------------------------------------------------------------


async def endless_headers(target: Target, seconds: float) -> Outcome:
    """20 connections each streaming one header value, 1 KB every 20 ms, never ending it."""
    first = b"GET /healthz HTTP/1.1\r\nHost: deepviz\r\nX-Endless: "
    return await drip_many(target, seconds, 20, first, b"a" * 1024, 0.02)


async def slowloris(target: Target, seconds: float) -> Outcome:
    """1,000 connections each sending one more header line every 2 s, never ending the head."""
    return await drip_many(target, seconds, 1000, b"GET /backprop HTTP/1.1\r\nHost: deepviz\r\n", b"X-Slow: 1\r\n", 2.0)


async def idle_sockets(target: Target, seconds: float) -> Outcome:
    """1,500 connections from one address that never send a byte."""
    return await drip_many(target, seconds, 1500, b"", None, 1.0)


async def slow_body(target: Target, seconds: float) -> Outcome:
    """200 POSTs declaring a 1 MB body, then sending it one byte a second."""
    first = (b"POST /api/v1/graph HTTP/1.1\r\nHost: deepviz\r\nContent-Type: application/json\r\n"
             b"Content-Length: 1000000\r\n\r\n ")  # fmt: skip
    return await drip_many(target, seconds, 200, first, b" ", 1.0)


def _post(path: str, data) -> tuple:
    body, headers = json_body(data)
    return "POST", path, body, headers


async def big_png_uploads(target: Target, seconds: float) -> Outcome:
    """40 concurrent /conv uploads of a single-colour 4096×4096 RGBA PNG, again as soon as answered."""
    request = _post("/api/v1/conv", {"image": {"data_url": big_png(), "size": 256}, "kernels": ["sobel_x"]})
    return await loop_requests(target, seconds, 40, lambda i: request)


async def jpeg_bomb_conv(target: Target, seconds: float) -> Outcome:
    """4 concurrent /conv uploads of a 1.9 MB progressive JPEG scan bomb (4096×4096)."""
    request = _post("/api/v1/conv", {"image": {"data_url": jpeg_scan_bomb(4096, 1_900_000)}, "kernels": ["sobel_x"]})
    return await loop_requests(target, seconds, 4, lambda i: request)


async def jpeg_bomb_ws(target: Target, seconds: float) -> Outcome:
    """2 LeNet streams each sending a 480 KB progressive JPEG scan bomb (2048×2048) every second."""
    frame = json.dumps({"image": jpeg_scan_bomb(2048, 480_000)})
    return await ws_sockets(target, seconds, 2, lambda ws, deadline: send_every(ws, deadline, lambda: frame, 1.0))


async def descent_cpu(target: Target, seconds: float) -> Outcome:
    """10 concurrent /descent of a 1,000-term sum for 100 steps (~4 s of CPU each, undefended)."""
    request = _post("/api/v1/descent", {"expression": DESCENT_SUM, "steps": 100, "learning_rate": 0.001})
    return await loop_requests(target, seconds, 10, lambda i: request)


async def graph_cpu(target: Target, seconds: float) -> Outcome:
    """10 concurrent /graph of a 999-term quotient with its gradient check."""
    request = _post("/api/v1/graph", {"expression": GRAPH_QUOTIENT, "values": {"x": 1.0001}})
    return await loop_requests(target, seconds, 10, lambda i: request)


async def short_flood(target: Target, seconds: float) -> Outcome:
    """120 concurrent cheap /graph requests from one address, again as soon as answered."""
    request = _post("/api/v1/graph", HONEST_GRAPH)
    return await loop_requests(target, seconds, 120, lambda i: request)


async def gives_up(target: Target, seconds: float) -> Outcome:
    """10 clients that send the costly /descent and hang up 0.2 s later, again and again: the
    server must stop the work it was doing for them."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds
    method, path, body, headers = _post("/api/v1/descent", {"expression": DESCENT_SUM, "steps": 100})
    raw = request_bytes(target, method, path, body, headers)

    async def worker() -> None:
        while time.monotonic() < deadline:
            try:
                reader, writer = await open_from(target, ATTACKER_IP)
            except (OSError, TimeoutError) as error:
                outcome.error(error)
                await asyncio.sleep(0.2)
                continue
            writer.write(raw)
            outcome.sent += 1
            await asyncio.sleep(0.2)
            writer.close()

    return await run_all([worker() for _ in range(10)], seconds, outcome)


async def bad_ws_frame(target: Target, seconds: float) -> Outcome:
    """2 streams sending 5,000 nested brackets as a frame, 5 a second (under the rate limit)."""
    frame = nested_brackets(5000)
    return await ws_sockets(target, seconds, 2, lambda ws, deadline: send_every(ws, deadline, lambda: frame, 0.2))


async def ws_hoarding(target: Target, seconds: float) -> Outcome:
    """2,000 idle streams from one address, opened as fast as the server takes them, held."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds
    gate = asyncio.Semaphore(200)  # handshakes in flight

    async def one() -> None:
        start = time.monotonic()
        try:
            async with gate:
                ws = await ws_connect(target, open_timeout=max(1.0, deadline - time.monotonic()))
        except Exception as error:  # noqa: BLE001
            ws_failed(outcome, error)
            return
        outcome.sent += 1
        try:
            await asyncio.wait_for(ws.wait_closed(), max(0.0, deadline - time.monotonic()))
            outcome.closes[ws.close_code] += 1
            outcome.close_after.append(time.monotonic() - start)
        except TimeoutError:
            outcome.ends["open at end"] += 1
        finally:
            ws.transport.abort()

    return await run_all([one() for _ in range(2000)], seconds, outcome)


async def large_drawings(target: Target, seconds: float, side: int | None = None) -> Outcome:
    """16 streams sending valid drawings of the largest side allowed, each the next as soon as
    the answer comes."""
    frame = json.dumps({"image": drawing(side or largest_drawing_side())})
    outcome = Outcome()
    deadline = time.monotonic() + seconds

    async def one() -> None:
        try:
            async with ws_connect(target) as ws:
                outcome.sent += 1
                while time.monotonic() < deadline:
                    await ws.send(frame)
                    note_answer(outcome, await ws.recv())
        except Exception as error:  # noqa: BLE001
            ws_failed(outcome, error)

    return await run_all([one() for _ in range(16)], seconds, outcome)


async def oversized_drawings(target: Target, seconds: float) -> Outcome:
    """16 streams sending 2048×2048 PNG drawings (over the side limit if it is lower), as fast
    as answered."""
    return await large_drawings(target, seconds, 2048)


async def binary_flood(target: Target, seconds: float) -> Outcome:
    """4 streams sending 64 KB binary frames as fast as the socket takes them."""
    blob = bytes(65536)

    async def body(ws: ClientConnection, deadline: float) -> None:
        while time.monotonic() < deadline:
            await ws.send(blob)

    return await ws_sockets(target, seconds, 4, body)


async def ws_fragments(target: Target, seconds: float) -> Outcome:
    """4 streams each sending one text message that never ends, in 1 KB fragments."""

    async def body(ws: ClientConnection, deadline: float) -> None:
        async def fragments() -> AsyncIterator[str]:
            while time.monotonic() < deadline:
                yield "a" * 1024
                await asyncio.sleep(0)

        await ws.send(fragments())

    return await ws_sockets(target, seconds, 4, body)


async def ws_ping_flood(target: Target, seconds: float) -> Outcome:
    """4 streams sending pings as fast as the socket takes them, never waiting for a pong."""

    async def body(ws: ClientConnection, deadline: float) -> None:
        n = 0
        while time.monotonic() < deadline:
            await ws.ping(n.to_bytes(8, "big"))
            n += 1
            if n % 50 == 0:
                await asyncio.sleep(0)

    return await ws_sockets(target, seconds, 4, body)


async def ztxt_bomb(target: Target, seconds: float) -> Outcome:
    """A PNG with a zTXt chunk inflating to 50 MB: on /conv, /lenet/predict, and as a stream frame."""
    url = ztxt_png()
    requests = [_post("/api/v1/conv", {"image": {"data_url": url}, "kernels": ["sobel_x"]}),
                _post("/api/v1/lenet/predict", {"image": url})]  # fmt: skip
    outcome = Outcome()
    frame = json.dumps({"image": url})
    http = loop_requests(target, seconds, 2, lambda i: requests[i % 2])
    ws = ws_sockets(target, seconds, 1, lambda w, deadline: send_every(w, deadline, lambda: frame, 0.5), outcome)
    got, _ = await asyncio.gather(http, ws)
    got.answers, got.closes, got.sent = outcome.answers, outcome.closes + got.closes, got.sent + outcome.sent
    got.errors.update(outcome.errors)
    got.statuses.update(outcome.statuses)
    return got


async def chunked_over_limit(target: Target, seconds: float) -> Outcome:
    """A chunked POST larger than the body limit (4 MB in 64 KB chunks), twice at a time; the
    client reads as it sends and stops sending once answered."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds
    head = (f"POST /api/v1/graph HTTP/1.1\r\nHost: {target.host}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()  # fmt: skip
    chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"

    async def one() -> None:
        start = time.monotonic()
        reader, writer = await open_from(target, ATTACKER_IP)
        got = bytearray()
        answer = asyncio.create_task(read_all(reader, got))
        try:
            writer.write(head)
            for _ in range(64):
                if got or answer.done():  # answered early: stop sending, as curl does
                    break
                writer.write(chunk)
                await writer.drain()
            else:
                writer.write(b"0\r\n\r\n")
        except (ConnectionResetError, BrokenPipeError):
            pass
        try:
            response = parse_response(await answer)
            outcome.status(response.status, response.headers, time.monotonic() - start)
        except Closed:
            outcome.ends["closed"] += 1
        except ConnectionResetError:
            outcome.ends["reset"] += 1
        finally:
            writer.transport.abort()

    async def worker() -> None:
        while time.monotonic() < deadline:
            outcome.sent += 1
            await one()

    return await run_all([worker() for _ in range(2)], seconds, outcome)


async def head_requests(target: Target, seconds: float) -> Outcome:
    """HEAD / and HEAD /healthz, as monitors and link checkers send them."""
    return await loop_requests(target, seconds, 2, lambda i: ("HEAD", ["/", "/healthz"][i % 2], b"", ()))


async def huge_url(target: Target, seconds: float) -> Outcome:
    """GET with a 100 KB query string."""
    path = "/backprop?preset=" + "a" * 100_000
    return await loop_requests(target, seconds, 2, lambda i: ("GET", path, b"", ()))


async def many_headers(target: Target, seconds: float) -> Outcome:
    """GET /healthz with 1,500 short headers (~15 KB, just under the head limit), 4 at a time."""
    headers = tuple((f"X-H{i}", "1") for i in range(1500))
    return await loop_requests(target, seconds, 4, lambda i: ("GET", "/healthz", b"", headers))


async def query_strings(target: Target, seconds: float) -> Outcome:
    """20 clients asking for pages with ever new query strings and unknown paths (metrics labels, caches)."""
    return await loop_requests(
        target, seconds, 20, lambda i: ("GET", f"/backprop?preset=notes&n={i}" if i % 2 else f"/nope/{i}", b"", ())
    )


async def pipelining(target: Target, seconds: float) -> Outcome:
    """4 connections each writing 500 pipelined GET /healthz at once, again and again."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds
    burst = f"GET /healthz HTTP/1.1\r\nHost: {target.host}\r\n\r\n".encode() * 500

    async def worker() -> None:
        while time.monotonic() < deadline:
            try:
                reader, writer = await open_from(target, ATTACKER_IP)
            except (OSError, TimeoutError) as error:
                outcome.error(error)
                await asyncio.sleep(0.2)
                continue
            outcome.sent += 500
            got = b""
            try:
                writer.write(burst)
                while got.count(b"HTTP/1.1 ") < 500 and time.monotonic() < deadline + 1:
                    data = await asyncio.wait_for(reader.read(65536), 2)
                    if not data:
                        outcome.ends["closed"] += 1
                        break
                    got += data
            except TimeoutError:
                outcome.ends["stalled"] += 1
            except (ConnectionResetError, BrokenPipeError):
                outcome.ends["reset"] += 1
            finally:
                writer.transport.abort()
            for part in got.split(b"HTTP/1.1 ")[1:]:
                outcome.statuses[int(part[:3])] += 1

    return await run_all([worker() for _ in range(4)], seconds, outcome)


async def gzip_body(target: Target, seconds: float) -> Outcome:
    """POSTs of a 50 KB gzip body that would inflate to 50 MB, with Content-Encoding: gzip."""
    headers = (("Content-Type", "application/json"), ("Content-Encoding", "gzip"))
    body = gzip_bomb()
    return await loop_requests(target, seconds, 2, lambda i: ("POST", "/api/v1/graph", body, headers))


# --- what the attacker must get ------------------------------------------------------------------


def only(allowed: set[int], needed: bool = True) -> Check:
    """Every HTTP status in ``allowed`` or 429 (a per-address rate limit: always a clear
    refusal), and at least one answer if ``needed``."""

    def check(outcome: Outcome, context: Context) -> list[str]:
        other = {code: n for code, n in outcome.statuses.items() if code not in allowed | {429}}
        found = [f"statuses {other}, expected only {sorted(allowed)}"] if other else []
        if needed and not outcome.statuses:
            found.append(f"no HTTP answer at all (expected {sorted(allowed)}): {outcome.describe()}")
        return found

    return check


def both(*checks: Check) -> Check:
    return lambda outcome, context: [p for c in checks for p in c(outcome, context)]


def ended_by_server(timeout: Callable[[Context], float | None], what: str) -> Check:
    """Every connection ended by the server (an answer or a close) once it has lasted the
    server's ``timeout`` for ``what`` + 1.5 s; with no such timeout, or an attack shorter than
    that, nothing is checked here."""

    def check(outcome: Outcome, context: Context) -> list[str]:
        after = timeout(context)
        overdue = [age for age in outcome.open_ages if after is not None and age > after + 1.5]
        if overdue:
            return [f"{len(overdue)} connection(s) still open after up to {max(overdue):.0f} s "
                    f"({what} within {after:g} s)"]  # fmt: skip
        return []

    return check


def closed_with(codes: set[int]) -> Check:
    """Every stream closed by the server, with one of ``codes``, before the attack's end (1006,
    no close frame, when the server closes while the attacker is still sending: the TCP reset
    discards its close frame)."""

    def check(outcome: Outcome, context: Context) -> list[str]:
        found = []
        if outcome.ends.get("open at end"):
            found.append(f"{outcome.ends['open at end']} stream(s) still open at the end, expected a close {codes}")
        other = {code: n for code, n in outcome.closes.items() if code not in codes}
        if other:
            found.append(f"close codes {other}, expected {sorted(codes)}")
        return found

    return check


def no_refusals_but(codes: set[int], statuses: set[int] = frozenset()) -> Check:
    """Streams: the server may close them only with ``codes`` or 1000 (idle), refuse handshakes
    only with ``statuses`` or 429 (a per-address rate: nginx's, on new streams)."""

    def check(outcome: Outcome, context: Context) -> list[str]:
        found = []
        other = {code: n for code, n in outcome.closes.items() if code not in codes | {1000}}
        if other:
            found.append(f"close codes {other}, expected only {sorted(codes | {1000})}")
        refused = {code: n for code, n in outcome.statuses.items() if code not in statuses | {429}}
        if refused:
            found.append(f"handshakes refused with HTTP {refused} (expected {sorted(statuses) or 'none'})")
        return found

    return check


def error_answers(outcome: Outcome, context: Context) -> list[str]:
    """The attacker's frames are answered {"error": …} (or its stream closed as a flood)."""
    frames = outcome.answers.get("frame", 0)
    errors = sum(n for k, n in outcome.answers.items() if k.startswith("error"))
    found = [f"{frames} bad frame(s) answered as if good"] if frames else []
    if not errors and not outcome.closes:
        found.append(f"no error answer to a bad frame: {outcome.describe()}")
    return found


def hoarding(outcome: Outcome, context: Context) -> list[str]:
    """Streams over the caps: accepted, then closed with 1013, not refused with an HTTP 403 (nginx
    may refuse them with 429, its rate of new streams per address); idle ones closed (1000)
    after the idle timeout."""
    found = no_refusals_but({1013, 1001, 1000})(outcome, context)
    idle = context.ws_idle_timeout
    if idle is not None and context.seconds > idle + 1.5 and outcome.ends.get("open at end"):
        found.append(f"{outcome.ends['open at end']} idle stream(s) still open after {context.seconds:g} s "
                     f"(idle streams are closed after {idle:g} s)")  # fmt: skip
    return found


SERVER_REQUEST = {200, 422, 429, 503}  # computed, over budget, over the address's rate, busy (with Retry-After)
HEAD_REFUSED = {400, 408, 413, 414, 431}
STREAM_FLOODED = {1003, 1006, 1008, 1009}  # unsupported data, no close frame (reset), policy, too big

# fmt: off
ATTACKS: list[Attack] = [
    Attack("endless_headers", endless_headers,
           both(only(HEAD_REFUSED, needed=False), ended_by_server(lambda c: 0.5, "a head over 16 KB refused")),
           "header value streamed forever: 431 or closed at 16 KB"),
    Attack("slowloris", slowloris, ended_by_server(lambda c: c.header_timeout, "a head"), "1,000 heads never finished",
           ci_seconds=3.5),
    Attack("idle_sockets", idle_sockets, ended_by_server(lambda c: c.header_timeout, "a head"), "1,500 silent sockets",
           ci_seconds=3.5),
    Attack("slow_body", slow_body,
           both(only(SERVER_REQUEST | {400, 408, 413}, needed=False),
                ended_by_server(lambda c: c.body_timeout, "a body")),
           "200 bodies at 1 byte/s: 408 after 15 s", ci_seconds=3.5),
    Attack("big_png", big_png_uploads, only(SERVER_REQUEST | {413}), "40 × 4096² PNG on /conv"),
    Attack("jpeg_bomb_conv", jpeg_bomb_conv, only(SERVER_REQUEST | {413}), "JPEG scan bomb on /conv"),
    Attack("jpeg_bomb_ws", jpeg_bomb_ws, no_refusals_but({1008, 1009, 1013}), "JPEG scan bomb as LeNet frames"),
    Attack("descent_cpu", descent_cpu, only(SERVER_REQUEST), "10 × 1,000-term descent"),
    Attack("graph_cpu", graph_cpu, only(SERVER_REQUEST), "10 × 999-node graph + check"),
    Attack("short_flood", short_flood, only(SERVER_REQUEST), "120 concurrent cheap requests"),
    Attack("gives_up", gives_up, only(SERVER_REQUEST, needed=False), "costly request, hang up after 0.2 s",
           settle_seconds=3.0),
    Attack("bad_ws_frame", bad_ws_frame, both(error_answers, no_refusals_but({1003, 1007, 1008})),
           "5,000 nested brackets as frames"),
    Attack("ws_hoarding", ws_hoarding, hoarding, "2,000 idle streams from one address"),
    Attack("large_drawings", large_drawings, no_refusals_but({1008, 1013}), "16 streams of the largest drawings"),
    Attack("oversized_drawings", oversized_drawings, no_refusals_but({1008, 1013}), "16 streams of 2048² drawings"),
    Attack("binary_flood", binary_flood, closed_with(STREAM_FLOODED), "64 KB binary frames, flat out"),
    Attack("ws_fragments", ws_fragments, closed_with(STREAM_FLOODED | {1000}), "a message never ending, 1 KB pieces"),
    Attack("ws_ping_flood", ws_ping_flood, no_refusals_but({1000, 1008}), "pings flat out (no frame: idle)"),
    Attack("ztxt_bomb", ztxt_bomb, both(only({400, 413, 422, 503}), error_answers), "PNG with a 50 MB zTXt",
           ci_seconds=2.0),
    Attack("chunked_over_limit", chunked_over_limit, only({413}), "4 MB chunked body: 413", ci_seconds=2.0),
    Attack("head", head_requests, only({200}), "HEAD / and /healthz: 200", ci_seconds=1.5),
    Attack("huge_url", huge_url, only({400, 414, 431}), "100 KB query string", ci_seconds=1.5),
    Attack("many_headers", many_headers, only({200, 400, 431}), "1,500 headers", ci_seconds=2.0),
    Attack("query_strings", query_strings, only({200, 404}), "ever new URLs", ci_seconds=2.0),
    Attack("pipelining", pipelining, only({200, 503}, needed=False), "500 pipelined requests a connection",
           ci_seconds=2.0),
    Attack("gzip_body", gzip_body, only({400, 413, 415, 422}), "gzip body inflating to 50 MB", ci_seconds=1.5),
]
# fmt: on
BY_NAME = {attack.name: attack for attack in ATTACKS}


# --- honest clients ---------------------------------------------------------------------------------


async def honest_measure(target: Target, seconds: float) -> dict:
    """Honest students for ``seconds``: three HTTP clients (GET /healthz, POST a small graph,
    GET the backprop page) at HONEST_HTTP_RATE each, every request on a fresh connection; one
    LeNet stream sending a real digit at HONEST_WS_RATE and waiting for each answer; and a
    new student opening a stream every HONEST_JOIN_EVERY s. Latencies of what succeeded;
    failures (timeouts, refusals, non-200) and error frames by name."""
    http = {"latencies": [], "failures": []}
    ws = {"latencies": [], "failures": [], "error_frames": []}
    deadline = time.monotonic() + seconds
    graph_body, graph_headers = json_body(HONEST_GRAPH)
    frame_id = 0

    async def pause_until(when: float) -> None:
        """Sleep until ``when``, but not past the end of the measurement."""
        await asyncio.sleep(max(0.0, min(when, deadline) - time.monotonic()))

    async def http_client(name: str, method: str, path: str, body: bytes, headers, offset: float) -> None:
        await asyncio.sleep(offset)
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                response = await fetch(target, method, path, body, headers, HONEST_IP, HONEST_TIMEOUT)
                if response.status == 200:
                    http["latencies"].append(time.monotonic() - start)
                else:
                    http["failures"].append(f"{name}: HTTP {response.status}")
            except TimeoutError:
                http["failures"].append(f"{name}: no answer within {HONEST_TIMEOUT:g} s")
            except OSError as error:
                http["failures"].append(f"{name}: {type(error).__name__}")
            await pause_until(start + 1 / HONEST_HTTP_RATE)

    async def frame(socket: ClientConnection, what: str, start: float) -> None:
        nonlocal frame_id
        frame_id += 1
        mine = frame_id
        await socket.send(json.dumps({"id": mine, "pixels": digit()}))
        while True:  # one frame in flight: an answer without an id (an error) is this frame's too
            answer = json.loads(await asyncio.wait_for(socket.recv(), HONEST_TIMEOUT))
            if answer.get("id") in (mine, None):
                break
        if "error" in answer:
            ws["error_frames"].append(f"{what}: {answer['error'].get('msg')}")
        else:
            ws["latencies"].append(time.monotonic() - start)

    def failed(what: str, error: BaseException) -> None:
        if isinstance(error, InvalidStatus):
            ws["failures"].append(f"{what}: handshake refused with HTTP {error.response.status_code}")
        elif isinstance(error, ConnectionClosed):
            ws["failures"].append(f"{what}: closed with {error.rcvd.code if error.rcvd else 1006}")
        elif isinstance(error, TimeoutError):
            ws["failures"].append(f"{what}: no answer within {HONEST_TIMEOUT:g} s")
        else:
            ws["failures"].append(f"{what}: {type(error).__name__}")

    async def stream() -> None:
        while time.monotonic() < deadline:
            try:
                async with ws_connect(target, HONEST_IP, HONEST_TIMEOUT) as socket:
                    while time.monotonic() < deadline:
                        start = time.monotonic()
                        await frame(socket, "stream", start)
                        await pause_until(start + 1 / HONEST_WS_RATE)
            except Exception as error:  # noqa: BLE001 - every failure is one
                failed("stream", error)
                await asyncio.sleep(0.2)

    async def joins() -> None:
        await asyncio.sleep(0.3)
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                async with ws_connect(target, HONEST_IP, HONEST_TIMEOUT) as socket:
                    await frame(socket, "new stream", start)
            except Exception as error:  # noqa: BLE001
                failed("new stream", error)
            await pause_until(start + HONEST_JOIN_EVERY)

    await asyncio.gather(
        http_client("healthz", "GET", "/healthz", b"", (), 0.0),
        http_client("graph", "POST", "/api/v1/graph", graph_body, graph_headers, 0.15),
        http_client("page", "GET", "/backprop", b"", (), 0.3),
        stream(),
        joins(),
    )
    return {"http": http, "ws": ws}


def honest_main() -> None:
    """One JSON command a line on stdin: {"target": {...}, "seconds": s}; one JSON result a line out."""
    digit()  # loaded before the first measurement
    for line in sys.stdin:
        command = json.loads(line)
        result = asyncio.run(honest_measure(Target(**command["target"]), command["seconds"]))
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["honest"]:
        honest_main()
    else:
        sys.exit("usage: python -m tests.hostile.attacks honest")
