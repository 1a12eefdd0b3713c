"""A 3-master Redis Cluster (Debian's redis-server 7) for the suite, and the settings of chatd
processes that use it (CHATD_REDIS_CLUSTER=1). Without /usr/bin/redis-server the tests are
skipped with the reason, unless CHATD_REQUIRE_REDIS_CLUSTER=1 (CI) makes that a failure."""

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio.cluster import RedisCluster

from chatd.bench.redis_nodes import RedisClusterNodes, cluster_binaries_missing, redis_cluster
from chatd.config import Settings
from tests.conftest import TEST_SECRET


@pytest.fixture(scope="session")
def redis_cluster_nodes() -> Iterator[RedisClusterNodes]:
    if missing := cluster_binaries_missing():
        if os.environ.get("CHATD_REQUIRE_REDIS_CLUSTER") == "1":
            pytest.fail(f"CHATD_REQUIRE_REDIS_CLUSTER=1 but {missing}")
        pytest.skip(f"Redis Cluster tests skipped: {missing}")
    with redis_cluster() as nodes:
        yield nodes


@pytest.fixture
async def cluster_client(redis_cluster_nodes: RedisClusterNodes) -> AsyncIterator[RedisCluster]:
    """The cluster, emptied: a client of the test's own."""
    redis_cluster_nodes.wait_ok()
    client = RedisCluster.from_url(redis_cluster_nodes.url, require_full_coverage=False)
    await client.initialize()
    await client.flushall(target_nodes=RedisCluster.PRIMARIES)
    yield client
    await client.aclose()


@pytest.fixture
def cluster_settings(database_url: str, cluster_client, redis_cluster_nodes, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_cluster_nodes.url,
        redis_cluster=True,
        jwt_secret=TEST_SECRET,
        bcrypt_rounds=4,
        message_rate=0,
        room_rate=0,
        join_rate=0,
        data_dir=tmp_path / "chatd",
    )
