"""Two people chatting live through the page, each in a browser context of their own."""

import pytest

from tests.browser.conftest import OpenPage
from tests.browser.helpers import create_room, send, shown_bodies, sign_up, until_shown

pytestmark = pytest.mark.slow


async def test_two_people_chat_both_ways_live(open_page: OpenPage) -> None:
    alice, bob = await open_page(), await open_page()
    await sign_up(alice, "alice")
    room_id = await create_room(alice, "general")
    await sign_up(bob, "bob")
    await bob.click(f"button.room[data-room-id='{room_id}']")
    await bob.click("#join")
    await until_shown(bob, 1)  # "bob joined"
    await until_shown(alice, 1)

    await send(alice, "hi bob")
    await until_shown(bob, 2)
    await send(bob, "hello alice")
    await until_shown(alice, 3)

    for page in (alice, bob):
        assert await shown_bodies(page) == ["bob joined", "hi bob", "hello alice"]
    assert await alice.text_content("#messages li[data-seq='2'] .author") == "alice"
    assert await alice.get_attribute("#messages li[data-seq='2']", "class") == "msg own"
    assert "own" not in (await bob.get_attribute("#messages li[data-seq='2']", "class") or "")
    assert await bob.text_content("#room-title") == "general"

    # alice's header followed bob's join live: the member count and the list.
    await alice.wait_for_selector("#members-toggle .members-count:text-is('2 members')")
    await alice.click("#members-toggle")
    members = await alice.eval_on_selector_all(
        "#members li",
        "items => items.map(item => [item.querySelector('.name').textContent,"
        " item.querySelector('.role')?.textContent ?? null])",
    )
    assert members == [["alice", "owner"], ["bob", None]]
