"""CHATD_WS_HEARTBEAT and CHATD_REDIS_HEALTH_INTERVAL: how often chatd checks that a client
socket and its Redis connection still answer."""

import pytest

from chatd.config import ConfigError, Settings


def test_defaults():
    settings = Settings.from_env({})
    assert (settings.ws_heartbeat, settings.redis_health_interval) == (30, 5)


def test_set_from_the_environment():
    env = {"CHATD_WS_HEARTBEAT": "2", "CHATD_REDIS_HEALTH_INTERVAL": "1"}
    settings = Settings.from_env(env)
    assert (settings.ws_heartbeat, settings.redis_health_interval) == (2, 1)


@pytest.mark.parametrize("name", ["CHATD_WS_HEARTBEAT", "CHATD_REDIS_HEALTH_INTERVAL"])
@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_value_stops_the_process(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
