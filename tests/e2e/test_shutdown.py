"""SIGTERM on a real `chatd serve`: a request in flight is still answered, then the process
exits 0."""

import asyncio
import signal

import aiohttp
import pytest

from tests.scrape import scrape_until
from tests.support import ServerProcess

pytestmark = pytest.mark.slow


async def test_a_request_in_flight_at_sigterm_is_answered_and_the_process_exits_0(settings):
    # bcrypt at cost 15 takes seconds: the registration is still hashing when the signal comes.
    env = {"CHATD_BCRYPT_ROUNDS": "15", "CHATD_SHUTDOWN_TIMEOUT": "30"}
    server = await ServerProcess(settings, **env).start()
    try:
        async with aiohttp.ClientSession() as session:

            async def register() -> int:
                body = {"username": "slowpoke", "password": "correct horse"}
                async with session.post(f"{server.url}/api/auth/register", json=body) as r:
                    return r.status

            registering = asyncio.create_task(register())
            in_flight = ("chatd_http_requests_in_flight",)
            # 2: the registration and this scrape itself
            await scrape_until(session, lambda s: s[in_flight] >= 2, url=f"{server.url}/metrics")
            server.process.send_signal(signal.SIGTERM)
            assert await registering == 201
        assert await asyncio.to_thread(server.process.wait, 30) == 0, server.output()
    finally:
        server.stop()
