"""The README's screenshot: two people chatting, taken by this test.

`make screenshot` runs it with CHATD_SCREENSHOT=docs/screenshot.png; otherwise the picture goes
to the test's temporary directory (so the scenario is still checked by every run).
"""

import os
from pathlib import Path

import pytest

from tests.browser.conftest import OpenPage
from tests.browser.helpers import open_room, send, sign_in, until_shown
from tests.support import Api

pytestmark = pytest.mark.slow

CONVERSATION = [
    ("alice", "Morning! Did the deploy go out?"),
    ("bob", "Yes, 10 minutes ago. Two processes behind nginx, both healthy."),
    ("bob", "Messages posted on one show up on the other, in order."),
    ("alice", "Lovely. I'll tell the team."),
    ("alice", "Lunch at 12:30?"),
]


async def test_screenshot_of_two_people_chatting(
    open_page: OpenPage, api: Api, tmp_path: Path
) -> None:
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    status, room = await api.call(
        "POST",
        "/api/rooms",
        token=alice_token,
        json={"name": "general", "topic": "Anything goes; be kind"},
    )
    assert status == 201, room
    await api.create_room(alice_token, "deploys")
    await api.create_room(bob_token, "random")
    await api.join(bob_token, room["id"])
    carol_token = await api.user_token("carol")  # a DM waiting to be read, in the sidebar
    status, alice_user = await api.call("GET", "/api/me", token=alice_token)
    assert status == 200
    status, dm = await api.call(
        "POST", "/api/dms", token=carol_token, json={"user_id": alice_user["id"]}
    )
    assert status == 201, dm
    await api.post(carol_token, dm["id"], "Got a minute after lunch?")

    viewport = {"width": 1100, "height": 640}
    alice, bob = await open_page(viewport=viewport), await open_page(viewport=viewport)
    await sign_in(alice, "alice")
    await sign_in(bob, "bob")
    await open_room(alice, room["id"])
    await open_room(bob, room["id"])
    pages = {"alice": alice, "bob": bob}
    for seq, (who, text) in enumerate(CONVERSATION, start=2):
        await send(pages[who], text)
        await until_shown(alice, seq)
        await until_shown(bob, seq)
    await bob.fill("#body", "Sure, ")  # bob starts to answer: alice sees him typing
    await alice.wait_for_selector("#typing:has-text('bob is typing')")
    await alice.wait_for_selector("#members-toggle .online-count:text-is('2 online')")
    await alice.wait_for_selector(f"#dm-rooms button[data-room-id='{dm['id']}'] .unread")

    target = Path(os.environ.get("CHATD_SCREENSHOT") or tmp_path / "screenshot.png")
    png = await alice.screenshot(path=target)  # also written to `target`
    assert png.startswith(b"\x89PNG")
