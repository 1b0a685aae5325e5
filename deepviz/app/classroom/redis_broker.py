"""The Redis broker: every worker of every instance shares the classes through one Redis.

Keys (a class's keys share the hash tag {CODE}; see redis_scripts.py for their fields):

    deepviz:class:{CODE}           meta: class id, seq, counts, the latest state/mode/poll/reveal
    deepviz:class:{CODE}:names     student_id -> display name (only names given)
    deepviz:class:{CODE}:online    follower connection -> until when it counts as connected
    deepviz:class:{CODE}:polls     poll_id -> the poll's event; r:<poll_id> once revealed
    deepviz:class:{CODE}:answers   <poll_id>|<student_id> -> answer
    deepviz:class:{CODE}:counts    <poll_id>|<answer> -> students
    deepviz:class:{CODE}:drawings  <poll_id>|<student_id> -> a drawing (its reading is the answer)
    deepviz:class:{CODE}:ended     tombstone of an ended class (its id), for `ttl`
    deepviz:classes                sorted set of open codes by expiry time (bounds max_classes)
    deepviz:hits:<name>            rate-limit counters (failed joins, classes created)
    channel deepviz:class:{CODE}:events

Every change is one Lua script (atomic; its event published in seq order) that renews the
class's TTL. Answers are counted in the script: one per student, a new one replacing the old.

Why pub/sub and not streams: a follower needs the class's *current* state, not its history
(the page renders one state; a poll and its reveal are part of that state). So the latest
events are kept in the meta hash, a follower subscribes and then reads them (its snapshot,
sent at once), and of the events published after it subscribed drops those the snapshot
holds. Streams would add replay of intermediate states nobody renders, plus trimming and a
consumer position per follower. Pub/sub delivers nothing while a connection is down; we
never pretend otherwise: when this worker's subscriber connection fails, every follower on it
is told (`Listener.lost`: their socket closes with 1012) and reconnects, getting the snapshot
again. Each worker holds one subscriber connection for all its followers, and one SUBSCRIBE
per class followed (not per follower): fan-out to the followers of a worker is in memory.
Not for Redis Cluster: a script touches the class's keys and the global set of classes.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from deepviz.app.classroom.broker import Broker, Listener, PollResult, Snapshot, Unavailable, body_text
from deepviz.app.classroom.redis_scripts import SCRIPTS

DOWN = (RedisConnectionError, RedisTimeoutError, OSError)  # Redis down, restarting or loading its data
SUBSCRIBE_TIMEOUT = 5.0  # seconds for Redis to confirm a SUBSCRIBE


def class_keys(code: str) -> list[str]:
    base = f"deepviz:class:{{{code}}}"
    return [base, f"{base}:names", f"{base}:polls", f"{base}:answers", f"{base}:counts", f"{base}:ended",
            "deepviz:classes", f"{base}:online", f"{base}:drawings"]  # fmt: skip


def channel(code: str) -> str:
    return f"deepviz:class:{{{code}}}:events"


@dataclass
class Channel:
    """This worker's subscription to one class: confirmed once Redis says so."""

    listeners: set = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    failed: bool = False


