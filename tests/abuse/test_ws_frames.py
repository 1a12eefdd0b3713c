"""Hostile WebSocket frames against a real `chatd serve` with compression on: each gets its
documented close code or error frame, the other clients are not disturbed, nothing goes
unhandled and the memory stays put."""

import asyncio
import json
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from tests.abuse.rawframes import (
    BINARY,
    CLOSE,
    CONTINUATION,
    DEFLATE,
    PING,
    TEXT,
    RawSocket,
    deflated,
    frame,
    text,
)
from tests.abuse.served import error_lines, rss_mb
from tests.support import Api, ServerProcess
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

LIMIT = 64 * 1024
ROUNDS = 4
HUGE = "9" * 5000  # past Python's 4300-digit limit for int()


@dataclass
class World:
    server: ServerProcess
    api: Api
    alice: str
    room_id: int
    bystander: WsClient  # bob, in the room, who must not notice any of it
    sent: int = 0

    async def bystander_is_served(self) -> None:
        self.sent += 1
        body = f"still here {self.sent}"
        ack = await self.bystander.request(
            {"type": "send_message", "room_id": self.room_id, "body": body}
        )
        assert ack["type"] == "ack" and ack["message"]["body"] == body, ack
        new = await self.bystander.expect("new_message")
        assert new["message"]["body"] == body


@pytest.fixture
async def world(settings) -> AsyncIterator[World]:
    server = ServerProcess(settings, CHATD_LOG_FORMAT="json", CHATD_WS_COMPRESSION="1")
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(session, base_url=server.url)
            alice, bob = await api.user_token("alice"), await api.user_token("bob")
            room_id = await api.create_room(bob)
            await api.join(alice, room_id)
            bystander = await WsClient.connect(server.url, bob, session=session)
            yield World(server, api, alice, room_id, bystander)
            await bystander.close()
    finally:
        assert server.stop() == 0, server.output()


def closing_attacks() -> list[tuple[str, str | None, bool, bytes, int]]:
    """(name, extensions offered, authenticate first, bytes sent, close code expected)"""
    bomb = deflated(b" " * (50 << 20))  # 50 MiB that deflate to ~50 KiB
    assert len(bomb) < LIMIT
    return [
        ("text frame of 64 KiB + 1", None, True, text("x" * (LIMIT + 1)), 1009),
        ("length field of 2**62", None, True, struct.pack("!BBQ", 0x81, 0xFF, 1 << 62), 1009),
        (
            "fragments adding up past 64 KiB",
            None,
            True,
            frame(TEXT, b"x" * 40_000, fin=False) + frame(CONTINUATION, b"x" * 40_000),
            1009,
        ),
        ("deflate bomb, 50 MiB in 50 KiB", DEFLATE, True, frame(TEXT, bomb, rsv1=True), 1009),
        ("deflate bomb before auth", DEFLATE, False, frame(TEXT, bomb, rsv1=True), 1009),
        ("compressed frame, not negotiated", None, True, frame(TEXT, bomb, rsv1=True), 1002),
        ("invalid UTF-8", None, True, frame(TEXT, b'{"type": "\xff\xfe"}'), 1007),
        ("invalid UTF-8 before auth", None, False, frame(TEXT, b"\xc3\x28"), 1007),
        ("binary frame", None, True, frame(BINARY, b'{"type": "typing"}'), 1003),
        ("binary frame before auth", None, False, frame(BINARY, b"\x00" * 100), 1003),
        ("continuation with no start", None, True, frame(CONTINUATION, b"abc"), 1002),
        ("reserved opcode 3", None, True, frame(0x3, b"abc"), 1002),
        ("ping of 200 bytes", None, True, frame(PING, b"x" * 200), 1002),
        ("close with code 999", None, True, frame(CLOSE, struct.pack("!H", 999)), 1002),
    ]


