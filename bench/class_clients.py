"""The pieces bench/class_load.py drives besides tests/services.py's Server and RedisServer:
students (an HTTP client per loopback source address, at most ``max_work_per_address``
requests in flight from each) and followers (a WebSocket that
reconnects with the page's backoff and records every message and close)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field

import httpx
import websockets


class Clients:
    """HTTP clients, one per loopback source address, each with at most ``per_address``
    requests in flight (the app's max_work_per_address is per worker: never exceeded), and
    at most ``in_flight`` in all. A 503 "busy" (a worker's max_concurrent_work) is retried
    after its Retry-After, as a page would, and counted in ``busy``."""

    def __init__(self, per_address: int, in_flight: int):
        self.per_address = per_address
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.gates: dict[str, asyncio.Semaphore] = {}
        self.gate = asyncio.Semaphore(in_flight)
        self.busy = 0

    async def post(self, address: str, url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
        return await self.request("POST", address, url, body, token)

    async def request(self, method: str, address: str, url: str, body: dict | None, token: str | None):
        if address not in self.clients:
            transport = httpx.AsyncHTTPTransport(local_address=address)
            self.clients[address] = httpx.AsyncClient(transport=transport, timeout=30)
            self.gates[address] = asyncio.Semaphore(self.per_address)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for _ in range(20):
            async with self.gates[address], self.gate:
                response = await self.clients[address].request(method, url, json=body, headers=headers)
            if response.status_code != 503 or response.json()["detail"][0]["type"] != "busy":
                break
            self.busy += 1
            await asyncio.sleep(float(response.headers.get("retry-after", 1)) * (0.5 + random.random()))
        return response.status_code, response.json()

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


@dataclass
class Follower:
    """A student's page following the class: everything it received and how it was closed."""

    index: int
    address: str
    url: str
    student_id: str = ""
    token: str = ""
    messages: list[tuple[float, dict]] = field(default_factory=list)  # (perf_counter, message)
    closes: list[tuple[float, str]] = field(default_factory=list)  # (perf_counter, close code or error)
    following_since: list[float] = field(default_factory=list)  # each connection's first message
    attempts: int = 0  # connections opened

    def steps(self, prefix: str) -> list[int]:
        """The numbers of the instructor's states named ``prefix<n>`` received, in order."""
        names = [(m["state"] or {}).get("step", "") for _, m in self.messages if m["type"] == "state"]
        return [int(s[len(prefix) :]) for s in names if s.startswith(prefix) and s[len(prefix) :].isdigit()]

    def first_state_at(self, prefix: str, n: int) -> float | None:
        return next((t for t, m in self.messages if m["type"] == "state" and (m["state"] or {}).get("step")
                     == f"{prefix}{n}"), None)  # fmt: skip

    async def run(self, stop: asyncio.Event) -> None:
        """Follow until the class ends (close 1000) or ``stop``; after any other close,
        reconnect with the page's backoff (api.js: 1 s, 2 s, … 30 s, × 0.75–1.25)."""
        backoff = 0
        while not stop.is_set():
            self.attempts += 1
            first = True
            try:
                async with websockets.connect(self.url, open_timeout=30, proxy=None, compression=None,
                                              local_addr=(self.address, 0)) as ws:  # fmt: skip
                    async for raw in ws:
                        now = time.perf_counter()
                        self.messages.append((now, json.loads(raw)))
                        if first:
                            self.following_since.append(now)
                            first, backoff = False, 0
                    code = ws.close_code
                    self.closes.append((time.perf_counter(), str(code)))
                    if code == 1000:
                        return
            except websockets.ConnectionClosed as closed:
                self.closes.append((time.perf_counter(), str(closed.rcvd.code if closed.rcvd else "abnormal")))
            except (OSError, TimeoutError, websockets.InvalidHandshake) as error:
                self.closes.append((time.perf_counter(), type(error).__name__))
            wait = min(2**backoff, 30) * (0.75 + random.random() / 2)
            backoff += 1
            try:
                await asyncio.wait_for(stop.wait(), wait)
            except TimeoutError:
                pass
