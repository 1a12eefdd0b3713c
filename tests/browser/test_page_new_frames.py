"""Frames the page does not know (a newer server's) are ignored quietly; a stream position among
them moves the room's resume position only when it is the next one, and a `read` marker never
does. (`message_edited` and `message_deleted` are known: test_page_changes.py.)"""

import pytest
from playwright.async_api import Page

from tests.browser.helpers import (
    Relay,
    create_room,
    send,
    shown_bodies,
    sign_up,
    until,
    until_connected,
)

pytestmark = pytest.mark.slow

BOB = {"id": 999_999, "username": "bob", "created_at": "2026-11-29T12:00:00+00:00"}


async def test_unknown_frames_are_ignored_and_only_the_next_seq_is_a_position(
    page: Page,
) -> None:
    relay = Relay()
    await page.route_web_socket("**/ws", relay.handle)
    await sign_up(page, "alice")
    room_id = await create_room(page, "general")
    await send(page, "one")  # seq 1: the resume position of the room is 1

    poll = {"type": "poll_created", "question": "lunch?"}  # a frame of the future
    relay.to_page(**poll, room_id=room_id, seq=2)  # the next position: taken
    relay.to_page(type="read", room_id=room_id, seq=3)  # a read marker: not a position
    relay.to_page(type="poll_closed", room_id=room_id, seq=4, target_seq=2)  # not the next
    relay.to_page(**poll, room_id=404, seq=1)  # a room the page is not in
    relay.to_page(type="something_from_the_future", room_id=room_id, payload={"seq": 9})
    relay.to_page(type="typing", room_id=room_id, user=BOB)  # after all the others: a marker
    await page.wait_for_selector("#typing:text-is('bob is typing…')")

    await relay.routes[-1].close(code=1012, reason="restarting")  # the page reconnects

    def resumes() -> list[dict]:
        return [frame["resume"] for frame in relay.sent if frame["type"] == "auth"]

    await until(lambda: len(resumes()) == 2, within=30, what="the page reconnects")
    await until_connected(page)
    assert resumes() == [{}, {str(room_id): 2}]
    assert await shown_bodies(page) == ["one"]
    assert await page.text_content("#chat-error") == ""
