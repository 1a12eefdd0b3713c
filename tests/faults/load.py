"""Load for the fault suites: chatd processes, paced WebSocket senders, receivers that resume,
and the invariants every fault test checks (lost, duplicated, out of order)."""

import asyncio
import contextlib
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import redis.asyncio as redis

from chatd.config import Settings
from tests.support import Api, ServerProcess
from tests.wsclient import WsClient

HANG = 20.0  # seconds: a request not answered by then is a hang (asyncpg's command_timeout is 30)


@contextlib.asynccontextmanager
async def chatd_processes(settings: Settings, count: int, **env: str) -> AsyncIterator[list]:
    """`count` real `chatd serve` processes on the settings' PostgreSQL and Redis."""
    env = {"CHATD_MESSAGE_RATE": "0", "CHATD_JOIN_RATE": "0", **env}
    servers = [ServerProcess(settings, **env) for _ in range(count)]
    try:
        for server in servers:
            await server.start()
        yield servers
    finally:
        for server in servers:
            if not server.killed:
                server.stop()


async def pubsub_clients(url: str) -> int:
    """Connections in Pub/Sub mode on a Redis (one per chatd process when none leaked)."""
    client = redis.Redis.from_url(url)
    try:
        listed = await client.client_list()
    finally:
        await client.aclose()
    return sum(1 for entry in listed if "P" in entry["flags"] or int(entry.get("sub", 0)) > 0)


async def metric(session: aiohttp.ClientSession, url: str, name: str) -> float:
    """One sample of a chatd /metrics series without labels."""
    async with session.get(f"{url}/metrics") as response:
        text = await response.text()
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


@dataclass
class Tally:
    """What one socket (or one reader across its reconnects) received of one room."""

    seqs: list[int] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each seq
    ids: list[int] = field(default_factory=list)  # the message id of each seq

    def lost(self, first: int, last: int) -> int:
        return len(set(range(first, last + 1)) - set(self.seqs))

    def duplicates(self) -> int:
        return len(self.seqs) - len(set(self.seqs))

    def out_of_order(self) -> int:
        return sum(1 for a, b in zip(self.seqs, self.seqs[1:], strict=False) if b < a)

    def arrival_of(self, seq: int) -> float:
        return self.arrivals[self.seqs.index(seq)]


def totals(tallies: list[Tally], first: int, last: dict[int, int], rooms: list[int]) -> dict:
    lost = sum(t.lost(first, last[room]) for t, room in zip(tallies, rooms, strict=True))
    return {
        "lost": lost,
        "duplicates": sum(t.duplicates() for t in tallies),
        "out_of_order": sum(t.out_of_order() for t in tallies),
    }


class Receiver:
    """One socket of `token` on `url` reading room `room_id`; when the socket ends it connects
    again with `resume` from the last seq it has (so a close is not a loss)."""

    def __init__(self, session, url: str, token: str, room_id: int, *, after: int) -> None:
        self.session, self.url, self.token, self.room_id = session, url, token, room_id
        self.after = after
        self.tally = Tally()
        self.reconnects = 0
        self.ready = asyncio.Event()

    @property
    def last(self) -> int:
        return self.tally.seqs[-1] if self.tally.seqs else self.after

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            try:
                await self._read_one_socket()
            except (aiohttp.ClientError, ConnectionError, TimeoutError):
                self.reconnects += 1
                await asyncio.sleep(0.2)

    async def _read_one_socket(self) -> None:
        ws_url = self.url.replace("http", "ws", 1) + "/ws"
        async with self.session.ws_connect(ws_url, heartbeat=None) as ws:
            auth = {"type": "auth", "token": self.token, "resume": {str(self.room_id): self.last}}
            await ws.send_str(json.dumps(auth))
            while True:
                msg = await ws.receive(timeout=60)
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"socket ended: {msg.type!r} {ws.close_code}")
                frame = json.loads(msg.data)
                kind = frame["type"]
                if kind == "ready":
                    self.ready.set()
                elif kind in {"new_message", "system_message"}:
                    message = frame["message"]
                    if message["room_id"] == self.room_id:
                        self.tally.seqs.append(message["seq"])
                        self.tally.arrivals.append(time.monotonic())
                        self.tally.ids.append(message["id"])


