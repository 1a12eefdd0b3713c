"""bcrypt at its production cost never holds up other requests."""

import asyncio
import dataclasses

import pytest

from chatd.app import create_app
from tests.support import Api

LOGINS = 8


@pytest.fixture
async def production_cost_api(settings, aiohttp_client) -> Api:
    return Api(await aiohttp_client(create_app(dataclasses.replace(settings, bcrypt_rounds=12))))


async def test_a_request_is_answered_while_eight_logins_hash(production_cost_api):
    api = production_cost_api
    token = await api.user_token("alice")
    logins = [asyncio.create_task(api.login("alice")) for _ in range(LOGINS)]
    await asyncio.sleep(0.1)  # let the eight requests reach the server and start hashing
    assert not any(login.done() for login in logins)

    status, me = await api.call("GET", "/api/me", token=token)

    assert (status, me["username"]) == (200, "alice")
    still_hashing = sum(not login.done() for login in logins)
    assert still_hashing == LOGINS, "/api/me waited for a login's bcrypt"
    results = await asyncio.gather(*logins)
    assert all(result["access_token"] for result in results)
