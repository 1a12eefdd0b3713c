"""CHATD_REDIS_CLUSTER: off by default, on for 1/true/yes, and refused without REDIS_URL."""

import pytest

from chatd.config import ConfigError, Settings

SECRET = "s" * 40


def test_the_single_redis_is_the_default():
    assert Settings.from_env({}).redis_cluster is False


@pytest.mark.parametrize("value", ["1", "true", "yes", "TRUE"])
def test_cluster_mode_is_switched_on(value):
    env = {"CHATD_REDIS_CLUSTER": value, "REDIS_URL": "redis://node:7000/0"}
    assert Settings.from_env(env).redis_cluster is True


def test_cluster_mode_needs_a_node_to_start_from():
    env = {
        "CHATD_REDIS_CLUSTER": "1",
        "DATABASE_URL": "postgresql://db/x",
        "CHATD_JWT_SECRET": SECRET,
    }
    with pytest.raises(ConfigError, match="REDIS_URL"):
        Settings.from_env(env).check_can_serve()
