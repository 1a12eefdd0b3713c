"""A Hypothesis state machine against a model of rooms, on two real `chatd serve` processes.

Two users and two rooms per example; the rules send (REST or WebSocket, on either process),
open and close sockets, reconnect with `resume` from the last seq seen, join, leave (REST or
WebSocket), and cut every Pub/Sub connection (CLIENT KILL TYPE pubsub). After each step, once
every live socket has what it must have, the invariant: per socket and room, ascending seq, no
gap, no duplicate (tests/room_model.py says exactly what is allowed), every message delivered
equals the history's message of that seq, and the history equals the model's log.

The rules run in a worker thread (Hypothesis is synchronous); the sockets live on the test's
event loop, where each rule's I/O is sent. One pair of processes serves the whole test."""

import asyncio
import itertools
import time
from typing import Any, ClassVar

import pytest
import redis.asyncio as redis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.cluster import running_cluster
from tests.room_model import LiveSocket, Slot, World

pytestmark = pytest.mark.slow

MAX_SOCKETS = 4
SETTLE_SECONDS = 30.0  # no bound in the contract: generous, for a loaded machine
MODEL_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure replays
    # No shrinking: each step waits on real processes, so shrinking takes many minutes; a
    # failure prints its whole walk, to shrink by hand into a plain regression test.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
USERS, ROOMS, SERVERS = st.sampled_from([0, 1]), st.sampled_from([0, 1]), st.sampled_from([0, 1])
# Up to eight messages sent at once: (user, how), each over REST on process a or b, or a socket.
SENDS = st.lists(
    st.tuples(USERS, st.sampled_from(["rest-a", "rest-b", "ws"])), min_size=1, max_size=8
)


