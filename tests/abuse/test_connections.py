"""Connections that hold on without doing anything: 2,000 sockets that never authenticate, and
slowloris clients that never finish a request. Each is closed on time, and an honest client is
served meanwhile."""

import asyncio
import resource
import time
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from tests.abuse.rawframes import RawSocket
from tests.abuse.served import error_lines, rss_mb
from tests.support import Api, ServerProcess
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

IDLE_SOCKETS = 2000
AUTH_TIMEOUT = 5  # CHATD_WS_AUTH_TIMEOUT for the test
SLOWLORIS = 200
IDLE_TIMEOUT = 3  # CHATD_HTTP_IDLE_TIMEOUT for the test
SLACK = 10.0  # seconds past a timeout still counted as on time (2 shared cores)


def raise_open_files_limit(needed: int) -> int:
    """Raise this process's soft limit on open files (children inherit it) up to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert soft >= needed, f"open files limit {soft} < {needed}: cannot run this test here"
    return soft


class Honest:
    """A signed-in user who keeps asking (a WS send, then a REST read) and times each answer."""

    def __init__(self, api: Api, client: WsClient, token: str, room_id: int) -> None:
        self.api, self.client, self.token, self.room_id = api, client, token, room_id
        self.latencies: list[float] = []

    async def ask_until(self, done: Callable[[], bool]) -> None:
        while not done():
            await self._timed(self._send)
            await self._timed(self._read)

    async def _timed(self, ask: Callable[[], Awaitable[None]]) -> None:
        started = time.perf_counter()
        await ask()
        self.latencies.append(time.perf_counter() - started)

    async def _send(self) -> None:
        body = f"honest {len(self.latencies)}"
        ack = await self.client.request(
            {"type": "send_message", "room_id": self.room_id, "body": body}
        )
        assert ack["type"] == "ack", ack

    async def _read(self) -> None:
        status, _ = await self.api.call("GET", "/api/me", token=self.token)
        assert status == 200

    def p99_ms(self) -> float:
        assert len(self.latencies) >= 10, self.latencies
        return sorted(self.latencies)[int(len(self.latencies) * 0.99)] * 1000


async def serve_honest(server: ServerProcess, session: aiohttp.ClientSession) -> Honest:
    api = Api(session, base_url=server.url)
    token = await api.user_token("honest")
    room_id = await api.create_room(token)
    client = await WsClient.connect(server.url, token, session=session)
    return Honest(api, client, token, room_id)


async def test_sockets_that_never_authenticate_are_closed_on_time(settings, figure):
    raise_open_files_limit(2 * IDLE_SOCKETS + 1000)
    server = ServerProcess(
        settings, CHATD_LOG_FORMAT="json", CHATD_WS_AUTH_TIMEOUT=str(AUTH_TIMEOUT)
    )
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            honest = await serve_honest(server, session)
            before = rss_mb(server)
            outcome = await idle_attack(server, honest)
            await honest.client.close()
        errors = error_lines(server)
    finally:
        assert server.stop() == 0, server.output()

    codes, lateness, peak, peak_rss = outcome
    assert codes == {4401: IDLE_SOCKETS}, codes
    assert max(lateness) < SLACK, max(lateness)
    assert errors == []
    figure(
        f"{IDLE_SOCKETS} idle sockets ({peak} open at once) closed 4401 at most "
        f"{AUTH_TIMEOUT + max(lateness):.1f} s after opening (timeout {AUTH_TIMEOUT} s); "
        f"served p99 under attack {honest.p99_ms():.0f} ms over {len(honest.latencies)} "
        f"requests; RSS +{peak_rss - before:.0f} MB at the peak"
    )
    assert honest.p99_ms() < 3000


async def idle_attack(
    server: ServerProcess, honest: Honest
) -> tuple[dict[int | None, int], list[float], int, float]:
    codes: dict[int | None, int] = {}
    lateness: list[float] = []  # seconds each socket outlived the auth timeout
    opened = asyncio.Semaphore(100)  # handshakes in flight at once
    live = peak = 0
    peak_rss = 0.0

    async def idle() -> None:
        nonlocal live, peak, peak_rss
        async with opened:
            sock = await RawSocket.open(server.port)
        started = time.monotonic()
        live += 1
        if live > peak:
            peak, peak_rss = live, max(peak_rss, rss_mb(server))
        try:
            code = await sock.close_code(within=AUTH_TIMEOUT + 60)
        finally:
            live -= 1
            sock.close()
        codes[code] = codes.get(code, 0) + 1
        lateness.append(time.monotonic() - started - AUTH_TIMEOUT)

    attack = asyncio.gather(*(idle() for _ in range(IDLE_SOCKETS)))
    await honest.ask_until(attack.done)
    await attack
    return codes, lateness, peak, peak_rss


HEADERS_TRICKLED = (b"", b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-A: a\r\n" * 1000)
BODY_TRICKLED = (
    b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n"
    b"Content-Type: application/json\r\n\r\n",
    b'{"username": "' + b"a" * 99_000,
)


async def test_slowloris_clients_are_closed_on_time(settings, figure):
    """Half the clients send their headers a byte at a time, half their body."""
    raise_open_files_limit(2 * SLOWLORIS + 1000)
    server = ServerProcess(
        settings, CHATD_LOG_FORMAT="json", CHATD_HTTP_IDLE_TIMEOUT=str(IDLE_TIMEOUT)
    )
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            honest = await serve_honest(server, session)
            held, answers = await slowloris_attack(server, honest)
            await honest.client.close()
        assert error_lines(server) == []
    finally:
        assert server.stop() == 0, server.output()

    unclosed = SLOWLORIS - len(held)
    assert unclosed == 0, f"{unclosed} still open after {IDLE_TIMEOUT + SLACK} s"
    # The trickled bodies are answered 408 request_timeout; trickled headers get no answer.
    assert answers.count(b"HTTP/1.1 408") == SLOWLORIS // 2, answers[:3]
    figure(
        f"{SLOWLORIS} slowloris clients (half trickling headers, half a body) closed at most "
        f"{max(held):.1f} s after connecting (CHATD_HTTP_IDLE_TIMEOUT={IDLE_TIMEOUT}); "
        f"served p99 under attack {honest.p99_ms():.0f} ms over {len(honest.latencies)} requests"
    )
    assert honest.p99_ms() < 3000


async def slowloris_attack(
    server: ServerProcess, honest: Honest
) -> tuple[list[float], list[bytes]]:
    held: list[float] = []  # seconds from connecting until the server hung up
    answers: list[bytes] = []  # the start of what the server said before hanging up

    async def trickle(head: bytes, tail: bytes) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        started = time.monotonic()
        got = bytearray()
        try:
            writer.write(head)
            for byte in tail:
                writer.write(bytes([byte]))
                await writer.drain()
                if await _hung_up(reader, got, within=0.1):
                    held.append(time.monotonic() - started)
                    return
                if time.monotonic() - started > IDLE_TIMEOUT + SLACK:
                    return  # still open: not counted as closed
        except ConnectionError:
            held.append(time.monotonic() - started)  # hung up while we wrote
        finally:
            answers.append(bytes(got[:12]))
            writer.close()

    kinds = [HEADERS_TRICKLED, BODY_TRICKLED] * (SLOWLORIS // 2)
    attack = asyncio.gather(*(trickle(*kind) for kind in kinds))
    await honest.ask_until(attack.done)
    await attack
    return held, answers


async def _hung_up(reader: asyncio.StreamReader, got: bytearray, within: float) -> bool:
    """Whether the server closed the connection; what it sent is added to `got`."""
    try:
        data = await asyncio.wait_for(reader.read(4096), within)
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    got += data
    return data == b"" or reader.at_eof()
