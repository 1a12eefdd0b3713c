"""The fault suites' fixtures: private servers to kill and the TCP proxy. Each test states its
figures (`[lost 0 of 10000, ...]`) with the `figure` fixture of tests/conftest.py."""

import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.proxy import TcpProxy
from tests.faults.servers import PostgresProcess
from tests.services import RedisProcess


@pytest.fixture
async def private_redis() -> AsyncIterator[RedisProcess]:
    server = RedisProcess(Path(tempfile.mkdtemp(prefix="chatd-fault-redis-")))
    await server.start()
    yield server
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture
async def private_postgres(settings) -> AsyncIterator[PostgresProcess]:
    server = PostgresProcess()
    try:
        await server.migrate(settings.sql_dir)
        yield server
    finally:
        server.cleanup()


@pytest.fixture
async def proxies() -> AsyncIterator[Callable[..., TcpProxy]]:
    """proxies(upstream_host=…, upstream_port=…) or proxies(unix=…): a started TcpProxy,
    closed after the test."""
    made: list[TcpProxy] = []

    async def make(**upstream) -> TcpProxy:
        made.append(await TcpProxy(**upstream).start())
        return made[-1]

    yield make
    for proxy in made:
        await proxy.aclose()


@pytest.fixture(autouse=True)
def _slow_only(request) -> Iterator[None]:
    assert request.node.get_closest_marker("slow"), "every fault test is marked slow"
    yield
