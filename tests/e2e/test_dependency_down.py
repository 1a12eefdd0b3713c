"""A dependency going down is a 503 with the error envelope, and chatd recovers when it is back."""

import asyncio
import dataclasses

import pytest

from chatd.app import create_app
from chatd.infrastructure.db import migrate
from tests.services import stop_postgres
from tests.support import Api

pytestmark = pytest.mark.slow


async def test_postgres_down_is_503_and_chatd_recovers(settings, own_postgres, aiohttp_client):
    url = own_postgres.get_uri()
    await migrate(url, settings.sql_dir)
    api = Api(await aiohttp_client(create_app(dataclasses.replace(settings, database_url=url))))
    token = await api.user_token("alice")

    await stop_postgres(own_postgres)
    status, body = await api.call("GET", "/api/me", token=token)
    assert (status, body["error"]["code"]) == (503, "unavailable")
    async with api.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 503 and int(response.headers["Retry-After"]) > 0
    status, body = await api.call("GET", "/readyz")
    assert status == 503 and body["checks"] == {"postgres": False, "redis": True}
    assert (await api.call("GET", "/healthz"))[0] == 200

    await asyncio.to_thread(own_postgres.ensure_postgres_running)
    status, body = await api.call("GET", "/api/me", token=token)
    assert (status, body["username"]) == (200, "alice")
    assert (await api.call("GET", "/readyz"))[0] == 200


async def test_redis_unreachable_makes_readyz_503(settings, aiohttp_client):
    app = create_app(dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0"))
    api = Api(await aiohttp_client(app))
    status, body = await api.call("GET", "/readyz")
    assert status == 503 and body == {
        "status": "unavailable",
        "checks": {"postgres": True, "redis": False},
    }
