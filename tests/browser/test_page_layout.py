"""The layout at desktop and phone width: long names never push Send or Leave off-screen, and
at 375 px the sidebar folds away and nothing scrolls sideways."""

import pytest
from playwright.async_api import Page

from tests.browser.conftest import OpenPage
from tests.browser.helpers import create_room, send, sign_up

pytestmark = pytest.mark.slow

LONG_NAME = "x" * 100  # the longest room name, without a space to break it
PAGE_WIDTH = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"


async def assert_on_screen(page: Page, selector: str, width: int) -> None:
    assert await page.is_visible(selector), f"{selector} is not visible"
    box = await page.locator(selector).bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{selector} is cut off: {box}"


async def test_a_long_room_name_leaves_send_on_screen_at_1280(open_page: OpenPage) -> None:
    page = await open_page(viewport={"width": 1280, "height": 800})
    await sign_up(page, "alice")
    await create_room(page, LONG_NAME)
    await send(page, "y" * 300)  # and a long unbroken message

    assert await page.evaluate(PAGE_WIDTH) <= 1280
    for selector in ("#send", "#leave", "#logout", "#body"):
        await assert_on_screen(page, selector, 1280)
    assert await page.text_content("#room-title") == LONG_NAME  # whole, only ellipsed


async def test_phone_width_folds_the_sidebar_and_never_scrolls_sideways(
    open_page: OpenPage,
) -> None:
    page = await open_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    await sign_up(page, "alice")
    assert await page.evaluate(PAGE_WIDTH) <= 375
    assert await page.is_hidden("#sidebar")
    await assert_on_screen(page, "#logout", 375)

    await page.click("#rooms-toggle")
    await page.wait_for_selector("#sidebar", state="visible")
    assert await page.get_attribute("#rooms-toggle", "aria-expanded") == "true"
    await create_room(page, LONG_NAME)  # through the sidebar's form; the room opens
    await page.wait_for_selector("#sidebar", state="hidden")
    await send(page, "y" * 300)

    assert await page.evaluate(PAGE_WIDTH) <= 375
    for selector in ("#send", "#leave", "#body", "#rooms-toggle", "#logout"):
        await assert_on_screen(page, selector, 375)
    assert await page.get_attribute("#rooms-toggle", "aria-expanded") == "false"
