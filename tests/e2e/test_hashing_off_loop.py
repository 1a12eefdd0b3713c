"""bcrypt at its production cost never holds up other requests."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from chatd.app import create_app
from chatd.infrastructure.security import BcryptHasher
from tests.support import Api

pytestmark = pytest.mark.slow

LOGINS = 8


class WatchedHasher:
    """The real bcrypt hasher, telling when `expected` checks are under way at once."""

    def __init__(self, hasher: BcryptHasher, *, expected: int) -> None:
        self._hasher = hasher
        self._expected = expected
        self._checking = 0
        self.all_checking = asyncio.Event()

    async def hash(self, password: str) -> bytes:
        return await self._hasher.hash(password)

    async def verify(self, password: str, password_hash: bytes | None) -> bool:
        self._checking += 1
        if self._checking == self._expected:
            self.all_checking.set()
        try:
            return await self._hasher.verify(password, password_hash)
        finally:
            self._checking -= 1


async def test_a_request_is_answered_while_eight_logins_hash(settings, aiohttp_client):
    with ThreadPoolExecutor(4) as executor:
        hasher = WatchedHasher(BcryptHasher(rounds=12, executor=executor), expected=LOGINS)
        api = Api(await aiohttp_client(create_app(settings, hasher=hasher)))
        token = await api.user_token("alice")
        logins = [asyncio.create_task(api.login("alice")) for _ in range(LOGINS)]
        async with asyncio.timeout(10):
            await hasher.all_checking.wait()  # all eight are hashing now

        status, me = await api.call("GET", "/api/me", token=token)

        assert (status, me["username"]) == (200, "alice")
        still_hashing = sum(not login.done() for login in logins)
        assert still_hashing == LOGINS, "/api/me waited for a login's bcrypt"
        results = await asyncio.gather(*logins)
        assert all(result["access_token"] for result in results)
