"""The real `chatd serve` in a subprocess, as a user runs it."""

import aiohttp
import pytest

from tests.support import ServerProcess

pytestmark = pytest.mark.slow


async def test_serve_answers_the_auth_flow_and_stops_cleanly(settings):
    server = await ServerProcess(settings).start()
    try:
        async with aiohttp.ClientSession(base_url=server.url) as http:
            async with http.get("/readyz") as response:
                assert response.status == 200
                assert (await response.json())["checks"] == {"postgres": True, "redis": True}
            credentials = {"username": "alice", "password": "correct horse"}
            async with http.post("/api/auth/register", json=credentials) as response:
                assert response.status == 201
            async with http.post("/api/auth/login", json=credentials) as response:
                pair = await response.json()
            headers = {"Authorization": f"Bearer {pair['access_token']}"}
            async with http.get("/api/me", headers=headers) as response:
                assert (await response.json())["username"] == "alice"
            async with http.get("/") as response:
                assert response.status == 200 and "chatd" in await response.text()
    finally:
        returncode = server.stop()
    assert returncode == 0, server.output()


async def test_serve_refuses_to_start_without_a_secret_outside_embedded_mode(settings):
    server = ServerProcess(settings, CHATD_JWT_SECRET="")
    try:
        await server.start(wait_seconds=10)
    except RuntimeError as error:
        assert "CHATD_JWT_SECRET is required" in str(error)
    else:
        server.stop()
        raise AssertionError("chatd serve started without a JWT secret")
