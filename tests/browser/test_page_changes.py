"""The page and the chat features' frames: an edit and a delete made elsewhere show on the open
room, and the resume position moves past their seqs (a reconnect does not ask for them again)."""

import pytest
from playwright.async_api import Page

from chatd.interfaces.keys import WEBSOCKETS
from tests.browser.helpers import (
    auth_frames,
    create_room,
    send,
    sent_frames,
    shown_bodies,
    sign_up,
    until_shown,
)
from tests.support import Api

pytestmark = pytest.mark.slow

SHOWN = ["bob joined", "mine", "hello (edited)", "This message was deleted."]


async def test_edits_and_deletes_show_and_move_the_resume_position(page: Page, api: Api) -> None:
    await sign_up(page, "alice")
    room_id = await create_room(page, "general")
    bob = await api.user_token("bob")
    await api.join(bob, room_id)  # seq 1
    await send(page, "mine")  # seq 2
    first = await api.post(bob, room_id, "helo")  # seq 3
    second = await api.post(bob, room_id, "oops")  # seq 4
    await until_shown(page, second["seq"])
    base = f"/api/rooms/{room_id}/messages"
    status, _ = await api.call("PATCH", f"{base}/{first['seq']}", token=bob, json={"body": "hello"})
    assert status == 200  # seq 5
    assert (await api.call("DELETE", f"{base}/{second['seq']}", token=bob))[0] == 204  # seq 6
    await page.wait_for_selector("#messages li.deleted[data-seq='4']")
    assert await shown_bodies(page) == SHOWN

    frames = sent_frames(page)
    for socket in list(api.client.server.app[WEBSOCKETS]):
        await socket.close()
    await page.wait_for_selector("#status[data-state=reconnecting]")
    await page.wait_for_selector("#status[data-state=connected]")
    [auth] = auth_frames(frames)
    assert auth["resume"] == {str(room_id): 6}
    assert await shown_bodies(page) == SHOWN
