"""Attacks on a deepviz server. Each attack is an async function (target, seconds) -> Outcome that
stops by itself: it attacks for ``seconds``, gives what it has in flight GRACE seconds more, then
closes everything. Each comes with what the attacker must get back (a clear refusal: a 4xx, a 503
with Retry-After, a WebSocket close code; never a 500 or a hang)."""

from __future__ import annotations

import asyncio
import json
import time

from tests.hostile.class_attacks import class_create_flood, class_follow_hoard, class_join_guess, class_state_flood
from tests.hostile.expect import (
    HEAD_REFUSED,
    SERVER_REQUEST,
    STREAM_FLOODED,
    both,
    capped,
    closed_with,
    ended_by_server,
    error_answers,
    followers_served,
    hoarding,
    limited,
    no_refusals_but,
    only,
)
from tests.hostile.payloads import (
    DESCENT_SUM,
    GRAPH_QUOTIENT,
    HONEST_GRAPH,
    big_png,
    gzip_bomb,
    jpeg_scan_bomb,
    ztxt_png,
)
from tests.hostile.wire import (
    ATTACKER_IP,
    Attack,
    Closed,
    Outcome,
    Target,
    drip_many,
    json_body,
    loop_requests,
    open_from,
    parse_response,
    read_all,
    request_bytes,
    run_all,
)
from tests.hostile.ws_attacks import (  # noqa: E402 - after the shared imports, as the list below reads
    bad_ws_frame,
    binary_flood,
    large_drawings,
    oversized_drawings,
    training_hoard,
    training_reconfigure,
    ws_fragments,
    ws_hoarding,
    ws_ping_flood,
)
from tests.hostile.ws_wire import send_every, ws_sockets

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
    Attack("training_hoard", training_hoard, no_refusals_but({1008, 1013}), "16 largest training runs playing"),
    Attack("training_reconfigure", training_reconfigure, no_refusals_but({1008, 1013}),
           "4 streams re-configuring the largest run 20 times a second"),
    Attack("class_join_guess", class_join_guess, both(only({404, 503}), limited), "guessing join codes: 429"),
    Attack("class_follow_hoard", class_follow_hoard, capped, "1,500 follow streams of one student"),
    Attack("class_state_flood", class_state_flood, both(only({200, 503}), followers_served),
           "the largest states, flat out, to 40 followers"),
    Attack("class_create_flood", class_create_flood, both(only({201, 503}), limited), "creating classes: 429",
           ci_seconds=1.5),
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