async def test_frames_that_close_the_socket(world, figure):
    attacks = closing_attacks()
    rss = []
    for _ in range(ROUNDS):
        for name, extensions, authenticate, data, code in attacks:
            sock = await RawSocket.open(world.server.port, extensions=extensions)
            try:
                assert sock.upgraded, (name, sock.head)
                assert (sock.inflate is not None) == (extensions == DEFLATE), (name, sock.head)
                if authenticate:
                    await sock.auth(world.alice)
                await sock.send(data)
                assert await sock.close_code() == code, name
            finally:
                sock.close()
            await world.bystander_is_served()
        rss.append(rss_mb(world.server))

    errors = error_lines(world.server)
    assert errors == []
    sent = ROUNDS * len(attacks)
    growth = rss[-1] - rss[0]  # after the first round: what the attacks keep, not warm-up
    figure(
        f"unhandled exceptions {len(errors)} of {sent} hostile frames, "
        f"RSS growth {growth:.1f} MB over {ROUNDS - 1} rounds (peak {max(rss):.0f} MB)"
    )
    assert growth < 20


def error_frames(room_id: int) -> list[tuple[str, str]]:
    """(frame text, error code expected); the socket stays open after each."""
    join = '{"type": "join_room", "ref": 1, "room_id": %s}'
    send = f'{{"type": "send_message", "ref": 1, "room_id": {room_id}, "body": %s}}'
    cases = [
        (join % HUGE, "invalid_json"),  # a number json cannot read is not JSON to us
        *((join % value, "invalid_field") for value in BAD_IDS),
        *((send % value, "invalid_field") for value in BAD_STRINGS),
        ("[" * 30_000 + "]" * 30_000, "invalid_json"),
        ('{"a":' * 10_000 + "1" + "}" * 10_000, "invalid_json"),
        ('{"a":' * 500 + "1" + "}" * 500, "unknown_type"),  # deep, but not too deep to read
        ('{"type": "send_message", "body": ' + "[" * 20_000 + "]" * 20_000 + "}", "invalid_json"),
        *(('{"type": ' + kind + ', "ref": 1}', "unknown_type") for kind in BAD_TYPES),
        ('{"type": "resume", "ref": 1, "rooms": {"1": 1e400}}', "invalid_field"),
        ('{"type": "resume", "ref": 1, "rooms": {"' + HUGE[:4000] + '": 1}}', "invalid_field"),
        ('{"type": "resume", "ref": 1, "rooms": {"-1": 1}}', "invalid_field"),
        ('{"type": "auth", "ref": 1, "token": {"alg": "none"}}', "invalid_field"),
        ('{"type": "typing", "ref": 1, "room_id": 1, "room_id": "x"}', "invalid_field"),
    ]
    return cases


BAD_IDS = [
    "-1",
    "0",
    "-0",
    "1.0",
    "1.5",
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "-Infinity",
    str(2**63),
    str(10**30),
    '"1"',
    "null",
    "true",
    "[1]",
    '{"id": 1}',
    HUGE[:4000],
]
BAD_STRINGS = ["5", "1e400", "NaN", "null", "true", '["hi"]', '{"text": "hi"}']
BAD_TYPES = [
    '""',
    '"AUTH"',
    '"__proto__"',
    '"constructor"',
    '"send_message\\u0000"',
    '"x' + "x" * 50_000 + '"',
    "5",
    "null",
    '["send_message"]',
    '{"type": "auth"}',
]


async def test_frames_answered_with_an_error(world, figure):
    sock = await RawSocket.open(world.server.port, extensions=DEFLATE)
    try:
        cases = await answered_with_errors(world, sock)
    finally:
        sock.close()
    errors = error_lines(world.server)
    assert errors == []
    figure(f"unhandled exceptions {len(errors)} of {len(cases)} malformed frames, all answered")


