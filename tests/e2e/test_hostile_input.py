"""Inputs that once got a 500 (or a WS 1011): each now gets its documented error."""

import asyncpg
import pytest

from chatd.domain.errors import Unavailable
from chatd.infrastructure.outages import unavailable_on_outage
from tests.wsclient import WsClient


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "\ud800 x" * 3),
        ("alice\u0000", "correct horse"),
        ("\udfff", "correct horse"),
        ("x" * 5000, "correct horse"),
        ("", ""),
    ],
)
async def test_hostile_logins_are_just_wrong_credentials(api, username, password):
    await api.register("alice")
    status, body = await api.call(
        "POST", "/api/auth/login", json={"username": username, "password": password}
    )
    assert (status, body["error"]["code"]) == (401, "invalid_credentials")


@pytest.mark.parametrize("username", ["alice", "nobody"])
async def test_a_password_over_72_bytes_is_a_wrong_password(api, alice, username):
    for password in ("x" * 73, "é" * 37, "x" * 4000):
        status, body = await api.call(
            "POST", "/api/auth/login", json={"username": username, "password": password}
        )
        assert (status, body["error"]["code"]) == (401, "invalid_credentials")


@pytest.mark.parametrize("route", ["/api/auth/refresh", "/api/auth/logout"])
async def test_a_refresh_token_that_is_not_text_is_invalid(api, route):
    for token in ("\ud800", "eyJ\ud800.x.y"):
        status, body = await api.call("POST", route, json={"refresh_token": token})
        assert (status, body["error"]["code"]) == (401, "invalid_token")


async def test_an_access_token_that_is_not_text_is_refused(api):
    client = await WsClient.connect(api.base_url)
    await client.send({"type": "auth", "token": "a\ud800"})
    assert await client.closed() == 4401
    await client.close()
    async with api.client.get("/api/me", headers={"Authorization": "Bearer a\udc80"}) as response:
        assert response.status in {400, 401}  # aiohttp may refuse the header itself


async def test_a_connection_broken_under_a_query_is_unavailable():
    """asyncpg's 'cannot switch to state ...' when PostgreSQL terminates a backend mid-query."""

    @unavailable_on_outage
    class Repo:
        async def get(self) -> None:
            raise asyncpg.InternalClientError("cannot switch to state 12")

    with pytest.raises(Unavailable):
        await Repo().get()
