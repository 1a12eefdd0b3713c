"""What changes on the page without a reload: typing, the room list, unread counts."""

import pytest
from playwright.async_api import Page

from tests.browser.conftest import OpenPage
from tests.browser.helpers import open_room, send, sign_in, sign_up, until_shown
from tests.support import Api

pytestmark = pytest.mark.slow

ROOM_LIST_EVERY_MS = 10_000  # static/js/rooms.js


async def test_typing_shows_and_ends_with_the_message(open_page: OpenPage, api: Api) -> None:
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    room_id = await api.create_room(alice_token, "general")
    await api.join(bob_token, room_id)
    alice, bob = await open_page(), await open_page()
    for page, name in ((alice, "alice"), (bob, "bob")):
        await sign_in(page, name)
        await open_room(page, room_id)

    await bob.type("#body", "hel")
    await alice.wait_for_selector("#typing:text-is('bob is typing…')")
    assert await bob.text_content("#typing") == ""  # not about oneself

    await bob.type("#body", "lo")
    await bob.press("#body", "Enter")
    await until_shown(alice, 2)
    assert await alice.text_content("#typing") == ""


async def test_rooms_made_by_others_appear_without_a_reload(page: Page, api: Api) -> None:
    await page.clock.install()
    await sign_up(page, "alice")
    await page.wait_for_load_state("networkidle")  # the room list of the sign-in is read
    bob = await api.user_token("bob")
    room_id = await api.create_room(bob, "made-by-bob")
    room = f"#other-rooms button[data-room-id='{room_id}']"
    assert await page.locator(room).count() == 0

    async with page.expect_response("**/api/rooms?limit=200"):
        await page.clock.run_for(ROOM_LIST_EVERY_MS)

    await page.wait_for_selector(room)
    assert await page.text_content(f"{room} .name") == "made-by-bob"


async def test_unread_counts_for_rooms_not_open(page: Page, api: Api) -> None:
    alice = await api.user_token("alice")
    bob = await api.user_token("bob")
    quiet = await api.create_room(alice, "quiet")
    busy = await api.create_room(alice, "busy")
    await api.join(bob, busy)
    await sign_in(page, "alice")
    await open_room(page, quiet)
    await send(page, "alone here")

    await api.post(bob, busy, "one")
    await api.post(bob, busy, "two")

    badge = f"button[data-room-id='{busy}'] .unread"
    await page.wait_for_selector(f"{badge}:text-is('2')")
    assert await page.get_attribute(badge, "aria-label") == "2 unread messages"
    assert await page.locator(f"button[data-room-id='{quiet}'] .unread").count() == 0

    await open_room(page, busy)
    await until_shown(page, 3)
    assert await page.locator(badge).count() == 0
