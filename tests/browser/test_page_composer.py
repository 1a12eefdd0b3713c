"""The message box and the room form: shown only where posting is possible, Enter sends and
Shift+Enter breaks the line, focus comes back, counters near the limits, nothing cut silently."""

import pytest
from playwright.async_api import Page

from tests.browser.helpers import create_room, shown_bodies, sign_in, sign_up, until_shown
from tests.support import Api

pytestmark = pytest.mark.slow

FOCUSED_ID = "() => document.activeElement && document.activeElement.id"


async def test_the_message_box_shows_only_in_a_joined_room(page: Page, api: Api) -> None:
    bob = await api.user_token("bob")
    room_id = await api.create_room(bob, "bobs-room")
    await sign_up(page, "alice")

    # Signed in, no room open: nothing to post into.
    assert await page.is_hidden("#composer")
    assert await page.is_hidden("#send")
    assert await page.text_content("#room-title") == "Pick a room"

    # A room not joined: Join, and no box.
    await page.click(f"#other-rooms button[data-room-id='{room_id}']")
    await page.wait_for_selector("#join", state="visible")
    assert await page.is_hidden("#composer")
    assert await page.is_hidden("#leave")
    assert "Join it" in (await page.text_content("#room-hint") or "")

    await page.click("#join")
    await page.wait_for_selector("#composer", state="visible")
    await until_shown(page, 1)  # "alice joined"
    assert await page.evaluate(FOCUSED_ID) == "body"

    await page.click("#leave")
    await page.wait_for_selector("#join", state="visible")
    assert await page.is_hidden("#composer")
    assert await page.text_content("#chat-error") == ""


async def test_enter_sends_and_shift_enter_breaks_the_line(page: Page) -> None:
    await sign_up(page, "alice")
    await create_room(page, "general")

    await page.click("#body")
    await page.keyboard.type("first line")
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("second line")
    assert await page.input_value("#body") == "first line\nsecond line"  # not sent yet
    await page.keyboard.press("Enter")

    await until_shown(page, 1)
    assert await shown_bodies(page) == ["first line\nsecond line"]
    assert await page.input_value("#body") == ""
    assert await page.evaluate(FOCUSED_ID) == "body"

    # The Send button too gives the focus back to the box.
    await page.fill("#body", "by the button")
    await page.click("#send")
    await until_shown(page, 2)
    assert await page.evaluate(FOCUSED_ID) == "body"


async def test_rooms_are_reachable_by_keyboard(page: Page, api: Api) -> None:
    alice = await api.user_token("alice")
    room_id = await api.create_room(alice, "general")
    await api.post(alice, room_id, "hello")
    await sign_in(page, "alice")

    room_button = f"#my-rooms button[data-room-id='{room_id}']"
    for _ in range(20):  # Tab through the page until the room has the focus
        if await page.evaluate(f'() => document.activeElement.matches("{room_button}")'):
            break
        await page.keyboard.press("Tab")
    else:
        pytest.fail("Tab never reached the room")
    await page.keyboard.press("Enter")

    await page.wait_for_selector(f"{room_button}[aria-current=true]")
    await until_shown(page, 1)
    assert await page.text_content("#room-title") == "general"


async def test_a_message_over_the_limit_is_counted_not_cut(page: Page) -> None:
    await sign_up(page, "alice")
    await create_room(page, "general")

    await page.fill("#body", "a" * 4001)
    assert len(await page.input_value("#body")) == 4001
    assert await page.text_content("#body-counter") == "1 over the limit"
    assert await page.is_disabled("#send")
    await page.press("#body", "Enter")  # refused by the page itself: nothing is sent
    assert len(await page.input_value("#body")) == 4001
    assert await page.locator("#messages li.msg").count() == 0

    await page.press("#body", "Backspace")
    assert await page.text_content("#body-counter") == "0 left"
    await page.press("#body", "Enter")
    await until_shown(page, 1)
    assert [len(body) for body in await shown_bodies(page)] == [4000]
    assert await page.text_content("#body-counter") == ""


async def test_a_room_name_over_the_limit_is_counted_not_cut(page: Page) -> None:
    await sign_up(page, "alice")

    await page.fill("#new-room-name", "r" * 90)
    assert await page.text_content("#room-name-counter") == "10 left"
    await page.fill("#new-room-name", "r" * 101)
    assert len(await page.input_value("#new-room-name")) == 101
    assert await page.text_content("#room-name-counter") == "1 over the limit"
    assert await page.is_disabled("#new-room button[type=submit]")

    await page.press("#new-room-name", "Backspace")
    room_id = await create_room(page, await page.input_value("#new-room-name"))
    assert room_id > 0
    assert await page.text_content("#room-title") == "r" * 100
