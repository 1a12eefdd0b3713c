"""The layout at desktop and phone width: long names never push Send or Leave off-screen, and
at 375 px the sidebar folds away and nothing scrolls sideways."""

import pytest
from playwright.async_api import Page

from tests.browser.conftest import OpenPage
from tests.browser.helpers import create_room, open_room, send, sign_in, sign_up
from tests.support import Api

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


async def test_phone_width_holds_dms_invitations_menus_and_the_editor(
    open_page: OpenPage, api: Api
) -> None:
    names = ["a" * 32, "b" * 32]  # the longest usernames
    me, other = await api.user_token(names[0]), await api.user_token(names[1])
    status, you = await api.call("GET", "/api/me", token=other)
    assert status == 200
    status, dm = await api.call("POST", "/api/dms", token=me, json={"user_id": you["id"]})
    assert status == 201
    status, secret = await api.call(
        "POST", "/api/rooms", token=other, json={"name": LONG_NAME, "private": True}
    )
    assert status == 201
    status, me_user = await api.call("GET", "/api/me", token=me)
    assert status == 200
    path = f"/api/rooms/{secret['id']}/invitations"
    status, _ = await api.call("POST", path, token=other, json={"user_id": me_user["id"]})
    assert status == 201
    room_id = await api.create_room(me, LONG_NAME)
    await api.join(other, room_id)

    page = await open_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    await sign_in(page, names[0])
    await page.click("#rooms-toggle")
    await page.wait_for_selector(f"#invitations li[data-room-id='{secret['id']}']")
    slid_in = "() => document.getElementById('sidebar').getBoundingClientRect().left >= 0"
    await page.wait_for_function(slid_in)  # the drawer's slide has ended
    assert await page.evaluate(PAGE_WIDTH) <= 375
    for selector in (
        f"#dm-rooms button[data-room-id='{dm['id']}']",
        f"#invitations li[data-room-id='{secret['id']}'] button:text-is('Decline')",
        "#new-room-private",
    ):
        await assert_on_screen(page, selector, 375)

    await open_room(page, room_id)
    await send(page, "y" * 300)
    await page.click("#messages li.own .body")  # a tap shows what can be done to it
    await assert_on_screen(page, "#messages li.own [data-action=delete]", 375)
    await page.click("#messages li.own [data-action=edit]")
    await assert_on_screen(page, "#messages li.own [data-action=save]", 375)
    await assert_on_screen(page, "#messages li.own .edit-box", 375)
    await page.click("#members-toggle")
    await page.click(f"#members li[data-user-id='{you['id']}'] button.more")
    for action in ("message", "promote", "kick", "ban"):
        await assert_on_screen(page, f"#members [data-action={action}]", 375)
    await assert_on_screen(page, "#invite button[type=submit]", 375)
    assert await page.evaluate(PAGE_WIDTH) <= 375