class RedisBroker(Broker):
    def __init__(self, url: str, ttl: float):
        self.url, self.ttl = url, ttl
        self.loop = None
        self.channels: dict[str, Channel] = {}  # code -> subscription, in this worker
        self.pubsub = None
        self.reader: asyncio.Task | None = None

    # --- connections: made in the running event loop, on first use ---------------------------

    def _redis(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:  # a new loop (a test's): the old connections belong to the old one
            self.loop, self.channels, self.pubsub, self.reader = loop, {}, None, None
            options = {"socket_connect_timeout": 2, "socket_timeout": 5, "health_check_interval": 30}
            self.client = aioredis.Redis.from_url(self.url, retry=Retry(NoBackoff(), 1), **options)
            # the subscriber never retries on its own: a lost connection is reported to the followers
            self.subscriber = aioredis.Redis.from_url(self.url, retry=Retry(NoBackoff(), 0), **options)
            self.scripts = {name: self.client.register_script(text) for name, text in SCRIPTS.items()}
        return self.client

    async def _run(self, script: str, code: str, class_id: str, *args):
        self._redis()
        argv = [class_id, int(self.ttl * 1000), int(time.time() * 1000), code, channel(code), *args]
        try:
            return await self.scripts[script](keys=class_keys(code), args=argv)
        except DOWN as error:
            raise _unavailable(error) from None

    async def close(self) -> None:
        if self.loop is not asyncio.get_running_loop():
            return  # nothing opened in this loop
        if self.reader is not None:
            self.reader.cancel()
        if self.pubsub is not None:
            await _quietly(self.pubsub.aclose())
        await _quietly(self.client.aclose())
        await _quietly(self.subscriber.aclose())
        self.loop = None

    # --- changes: one script each ----------------------------------------------------------------

    async def create(self, code: str, class_id: str, max_classes: int, restore: bool = False) -> str:
        return _text(await self._run("create", code, class_id, max_classes, "1" if restore else "0"))

    async def join(self, code: str, student_id: str, name: str, max_students: int) -> str | None:
        found = await self._run("join", code, "", max_students, student_id, name)
        if found is None:
            return None
        return found[0].decode() if isinstance(found, list) else _text(found)

    async def state(self, code: str, class_id: str, body: dict) -> int | None:
        return await self._run("state", code, class_id, body_text(body))

    async def mode(self, code: str, class_id: str, body: dict) -> int | None:
        return await self._run("mode", code, class_id, body_text(body))

    async def add_poll(self, code: str, class_id: str, body: dict, max_polls: int) -> tuple[str, int] | str | None:
        found = await self._run("poll", code, class_id, max_polls, body_text(body))
        if isinstance(found, list):
            return found[0].decode(), int(found[1])
        return None if found is None else _text(found)

    async def answer(self, code: str, class_id: str, poll_id: str, student_id: str, key: str) -> str:
        return _text(await self._run("answer", code, class_id, poll_id, student_id, key))

    async def draw(
        self, code: str, class_id: str, poll_id: str, student_id: str, key: str, ink: str, max_drawings: int
    ) -> str:
        return _text(await self._run("draw", code, class_id, poll_id, student_id, key, ink, max_drawings))

    async def drawings(self, code: str, class_id: str, poll_id: str) -> dict[str, tuple[str, str]] | str:
        found = await self._run("drawings", code, class_id, poll_id)
        if not isinstance(found, list):
            return _text(found)
        texts = [_text(x) for x in found]
        return {texts[i]: (texts[i + 1], texts[i + 2]) for i in range(0, len(texts), 3)}

    async def reveal(self, code: str, class_id: str, poll_id: str, body: dict) -> int | str:
        found = await self._run("reveal", code, class_id, poll_id, body_text(body))
        return found if isinstance(found, int) else _text(found)

    async def end(self, code: str, class_id: str) -> int | None:
        return await self._run("end", code, class_id)

    async def hit(self, name: str, window: float, amount: int = 1) -> int:
        client, key = self._redis(), f"deepviz:hits:{name}"
        try:
            async with client.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, px=int(window * 1000), nx=True).incrby(key, amount)
                return (await pipe.execute())[1]
        except DOWN as error:
            raise _unavailable(error) from None

    # --- reading -------------------------------------------------------------------------------

    async def _read(self, code: str, *commands) -> list:
        client, keys = self._redis(), class_keys(code)
        try:
            async with client.pipeline(transaction=True) as pipe:
                for name, key, *args in commands:
                    getattr(pipe, name)(keys[key], *args)
                return await pipe.execute()
        except DOWN as error:
            raise _unavailable(error) from None

    async def poll(self, code: str, class_id: str, poll_id: str) -> dict | str:
        found, poll = await self._read(code, ("hget", 0, "id"), ("hget", 2, poll_id))
        if found is None or found.decode() != class_id:
            return "gone"
        if poll is None or poll_id.startswith("r:"):
            return "missing"
        return {k: v for k, v in json.loads(poll).items() if k not in ("type", "seq")}

    async def poll_result(self, code: str, class_id: str, poll_id: str) -> PollResult | str:
        commands = [("hget", 0, "id"), ("hget", 2, poll_id), ("hexists", 2, f"r:{poll_id}")]
        found, poll, revealed, counts, answers = await self._read(code, *commands, ("hgetall", 4), ("hgetall", 3))
        if found is None or found.decode() != class_id:
            return "gone"
        if poll is None or poll_id.startswith("r:"):
            return "missing"
        head = f"{poll_id}|".encode()
        event = json.loads(poll)
        return PollResult(
            {k: v for k, v in event.items() if k not in ("type", "seq")},
            bool(revealed),
            {k[len(head) :].decode(): int(n) for k, n in counts.items() if k.startswith(head) and int(n) > 0},
            {k[len(head) :].decode(): v.decode() for k, v in answers.items() if k.startswith(head)},
        )

    async def tallies(self, code: str, class_id: str) -> list[tuple[dict, dict[str, int]]] | None:
        found, polls, counts = await self._read(code, ("hget", 0, "id"), ("hgetall", 2), ("hgetall", 4))
        if found is None or found.decode() != class_id:
            return None
        tallied: dict[str, dict[str, int]] = {}
        for name, n in counts.items():
            poll_id, key = name.decode().split("|", 1)
            if int(n) > 0:
                tallied.setdefault(poll_id, {})[key] = int(n)
        asked = [json.loads(event) for poll_id, event in polls.items() if not poll_id.startswith(b"r:")]
        return [({k: v for k, v in e.items() if k not in ("type", "seq")}, tallied.get(e["poll_id"], {}))
                for e in sorted(asked, key=lambda e: e["seq"])]  # fmt: skip

    async def info(self, code: str, class_id: str) -> dict | None:
        meta, names, _, connected = await self._read(
            code, ("hmget", 0, "id", "seq", "students", "polls", "state", "mode"), ("hgetall", 1),
            ("zremrangebyscore", 7, "-inf", time.time()), ("zcard", 7),
        )  # fmt: skip
        if meta[0] is None or meta[0].decode() != class_id:
            return None
        return {
            "connected": connected,
            "seq": int(meta[1]),
            "students": int(meta[2]),
            "polls": int(meta[3]),
            "state": meta[4].decode() if meta[4] else None,
            "mode": meta[5].decode() if meta[5] else None,
            "names": {k.decode(): v.decode() for k, v in names.items()},
        }

    # --- following -----------------------------------------------------------------------------

    async def presence(self, code: str, follower: str, seconds: float | None) -> None:
        key = class_keys(code)[7]  # sorted set: follower -> until when (wall-clock seconds)
        try:
            async with self._redis().pipeline(transaction=True) as pipe:
                if seconds is None:
                    pipe.zrem(key, follower)
                else:  # entries lapse by their score; the set itself goes with the class's TTL
                    pipe.zadd(key, {follower: time.time() + seconds}).pexpire(key, int(self.ttl * 1000))
                await pipe.execute()
        except DOWN as error:
            raise _unavailable(error) from None

    async def subscribe(self, code: str, listener: Listener) -> Snapshot | None:
        self._redis()
        sub = self.channels.get(code)
        if sub is None:
            # the listener is in before SUBSCRIBE is sent: the reader may see Redis confirm it
            # before this coroutine resumes, and would drop a subscription nobody listens to
            sub = self.channels[code] = Channel({listener})
            try:
                if self.pubsub is None:
                    self.pubsub = self.subscriber.pubsub()
                await self.pubsub.subscribe(channel(code))
                if self.reader is None:
                    self.reader = asyncio.create_task(self._listen(self.pubsub))
            except DOWN as error:
                self._lose()
                raise _unavailable(error) from None
        sub.listeners.add(listener)
        try:
            await asyncio.wait_for(sub.ready.wait(), SUBSCRIBE_TIMEOUT)
        except TimeoutError:  # Redis is too slow: this subscription fails, the next one asks again
            sub.failed = True
            sub.ready.set()
            if self.channels.get(code) is sub:
                del self.channels[code]
        if sub.failed:
            sub.listeners.discard(listener)
            raise Unavailable("Redis did not confirm the subscription")
        try:
            meta = (await self._read(code, ("hmget", 0, "id", "seq", "state", "mode", "poll", "reveal")))[0]
        except Unavailable:
            sub.listeners.discard(listener)  # nobody is left behind listening
            raise
        if meta[0] is None:
            await self.unsubscribe(code, listener)
            return None
        events = [json.loads(text) | {"text": text.decode()} for text in meta[2:] if text]
        return Snapshot(meta[0].decode(), int(meta[1]), sorted((e["seq"], e["type"], e["text"]) for e in events))

    async def unsubscribe(self, code: str, listener: Listener) -> None:
        sub = self.channels.get(code)
        if sub is None:
            return
        sub.listeners.discard(listener)
        # only a confirmed subscription is dropped: Redis then answers SUBSCRIBE and UNSUBSCRIBE
        # in order, so a later SUBSCRIBE's confirmation is never mistaken for this one's
        if not sub.listeners and sub.ready.is_set() and not sub.failed:
            del self.channels[code]
            try:
                await self.pubsub.unsubscribe(channel(code))
            except DOWN:
                self._lose()

    async def _listen(self, pubsub) -> None:
        """This worker's one reader of pub/sub: events to the followers of their class."""
        try:
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is None:
                    continue
                code = message["channel"].decode().split("{", 1)[1].split("}", 1)[0]
                sub = self.channels.get(code)
                if message["type"] == "subscribe" and sub is not None:
                    sub.ready.set()
                    if not sub.listeners:  # everyone left before Redis confirmed
                        await self.unsubscribe(code, None)
                elif message["type"] == "message" and sub is not None:
                    text = message["data"].decode()
                    head = json.loads(text)
                    for listener in list(sub.listeners):
                        listener.deliver(head["seq"], head["type"], text)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the connection is gone, whatever the reason: tell the followers
            self._lose()

    def _lose(self) -> None:
        """The subscriber connection failed: every follower on this worker is told, and the
        next subscription starts a new connection."""
        channels, self.channels = self.channels, {}
        pubsub, self.pubsub, reader, self.reader = self.pubsub, None, self.reader, None
        for sub in channels.values():
            sub.failed = True
            sub.ready.set()
            for listener in list(sub.listeners):
                listener.lost()
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
        if pubsub is not None:
            asyncio.get_running_loop().create_task(_quietly(pubsub.aclose()))


async def _quietly(awaitable) -> None:
    try:
        await awaitable
    except Exception:  # noqa: BLE001 - closing a connection that is already broken
        pass


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _unavailable(error: Exception) -> Unavailable:
    return Unavailable(f"Redis is unreachable ({type(error).__name__})")