class RoomModel(RuleBasedStateMachine):
    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        w, api = self.world, self.world.api(0)
        tag = f"model{next(w.names)}"
        self.users = [w.run(self._account(f"{tag}u{i}")) for i in range(2)]  # (id, name, token)
        self.auditor = w.run(self._account(f"{tag}audit"))
        self.rooms = [
            w.run(api.create_room(user[2], f"{tag}r{i}")) for i, user in enumerate(self.users)
        ]
        self.members = {room: {i} for i, room in enumerate(self.rooms)}
        self.log: dict[int, list[tuple]] = {room: [] for room in self.rooms}
        for room in self.rooms:  # the auditor reads history and never leaves
            w.run(api.join(self.auditor[2], room))
            self.log[room].append(("system", None, f"{self.auditor[1]} joined"))
        w.run(api.join(self.users[1][2], self.rooms[0]))  # room 0 has both users, room 1 one
        self.members[self.rooms[0]].add(1)
        self.log[self.rooms[0]].append(("system", None, f"{self.users[1][1]} joined"))
        self.problems: list[str] = []
        self.walk: list[str] = []
        self.bodies = itertools.count(1)
        self.checks = 0
        self.slots: list[Slot] = []
        for user in (0, 1):  # a socket each to start with, on different processes
            self.connect(user, server=user)

    async def _account(self, name: str) -> tuple[int, str, str]:
        api = self.world.api(0)
        user = await api.register(name)
        return user["id"], name, (await api.login(name))["access_token"]

    # Rules.

    @precondition(lambda self: len(self.slots) < MAX_SOCKETS)
    @rule(user=USERS, server=SERVERS)
    def connect(self, user, server):
        self._note("connect", locals())
        self.slots.append(Slot(user, self.rooms))
        self._open(self.slots[-1], server, resume={})

    @precondition(lambda self: any(slot.live for slot in self.slots))
    @rule(data=st.data())
    def disconnect(self, data):
        self._note("disconnect", locals())
        self._close(data.draw(st.sampled_from([s for s in self.slots if s.live])))

    @precondition(lambda self: any(not slot.live for slot in self.slots))
    @rule(data=st.data(), server=SERVERS)
    def reconnect(self, data, server):
        """With `resume` from the last seq seen in each room the user is in."""
        self._note("reconnect", locals())
        slot = data.draw(st.sampled_from([s for s in self.slots if not s.live]))
        self._open(slot, server, self._positions(slot))

    @precondition(lambda self: any(slot.live for slot in self.slots))
    @rule(data=st.data(), room=ROOMS, sends=SENDS, more=SENDS, server=SERVERS)
    def bounce(self, data, room, sends, more, server):
        """A socket drops, messages are sent while it is away, and it comes back with resume
        while more are being sent."""
        self._note("bounce", locals())
        slot = data.draw(st.sampled_from([s for s in self.slots if s.live]))
        self._close(slot)
        self._send_all(room, sends, data)
        resume = self._positions(slot)
        socket = self._send_all(room, more, data, alongside=self._connect(slot, server, resume))
        self._opened(slot, socket, server, resume)

    @rule(room=ROOMS, sends=SENDS, data=st.data())
    def send(self, room, sends, data):
        """Messages by the two users at once, each over REST on either process or a socket."""
        self._note("send", locals())
        self._send_all(room, sends, data)

    @rule(room=ROOMS, sends=SENDS, data=st.data())
    def send_during_a_cut(self, room, sends, data):
        """The same, with every Pub/Sub connection cut while they are being stored."""
        self._note("send_during_a_cut", locals())
        self._send_all(room, sends, data, alongside=self._cut())

    def _send_all(self, room: int, sends: list, data, *, alongside=None) -> Any:
        """The sends at once (with `alongside`, a coroutine, in their midst): its result."""
        room_id = self.rooms[room]
        how = [
            (user, self._socket_of(user, data) if via == "ws" else None, via) for user, via in sends
        ]

        async def at_once() -> list:
            jobs = [
                self._send(room_id, user, slot, server=via == "rest-b") for user, slot, via in how
            ]
            if alongside is not None:
                jobs.insert(len(jobs) // 2, alongside)
            return await asyncio.gather(*jobs)

        results = self.world.run(at_once())
        extra = results.pop(len(how) // 2) if alongside is not None else None
        stored = sorted(result for result in results if result is not None)
        last = len(self.log[room_id])
        assert [seq for seq, _ in stored] == list(range(last + 1, last + len(stored) + 1)), stored
        self.log[room_id].extend(entry for _, entry in stored)
        return extra

    async def _send(self, room_id: int, user: int, slot: Slot | None, server: int):
        """(seq, log entry) of the stored message, or None when refused as it must be."""
        user_id, _, token = self.users[user]
        member, body = user in self.members[room_id], f"m{next(self.bodies)}"
        if slot is not None:
            frame = {"type": "send_message", "room_id": room_id, "body": body}
            reply = await slot.socket.request(frame)
            ok = reply["type"] == "ack" if member else reply.get("code") == "not_a_member"
            message = reply.get("message")
        else:
            path = f"/api/rooms/{room_id}/messages"
            status, message = await self.world.api(server).call(
                "POST", path, token=token, json={"body": body}
            )
            ok = status == (201 if member else 403)
        assert ok, f"send by user {user} (member: {member}): {message}"
        return (message["seq"], ("user", user_id, body)) if member else None

    @rule(
        user=USERS, room=ROOMS, via=st.sampled_from(["rest", "ws"]), server=SERVERS, data=st.data()
    )
    def join(self, user, room, via, server, data):
        self._note("join", locals())
        room_id, (user_id, name, _) = self.rooms[room], self.users[user]
        first = user not in self.members[room_id]
        live = [slot for slot in self.slots if slot.live and slot.user == user]
        notices = {id(slot): slot.socket.joins.count((room_id, user_id)) for slot in live}
        used = self._membership("join", user, room_id, via, server, data)
        if not first:
            return  # idempotent: nothing posted, nothing to wait for
        self.members[room_id].add(user)
        self.log[room_id].append(("system", None, f"{name} joined"))
        join_seq = len(self.log[room_id])
        for slot in self.slots:
            if slot.user == user:
                slot.streams[room_id].joined(join_seq)

        def following(slot: Slot) -> bool:
            """The socket streams the room: it made the join (it watches before joining), got
            `join_room` (a notice lost in a Pub/Sub cut is made up for by the re-check after
            it), or never stopped (a leave's notice came after this join: it got the join)."""
            self._absorb(slot)
            notified = slot.socket.joins.count((room_id, user_id)) > notices[id(slot)]
            return slot is used or notified or slot.streams[room_id].last >= join_seq

        self._wait(
            lambda: all(following(slot) for slot in live),
            f"room {room_id} to be followed by every socket of user {user}",
        )

    @rule(
        user=USERS, room=ROOMS, via=st.sampled_from(["rest", "ws"]), server=SERVERS, data=st.data()
    )
    def leave(self, user, room, via, server, data):
        self._note("leave", locals())
        room_id, name = self.rooms[room], self.users[user][1]
        was_member = user in self.members[room_id]
        used = self._membership("leave", user, room_id, via, server, data)
        if not was_member:
            return
        self.members[room_id].discard(user)
        self.log[room_id].append(("system", None, f"{name} left"))
        for slot in self.slots:
            if slot.user == user:
                slot.streams[room_id].left(len(self.log[room_id]), on_this_socket=slot is used)

    @rule()
    def cut_pubsub(self):
        self._note("cut_pubsub", locals())
        self.world.run(self._cut())

    async def _cut(self) -> None:
        self.world.cuts += await self.world.admin.client_kill_filter(_type="pubsub")

    # The invariant.

    @invariant()
    def delivered_in_order_and_equal_to_history(self):
        self.world.steps += self.checks > 0  # the first check follows the setup, not a step
        self.checks += 1
        self._settle()
        history = {room: self.world.run(self._history(room)) for room in self.rooms}
        for room, messages in history.items():
            got = [(m["kind"], m["author"] and m["author"]["id"], m["body"]) for m in messages]
            if got != self.log[room] or [m["seq"] for m in messages] != list(
                range(1, len(got) + 1)
            ):
                self.problems.append(
                    f"room {room}: history {got} but the model has {self.log[room]}"
                )
        for index, slot in enumerate(self.slots):
            for message in slot.delivered:
                stored = history[message["room_id"]]
                if message["seq"] > len(stored) or stored[message["seq"] - 1] != message:
                    self.problems.append(f"socket {index} got {message}, unlike the history")
        self.world.violations += len(self.problems)
        assert not self.problems, "\n".join([*self.problems, "The walk:", *self.walk])

    def teardown(self):
        self.world.stored += sum(len(log) for log in self.log.values())
        for slot in self.slots:
            if slot.live:
                self.world.run(slot.socket.close())

    # Helpers.

    def _open(self, slot: Slot, server: int, resume: dict[int, int]) -> None:
        self._opened(slot, self.world.run(self._connect(slot, server, resume)), server, resume)

    async def _connect(self, slot: Slot, server: int, resume: dict[int, int]) -> LiveSocket:
        token, w = self.users[slot.user][2], self.world
        return await LiveSocket.open(w.cluster.session, w.url(server), token, resume)

    def _opened(self, slot: Slot, socket: LiveSocket, server: int, resume: dict) -> None:
        """Messages sent while it opened count as before it (a looser bound, never a wrong one)."""
        slot.socket, slot.read = socket, 0
        slot.where = f"user {slot.user} on process {'ab'[server]}"
        self.walk.append(
            f"  opened socket {self.slots.index(slot)} ({slot.where}), resume {resume}"
        )
        member_rooms = {room for room in self.rooms if slot.user in self.members[room]}
        assert set(slot.socket.ready["rooms"]) == member_rooms, slot.socket.ready
        for room, stream in slot.streams.items():
            member = room in member_rooms
            stream.opened(member=member, room_last=len(self.log[room]), resume=room in resume)

    def _note(self, rule: str, args: dict) -> None:
        """The walk so far, for the failure message (Hypothesis replays a failing walk to print
        it, and a walk that failed on timing may replay differently)."""
        shown = {k: v for k, v in args.items() if k not in {"self", "data"}}
        self.walk.append(f"{rule}({', '.join(f'{k}={v!r}' for k, v in shown.items())})")

    def _close(self, slot: Slot) -> None:
        self.walk.append(f"  closed socket {self.slots.index(slot)} ({slot.where})")
        self.world.run(slot.socket.close())
        self._absorb(slot)
        slot.socket = None

    def _positions(self, slot: Slot) -> dict[int, int]:
        """What a reconnect resumes: the last seq seen in each room the user is in."""
        return {
            room: stream.last
            for room, stream in slot.streams.items()
            if slot.user in self.members[room] and stream.last > 0
        }

    def _socket_of(self, user: int, data) -> Slot | None:
        live = [slot for slot in self.slots if slot.live and slot.user == user]
        slot = data.draw(st.sampled_from(live)) if live else None
        self.walk.append(
            f"  user {user} uses socket {self.slots.index(slot)}" if slot else "  (REST)"
        )
        return slot

    def _membership(self, verb: str, user: int, room_id: int, via, server, data) -> Slot | None:
        """Join or leave over REST or a socket of the user; the socket used, if one was."""
        slot = self._socket_of(user, data) if via == "ws" else None
        if slot is not None:
            reply = self.world.run(
                slot.socket.request({"type": f"{verb}_room", "room_id": room_id})
            )
            assert reply["type"] == "ack", reply
            return slot
        status, body = self.world.run(
            self.world.api(server).call(
                "POST", f"/api/rooms/{room_id}/{verb}", token=self.users[user][2]
            )
        )
        assert status == (200 if verb == "join" else 204), body
        return None

    async def _history(self, room_id: int) -> list[dict]:
        """The whole history, walking forwards a page at a time (docs/API.md, History pages)."""
        messages: list[dict] = []
        while True:
            after = messages[-1]["seq"] if messages else 0
            path = f"/api/rooms/{room_id}/messages?after_seq={after}&limit=200"
            status, body = await self.world.api(0).call("GET", path, token=self.auditor[2])
            assert status == 200, body
            if not body["messages"]:
                return messages
            messages += body["messages"]

    def _absorb(self, slot: Slot) -> None:
        """Check the messages the socket received since the last look."""
        fresh = slot.socket.messages[slot.read :]
        slot.read += len(fresh)
        for message in fresh:
            problem = slot.streams[message["room_id"]].receive(message["seq"])
            if problem:
                where = f"socket {self.slots.index(slot)} ({slot.where}), room {message['room_id']}"
                self.problems.append(f"{where}: {problem}")
            slot.delivered.append(message)
            self.world.delivered += 1

    def _pending(self) -> list[str]:
        pending = []
        for index, slot in enumerate(self.slots):
            if not slot.live:
                continue
            self._absorb(slot)
            for room, stream in slot.streams.items():
                if slot.user in self.members[room] and not stream.complete(len(self.log[room])):
                    pending.append(
                        f"socket {index} ({slot.where}) room {room}: has up to seq "
                        f"{stream.last}, the room is at {len(self.log[room])}"
                        + ("" if slot.socket.alive else f"; closed: {slot.socket.ws.close_code}")
                    )
        return pending

    def _settle(self) -> None:
        """Wait until every live socket has what it must have by now."""
        self._wait(lambda: not self._pending(), "delivery")
        self.problems.extend(self._pending())

    def _wait(self, done, what: str) -> None:
        deadline = time.monotonic() + SETTLE_SECONDS
        while not done():
            if time.monotonic() > deadline:
                self.problems.append(f"timed out waiting for {what}")
                return
            time.sleep(0.02)


async def test_rooms_keep_their_promises_under_a_random_walk(settings, redis_url, figure):
    async with running_cluster(settings) as cluster:
        admin = redis.Redis.from_url(redis_url)
        world = RoomModel.world = World(asyncio.get_running_loop(), cluster, admin)
        started = time.monotonic()
        try:
            await asyncio.to_thread(run_state_machine_as_test, RoomModel, settings=MODEL_SETTINGS)
        finally:
            await admin.aclose()
            figure(
                f"invariant violations {world.violations} of {world.steps} steps,"
                f" {world.stored} messages stored, {world.delivered} delivered,"
                f" {world.cuts} Pub/Sub connections cut, {time.monotonic() - started:.0f} s"
            )
    assert world.steps >= 100, "the walk was too short to mean much"
