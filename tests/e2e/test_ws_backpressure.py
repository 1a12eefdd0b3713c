"""A client that stops reading is dropped; the others get everything; memory stays bounded."""

import asyncio
from pathlib import Path

import aiohttp
import pytest

from tests.rawws import RawWs
from tests.support import Api, ServerProcess
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

TOTAL = 2000
READERS = 20
WINDOW = 200  # the sender stays at most this far ahead of the slowest reading client
BODY = "x" * 3990  # big frames, so the one that never reads fills its buffers and queue fast
RSS_GROWTH_LIMIT = 100 * 1024 * 1024


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Progress:
    """How far each reader has got; the sender waits on it to stay within WINDOW."""

    def __init__(self) -> None:
        self.counts = [0] * READERS
        self.moved = asyncio.Event()

    async def wait_until_within(self, sent: int) -> None:
        while sent - min(self.counts) > WINDOW:
            self.moved.clear()
            await self.moved.wait()


async def read_messages(client: WsClient, progress: Progress, index: int) -> list[int]:
    got: list[int] = []
    while len(got) < TOTAL:
        frame = await client.recv(60)
        if frame["type"] == "new_message":
            got.append(frame["message"]["seq"])
            progress.counts[index] = len(got)
            progress.moved.set()
    return got


async def test_a_client_that_never_reads_is_dropped_and_the_rest_get_everything(settings):
    server = await ServerProcess(settings, CHATD_MESSAGE_RATE="0").start()
    try:
        async with aiohttp.ClientSession() as session:
            await run_scenario(server, session)
    finally:
        assert server.stop() == 0, server.output()


async def run_scenario(server: ServerProcess, session: aiohttp.ClientSession) -> None:
    http = Api(session, base_url=server.url)
    owner = await http.user_token("owner")
    room_id = await http.create_room(owner)
    tokens = [await http.user_token(f"reader{n}") for n in range(READERS + 1)]
    for token in tokens:
        await http.join(token, room_id)
    first = len(tokens) + 1
    readers = [await WsClient.connect(server.url, t, session=session) for t in tokens[1:]]
    slow = await asyncio.to_thread(RawWs, "127.0.0.1", server.port)
    await asyncio.to_thread(slow.send_json, {"type": "auth", "token": tokens[0]})
    sender = await WsClient.connect(server.url, owner, session=session)
    rss_before = rss_bytes(server.process.pid)

    progress = Progress()
    reading = [asyncio.create_task(read_messages(r, progress, i)) for i, r in enumerate(readers)]
    acks = asyncio.create_task(count_acks(sender))
    async with asyncio.timeout(180):
        for n in range(TOTAL):
            await progress.wait_until_within(n)
            await sender.send({"type": "send_message", "room_id": room_id, "body": f"{BODY}{n}"})
        results = await asyncio.gather(*reading)
        await acks
    rss_after = rss_bytes(server.process.pid)

    for seqs in results:
        assert seqs == list(range(first, first + TOTAL))
    frames, close_code, ended = await asyncio.to_thread(slow.read_to_end)
    slow.close()
    slow_seqs = [f["message"]["seq"] for f in frames if f["type"] == "new_message"]
    assert ended, f"the client that never read is still connected after {len(slow_seqs)}"
    assert close_code in {1013, None}, "1013, or no close frame when it can't get through"
    assert frames[0]["type"] == "ready"
    assert len(slow_seqs) < TOTAL
    assert slow_seqs == list(range(first, first + len(slow_seqs)))
    assert rss_after - rss_before < RSS_GROWTH_LIMIT, (rss_before, rss_after)
    for client in (*readers, sender):
        await client.ws.close()


async def count_acks(sender: WsClient) -> None:
    acked = 0
    while acked < TOTAL:
        frame = await sender.recv(60)
        assert frame["type"] != "error", frame
        acked += frame["type"] == "ack"