async def answered_with_errors(world: World, sock: RawSocket) -> list[tuple[str, str]]:
    await sock.auth(world.alice)
    cases = error_frames(world.room_id)
    for number, (data, code) in enumerate(cases, start=1):
        assert len(data.encode()) <= LIMIT, data[:60]
        # every other one compressed: the same answers whichever way a frame comes
        payload = data.encode()
        if number % 2:
            await sock.send(frame(TEXT, deflated(payload), rsv1=True))
        else:
            await sock.send(frame(TEXT, payload))
        reply = await sock.answer()
        assert (reply["type"], reply["code"]) == ("error", code), (data[:80], reply)
        assert len(reply["message"]) <= 200, reply["message"][:80]
        if number % 5 == 0:
            await world.bystander_is_served()

    ref = int(HUGE[:4000])  # a ref is any integer; it comes back as sent
    await sock.send(text(f'{{"type": "typing", "room_id": {world.room_id}, "ref": {ref}}}'))
    assert (await sock.answer()) == {"type": "ack", "ref": ref}
    send = {**SEND, "room_id": world.room_id}
    await sock.send(frame(TEXT, deflated(json.dumps(send).encode()), rsv1=True))
    acked = await sock.answer()
    assert acked["type"] == "ack" and acked["message"]["body"] == SEND["body"], acked
    return cases


SEND = {"type": "send_message", "room_id": 1, "body": "compressed and fine", "ref": "z"}


FLOOD = 5000


async def test_a_flood_of_frames(world, figure):
    """One client sends 5000 frames as fast as the socket takes them, reading its answers;
    another sends 50,000 and reads nothing. Bob, in the same room, is answered throughout."""
    before = rss_mb(world.server)
    reader = await RawSocket.open(world.server.port)
    silent = await RawSocket.open(world.server.port, receive_buffer=4096)
    try:
        await reader.auth(world.alice)
        await silent.auth(world.alice)
        flood = asyncio.gather(answered_flood(reader), unread_flood(silent))
        latencies = []
        while not flood.done():
            started = time.perf_counter()
            await world.bystander_is_served()
            latencies.append(time.perf_counter() - started)
        answered, code = await flood
    finally:
        reader.close()
        silent.close()

    assert answered == FLOOD
    assert code in {1013, None}  # the queue filled; None: even the close frame could not pass
    assert "chatd_ws_queue_overflows_total 1.0" in await metrics(world)
    errors = error_lines(world.server)
    assert errors == []
    slowest = max(latencies) * 1000
    growth = rss_mb(world.server) - before
    figure(
        f"flood answered {answered} of {FLOOD}; unread flood closed with {code}; "
        f"bystander ack max {slowest:.0f} ms over {len(latencies)} sends; "
        f"unhandled exceptions {len(errors)}; RSS growth {growth:.1f} MB"
    )
    assert growth < 30


async def answered_flood(sock: RawSocket, window: int = 250) -> int:
    """FLOOD frames, `window` at a time, each window sent in one write: a client that sends
    as fast as it can but reads its answers."""
    refs: set[int] = set()
    for start in range(0, FLOOD, window):
        batch = range(start, start + window)
        await sock.send(b"".join(text(f'{{"type": "dance", "ref": {n}}}') for n in batch))
        for _ in batch:
            reply = await sock.answer()
            assert reply["code"] == "unknown_type" and reply["ref"] not in refs
            refs.add(reply["ref"])
    return len(refs)


async def unread_flood(sock: RawSocket) -> int | None:
    """50,000 frames that each get an error, none of them read: the connection's queue fills."""
    batch = b"".join(text(f'{{"type": "dance", "ref": {n}}}') for n in range(1000))
    try:
        for _ in range(50):
            await sock.send(batch)
    except ConnectionError:
        pass  # closed under us: what we are waiting for
    return await sock.close_code(within=30)


async def metrics(world: World) -> str:
    async with world.api.client.get(f"{world.server.url}/metrics") as response:
        return await response.text()
