"""A message the server refuses keeps its draft: nothing is stored and the text is not lost."""

import dataclasses

import pytest
from playwright.async_api import Page

from chatd.app import create_app
from chatd.config import Settings
from tests.browser.helpers import create_room, send, shown_bodies, sign_up, until_shown
from tests.support import Api

pytestmark = pytest.mark.slow


@pytest.fixture
async def server_url(settings: Settings, aiohttp_client) -> str:
    """The app with a rate limit of 2 messages per 10 s."""
    app = create_app(dataclasses.replace(settings, message_rate=2))
    return Api(await aiohttp_client(app)).base_url


async def test_a_rate_limited_message_keeps_its_draft(page: Page) -> None:
    await sign_up(page, "alice")
    await create_room(page, "general")
    await send(page, "one")
    await send(page, "two")

    await page.fill("#body", "three, refused")
    await page.press("#body", "Enter")

    await page.wait_for_selector("#chat-error:has-text('sending too fast')")
    assert await page.input_value("#body") == "three, refused"
    assert await shown_bodies(page) == ["one", "two"]
    assert await page.is_enabled("#send")  # the person may try again


async def test_whitespace_only_is_not_sent_and_stays(page: Page) -> None:
    await sign_up(page, "alice")
    await create_room(page, "general")

    await page.fill("#body", "   \n  ")
    assert await page.is_disabled("#send")
    await page.press("#body", "Enter")
    await send(page, "real")  # the next message is the first one stored

    assert await shown_bodies(page) == ["real"]


async def test_a_draft_survives_leaving_elsewhere_and_rejoining(
    page: Page, settings: Settings, aiohttp_client
) -> None:
    await sign_up(page, "alice")
    room_id = await create_room(page, "general")
    await page.fill("#body", "half-written thought")

    # alice leaves in another tab: this one hides the box, and keeps what she wrote.
    other_tab = Api(await aiohttp_client(create_app(settings)))
    token = (await other_tab.login("alice"))["access_token"]
    status, _ = await other_tab.call("POST", f"/api/rooms/{room_id}/leave", token=token)
    assert status == 204
    await page.wait_for_selector("#join", state="visible")
    assert await page.is_hidden("#composer")

    await page.click("#join")
    await until_shown(page, 2)  # "alice joined" (after "alice left")
    assert await page.input_value("#body") == "half-written thought"
