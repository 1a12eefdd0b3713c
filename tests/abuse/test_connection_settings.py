"""The two timeouts that bound what an idle or slow connection can hold."""

import pytest

from chatd.config import ConfigError, Settings


def test_connection_timeouts_parse_and_refuse_bad_values():
    settings = Settings.from_env({"CHATD_WS_AUTH_TIMEOUT": "3", "CHATD_HTTP_IDLE_TIMEOUT": "5"})
    assert (settings.ws_auth_timeout, settings.http_idle_timeout) == (3, 5)
    defaults = Settings.from_env({})
    assert (defaults.ws_auth_timeout, defaults.http_idle_timeout) == (10, 60)
    for name in ("CHATD_WS_AUTH_TIMEOUT", "CHATD_HTTP_IDLE_TIMEOUT"):
        for bad in ("0", "-1", "1.5", "soon", "3601"):
            with pytest.raises(ConfigError):
                Settings.from_env({name: bad})
