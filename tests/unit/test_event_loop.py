"""CHATD_UVLOOP chooses the event loop `chatd serve` runs on."""

import asyncio

import uvloop

from chatd.cli import event_loop_runner
from chatd.config import Settings


def test_plain_asyncio_unless_asked():
    assert Settings.from_env({}).uvloop is False
    assert event_loop_runner(Settings.from_env({})) is asyncio.run


def test_uvloop_when_asked():
    settings = Settings.from_env({"CHATD_UVLOOP": "1"})
    assert settings.uvloop is True
    assert event_loop_runner(settings) is uvloop.run
