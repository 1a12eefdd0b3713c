import tempfile
from collections.abc import Iterator

import pgserver
import pytest


@pytest.fixture
def own_postgres() -> Iterator[pgserver.PostgresServer]:
    """A PostgreSQL of the test's own, so that stopping it harms no other test."""
    server = pgserver.get_server(
        tempfile.mkdtemp(prefix="chatd-test-own-pg-"), cleanup_mode="delete"
    )
    yield server
    server.cleanup()


@pytest.fixture
async def alice(api) -> str:
    """alice's access token."""
    return await api.user_token("alice")


@pytest.fixture
async def bob(api) -> str:
    return await api.user_token("bob")


@pytest.fixture
async def room(api, alice) -> dict:
    """A room owned by alice."""
    status, room = await api.call("POST", "/api/rooms", token=alice, json={"name": "general"})
    assert status == 201
    return room
