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