class Posts:
    """Posters over REST, each until `stop`, retrying a message after a 503 with the same
    client_id; what they saw: every status, 503s without Retry-After, hangs, the seqs stored."""

    def __init__(self) -> None:
        self.statuses: Counter[int | str] = Counter()
        self.no_retry_after = 0
        self.stored: list[int] = []
        self.last_ok: dict[str, float] = {}  # process url: time.monotonic() of its last 201
        self.slowest = 0.0  # seconds, the longest any request took

    async def until(self, api: Api, token: str, room_id: int, poster: int, stop) -> None:
        url = f"{api.base_url}/api/rooms/{room_id}/messages"
        headers = {"Authorization": f"Bearer {token}"}
        for n in range(10**6):
            if stop.is_set():
                return
            body = {"body": f"p{poster}-{n}", "client_id": f"p{poster}-{n}"}
            while not await self._try(api, url, headers, body):  # noqa: ASYNC110 (a retry)
                await asyncio.sleep(0.2)

    async def _try(self, api: Api, url: str, headers: dict, body: dict) -> bool:
        start = time.monotonic()
        try:
            async with api.client.post(
                url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=HANG)
            ) as response:
                self.statuses[response.status] += 1
                self.slowest = max(self.slowest, time.monotonic() - start)
                if response.status in {200, 201}:
                    self.stored.append((await response.json())["seq"])
                    self.last_ok[api.base_url] = time.monotonic()
                    return True
                self.no_retry_after += (
                    response.status == 503 and not response.headers.get("Retry-After", "").isdigit()
                )
                return False
        except TimeoutError:
            self.statuses["hang"] += 1  # no answer within HANG seconds
        except aiohttp.ClientError:
            self.statuses["connection error"] += 1
        return False

    def other_5xx(self) -> int:
        """5xx answers other than 503."""
        return (
            sum(n for s, n in self.statuses.items() if isinstance(s, int) and s >= 500)
            - (self.statuses[503])
        )


class WsPoster:
    """Sends over one socket, one message at a time, until `stop`; after an `unavailable` error
    it sends the same client_id again. What it saw: error codes, hangs, the seqs stored."""

    def __init__(self) -> None:
        self.errors: Counter[str] = Counter()
        self.stored: list[int] = []

    async def until(self, url: str, token: str, room_id: int, poster: int, stop) -> None:
        client = await WsClient.connect(url, token)
        try:
            for n in range(10**6):
                if stop.is_set():
                    return
                frame = {"type": "send_message", "room_id": room_id, "body": f"w{poster}-{n}"}
                await self._send(client, {**frame, "client_id": f"w{poster}-{n}"})
        finally:
            await client.close()

    async def _send(self, client: WsClient, frame: dict) -> None:
        while True:
            try:
                reply = await client.request(frame, within=HANG)
            except TimeoutError:
                self.errors["hang"] += 1
                continue
            if reply["type"] == "ack":
                self.stored.append(reply["message"]["seq"])
                return
            self.errors[reply["code"]] += 1
            await asyncio.sleep(0.2)


class PacedSender:
    """Posts `count` messages to a room over one socket, pipelined (at most `window` without an
    ack), at `rate` per second; `acked[n]` is the seq of message n."""

    def __init__(self, session, url: str, token: str, room_id: int, *, count: int) -> None:
        self.session, self.url, self.token, self.room_id = session, url, token, room_id
        self.count = count
        self.seqs: list[int] = []
        self.errors: list[dict] = []

    async def run(self, rate: float, window: int = 100) -> None:
        ws_url = self.url.replace("http", "ws", 1) + "/ws"
        async with self.session.ws_connect(ws_url, heartbeat=None) as ws:
            await ws.send_str(json.dumps({"type": "auth", "token": self.token}))
            reading = asyncio.create_task(self._read_acks(ws))
            try:
                start = time.monotonic()
                for n in range(self.count):
                    while n - len(self.seqs) - len(self.errors) >= window:  # noqa: ASYNC110
                        await asyncio.sleep(0.01)
                    if (wait := start + n / rate - time.monotonic()) > 0:
                        await asyncio.sleep(wait)
                    frame = {"type": "send_message", "room_id": self.room_id, "ref": n}
                    await ws.send_str(json.dumps({**frame, "body": f"m{n}", "client_id": f"c{n}"}))
                await asyncio.wait_for(reading, 120)
            finally:
                reading.cancel()

    async def _read_acks(self, ws) -> None:
        while len(self.seqs) + len(self.errors) < self.count:
            msg = await ws.receive(timeout=60)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"sender socket ended: {msg.type!r} {ws.close_code}")
            frame = json.loads(msg.data)
            if frame["type"] == "ack":
                self.seqs.append(frame["message"]["seq"])
            elif frame["type"] == "error":
                self.errors.append(frame)


async def wait_until(condition, within: float, step: float = 0.05) -> float:
    """Poll until condition() holds; the seconds it took."""
    start = time.monotonic()
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 (any condition, polled)
            await asyncio.sleep(step)
    return time.monotonic() - start
