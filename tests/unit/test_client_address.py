"""The client's address behind proxies (CHATD_TRUSTED_PROXIES) and the operations settings."""

from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from chatd.config import ConfigError, Settings
from chatd.interfaces.http import client_address
from chatd.interfaces.keys import SETTINGS


def request_from(peer: str, *forwarded: str, trusted: str = "") -> web.Request:
    app = web.Application()
    app[SETTINGS] = Settings.from_env({"CHATD_TRUSTED_PROXIES": trusted})
    headers = [("X-Forwarded-For", value) for value in forwarded]
    transport = mock.Mock()
    transport.get_extra_info.return_value = (peer, 40000)
    return make_mocked_request(
        "POST", "/api/auth/login", headers=headers, app=app, transport=transport
    )


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_address(request_from("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_a_trusted_proxy_passes_the_client_on():
    request = request_from("127.0.0.1", "203.0.113.1", trusted="127.0.0.1")
    assert client_address(request) == "203.0.113.1"


def test_what_the_client_wrote_itself_is_not_believed():
    # The client sent "X-Forwarded-For: 10.9.9.9"; nginx appended the address it saw.
    request = request_from("127.0.0.1", "10.9.9.9, 203.0.113.1", trusted="127.0.0.1")
    assert client_address(request) == "203.0.113.1"


def test_a_chain_of_trusted_proxies_is_walked_right_to_left():
    request = request_from(
        "10.0.0.2", "203.0.113.1, 10.0.0.9", "10.0.0.5", trusted="10.0.0.0/8, 127.0.0.1"
    )
    assert client_address(request) == "203.0.113.1"


def test_an_untrusted_peer_is_the_client_whatever_it_forwards():
    request = request_from("198.51.100.7", "203.0.113.1", trusted="10.0.0.0/8")
    assert client_address(request) == "198.51.100.7"


@pytest.mark.parametrize("garbage", ["not-an-ip", "", "203.0.113.1:443", "unknown"])
def test_a_malformed_hop_stops_the_walk_at_the_last_known_address(garbage):
    request = request_from("127.0.0.1", f"203.0.113.1, {garbage}", trusted="127.0.0.1")
    assert client_address(request) == "127.0.0.1"


def test_ipv6_and_ipv4_mapped_peers():
    assert client_address(request_from("::1", "2001:db8::5", trusted="::1")) == "2001:db8::5"
    mapped = request_from("::ffff:127.0.0.1", "203.0.113.1", trusted="127.0.0.1")
    assert client_address(mapped) == "203.0.113.1"


def test_all_hops_trusted_gives_the_leftmost():
    request = request_from("127.0.0.1", "10.0.0.1, 10.0.0.2", trusted="127.0.0.1, 10.0.0.0/8")
    assert client_address(request) == "10.0.0.1"


def test_operations_settings_parse_and_refuse_bad_values():
    settings = Settings.from_env(
        {
            "CHATD_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8, ::1",
            "CHATD_LOG_FORMAT": "JSON",
            "CHATD_SHUTDOWN_TIMEOUT": "3",
        }
    )
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert (settings.log_format, settings.shutdown_timeout) == ("json", 3)
    defaults = Settings.from_env({})
    assert (defaults.trusted_proxies, defaults.log_format, defaults.shutdown_timeout) == (
        (),
        "text",
        10,
    )
    for bad in (
        {"CHATD_TRUSTED_PROXIES": "nginx"},
        {"CHATD_TRUSTED_PROXIES": "10.0.0.1/8"},
        {"CHATD_LOG_FORMAT": "xml"},
        {"CHATD_SHUTDOWN_TIMEOUT": "0"},
    ):
        with pytest.raises(ConfigError):
            Settings.from_env(bad)
