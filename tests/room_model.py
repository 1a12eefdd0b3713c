"""For the room model test (tests/e2e/test_room_model.py): what the contract promises one
connection about one room, as a checker; a socket whose frames are read all the time (so a slow
test never fills its queue); a client's connection across reconnects; the shared processes.

The promise (CONTRACT.md, Guarantees; docs/API.md on join, leave and resume): per connection and
room, messages arrive in strictly ascending seq with no duplicate and no gap, across a reconnect
whose auth frame names `resume`. A gap is allowed only where the stream legitimately restarts:
a connection opened without `resume` for the room starts at the room's seq of that moment, and a
join streams the room from the join on (its own "joined" message may come or not). A room left
on this very connection (`leave_room` frame) stops at once; a leave made elsewhere stops the
room "on every connection of the user" with no time given, so a few more messages in order are
not counted against it."""

import asyncio
import contextlib
import itertools
import json
import math
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
import redis.asyncio as redis

from tests.cluster import Cluster


@dataclass
class RoomStream:
    """One connection's view of one room."""

    last: int = 0  # the last seq received, 0 for none
    gap_up_to: int | None = None  # the next seq may skip ahead as far as this, once
    required_from: float = math.inf  # every seq from here to the room's last must arrive
    silent_after: int | None = None  # left on this connection: nothing past this seq

    def receive(self, seq: int) -> str | None:
        """What is wrong with receiving this seq now, if anything."""
        problem = None
        if seq <= self.last:
            problem = f"seq {seq} after {self.last}: a duplicate or out of order"
        elif seq > self.last + 1 and (self.gap_up_to is None or seq > self.gap_up_to):
            problem = f"seq {seq} after {self.last}: a gap"
        elif self.silent_after is not None and seq > self.silent_after:
            problem = f"seq {seq} arrived after leaving at seq {self.silent_after}"
        if seq > self.last + 1:
            self.gap_up_to = None
        self.last = max(self.last, seq)
        return problem

    def opened(self, *, member: bool, room_last: int, resume: bool) -> None:
        """A (new) socket of this connection's slot got `ready`."""
        self.silent_after = None
        if resume:  # the stream goes on right after self.last
            self.gap_up_to, self.required_from = None, self.last + 1
        elif member:  # the stream starts now
            self.gap_up_to = self.required_from = room_last + 1
        else:
            self.gap_up_to, self.required_from = None, math.inf

    def joined(self, join_seq: int) -> None:
        """The user joined (here or elsewhere); the stream restarts from the join on."""
        self.silent_after = None
        self.gap_up_to = self.required_from = join_seq + 1

    def left(self, leave_seq: int, *, on_this_socket: bool) -> None:
        self.required_from = math.inf
        if on_this_socket:
            self.silent_after = leave_seq

    def complete(self, room_last: int) -> bool:
        """Has everything that must have arrived by now arrived?"""
        return room_last < self.required_from or self.last == room_last


class LiveSocket:
    """/ws with a reader task: replies by ref, room messages and join notices kept in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[dict] = []  # new_message/system_message bodies, in arrival order
        self.joins: list[tuple[int, int]] = []  # join_room frames: (room_id, user_id)
        self.ready: dict = {}
        self._ready = asyncio.get_running_loop().create_future()
        self._replies: dict[int, asyncio.Future] = {}
        self._ref = 0
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls, session: aiohttp.ClientSession, url: str, token: str, resume: dict[int, int]
    ) -> "LiveSocket":
        """Authenticated, once `ready` came (frames may come before it: presence, typing...)."""
        socket = cls(await session.ws_connect(url.replace("http", "ws", 1) + "/ws"))
        frame: dict[str, Any] = {"type": "auth", "token": token}
        if resume:
            frame["resume"] = {str(room): seq for room, seq in resume.items()}
        await socket.ws.send_str(json.dumps(frame))
        try:
            socket.ready = await asyncio.wait_for(asyncio.shield(socket._ready), 30)
        except BaseException:
            await socket.close()
            raise
        return socket

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            kind = frame["type"]
            if kind == "ready" and not self._ready.done():
                self._ready.set_result(frame)
            elif kind in {"ack", "error"} and frame.get("ref") in self._replies:
                self._replies.pop(frame["ref"]).set_result(frame)
            elif kind in {"new_message", "system_message"}:
                self.messages.append(frame["message"])
            elif kind == "join_room":
                self.joins.append((frame["room_id"], frame["user"]["id"]))
        if not self._ready.done():
            self._ready.set_exception(ConnectionError(f"closed before ready: {self.ws.close_code}"))

    async def request(self, frame: dict, within: float = 30) -> dict:
        self._ref += 1
        reply = self._replies[self._ref] = asyncio.get_running_loop().create_future()
        await self.ws.send_str(json.dumps({**frame, "ref": self._ref}))
        return await asyncio.wait_for(reply, within)

    @property
    def alive(self) -> bool:
        return not self._reader.done()

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._reader, 10)


class World:
    """What outlives one example: the processes, the loop they are driven from, the tally."""

    def __init__(self, loop: asyncio.AbstractEventLoop, cluster: Cluster, admin: redis.Redis):
        self.loop, self.cluster, self.admin = loop, cluster, admin
        self.names = itertools.count(1)
        self.steps = self.violations = self.cuts = self.delivered = self.stored = 0

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(120)

    def api(self, server: int):
        return (self.cluster.http_a, self.cluster.http_b)[server]

    def url(self, server: int) -> str:
        return (self.cluster.a, self.cluster.b)[server].url


class Slot:
    """One client's connection, across its reconnects: its sockets and what they received."""

    def __init__(self, user: int, rooms: list[int]) -> None:
        self.user = user
        self.socket: LiveSocket | None = None
        self.where = ""
        self.read = 0  # how many of the socket's messages were checked
        self.streams = {room: RoomStream() for room in rooms}
        self.delivered: list[dict] = []

    @property
    def live(self) -> bool:
        return self.socket is not None
